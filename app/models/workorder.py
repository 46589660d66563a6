"""Work orders and their append-only event history."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.checklist import ChecklistItem
from app.models.round import Answer
from app.models.site import Area, Site, Team
from app.models.types import UTCDateTime, utcnow

STATUSES = ("open", "in_progress", "resolved", "closed", "cancelled")
OPEN_STATUSES = ("open", "in_progress", "resolved")


class WorkOrder(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    source: Mapped[str] = mapped_column(String(16))  # round | handover | manual
    # One order per failed answer, ever: the unique key makes retries harmless.
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answer.id"), unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_item.id"))
    title_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    site: Mapped[Site] = relationship()
    team: Mapped[Team] = relationship()
    area: Mapped[Area | None] = relationship()
    answer: Mapped[Answer | None] = relationship()
    item: Mapped[ChecklistItem | None] = relationship()
    events: Mapped[list["WorkOrderEvent"]] = relationship(
        back_populates="order", order_by="WorkOrderEvent.id"
    )

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    @property
    def note(self) -> str:
        return self.answer.note if self.answer else ""

    @property
    def before_photos(self):
        return self.answer.photos if self.answer else []


class WorkOrderEvent(db.Model):
    """Append-only: rows are added, never updated or deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")

    order: Mapped[WorkOrder] = relationship(back_populates="events")
    actor = relationship("User")
