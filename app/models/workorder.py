"""Work orders, their photos, their append-only event history, notifications and webhook deliveries."""
import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.checklist import ChecklistItem
from app.models.photo import Photo
from app.models.round import Answer
from app.models.site import Area, Site, Team
from app.models.types import UTCDateTime, utcnow

STATUSES = ("open", "in_progress", "blocked", "resolved", "closed", "cancelled")
# Not yet closed or cancelled: the team (or the supervisor) still has something to do.
OPEN_STATUSES = ("open", "in_progress", "blocked", "resolved")
# The crew's part is not done: these can be overdue.
ACTIVE_STATUSES = ("open", "in_progress", "blocked")
SOURCES = ("round", "handover", "manual", "complaint", "resident")


class WorkOrder(db.Model):
    __table_args__ = (Index("ix_work_order_team_status_due", "team_id", "status", "due_at"),
                      # The dashboard's per-site figures read only this index (due, fixed, reopened).
                      Index("ix_work_order_site_figures", "site_id", "status", "closed_at", "due_at", "resolved_at",
                            "reopen_count"))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    source: Mapped[str] = mapped_column(String(16))  # round | handover | manual | complaint | resident
    # One order per failed answer, ever: the unique key makes retries harmless.
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answer.id"), unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_item.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)  # handover
    title_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(default=0)
    # Owner complaints (first-contact ownership: created_by owns the follow-up).
    owner_name: Mapped[str | None] = mapped_column(String(120))
    owner_unit: Mapped[str | None] = mapped_column(String(60))
    owner_phone: Mapped[str | None] = mapped_column(String(40))
    callback: Mapped[str | None] = mapped_column(String(16))  # None | due | satisfied | unsatisfied
    # Resident reports: who triaged the order (its owner for the follow-up, first-contact ownership) and
    # when; and the one note the reporting residents read (why it is not a problem).
    triaged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    public_note: Mapped[str | None] = mapped_column(Text)
    # Escalations sent, so the sweep raises each one once.
    overdue_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unverified_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    site: Mapped[Site] = relationship()
    team: Mapped[Team] = relationship()
    area: Mapped[Area | None] = relationship()
    answer: Mapped[Answer | None] = relationship(back_populates="work_order")
    item: Mapped[ChecklistItem | None] = relationship()
    unit = relationship("Unit")
    assignee = relationship("User", foreign_keys=[assignee_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    triaged_by = relationship("User", foreign_keys=[triaged_by_id])
    events: Mapped[list["WorkOrderEvent"]] = relationship(
        back_populates="order", order_by="WorkOrderEvent.id"
    )
    photo_links: Mapped[list["WorkOrderPhoto"]] = relationship(
        back_populates="order", order_by="WorkOrderPhoto.id"
    )

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def place(self) -> str:
        """Where the crew goes: the area, or the estate and the unit (3-1-1201) of a handover defect."""
        if self.area is not None:
            return self.area.t()
        if self.unit is not None:
            return f"{self.site.t()} {self.unit.label}"
        return self.site.t()

    @property
    def note(self) -> str:
        return self.answer.note if self.answer else self.description

    @property
    def before_photos(self) -> list[Photo]:
        own = [link.photo for link in self.photo_links if link.kind == "before"]
        return (list(self.answer.photos) if self.answer else []) + own

    @property
    def after_photos(self) -> list[Photo]:
        """The photos of the latest fix (an earlier, rejected fix stays in the history).

        Read from the photo links, not the events, so a list that loads the links pays nothing per row."""
        after = [link for link in self.photo_links if link.kind == "after"]
        latest = max((link.event_id or 0 for link in after), default=None)
        return [link.photo for link in after if (link.event_id or 0) == latest]

    @property
    def last_reopen(self) -> "WorkOrderEvent | None":
        """The latest reopen, while the order is back with the team."""
        reopens = [e for e in self.events if e.kind == "reopened"]
        return reopens[-1] if reopens and self.status in ("open", "in_progress") else None

    def is_overdue(self, now: datetime) -> bool:
        return self.status in ACTIVE_STATUSES and self.due_at < now

    @property
    def flagged(self) -> bool:
        """Reopened twice or more: the fix keeps not holding."""
        return self.reopen_count >= 2


class WorkOrderPhoto(db.Model):
    """A photo on an order: before (raised by hand), after (resolved) or with a comment."""

    __table_args__ = (UniqueConstraint("event_id", "photo_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("work_order_event.id"))
    kind: Mapped[str] = mapped_column(String(16))

    order: Mapped[WorkOrder] = relationship(back_populates="photo_links")
    event: Mapped["WorkOrderEvent | None"] = relationship(back_populates="photo_links")
    photo: Mapped[Photo] = relationship()


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
    # An escalation's or a callback's code; for take-overs, reassignments and changes, JSON of
    # what it was and what it became ({"team": [from_id, to_id]}, {"severity": [...], "due": [...]}).
    detail: Mapped[str] = mapped_column(Text, default="")
    # The phone's id of the action that added this event: a resent action is recognised (unique).
    op: Mapped[str | None] = mapped_column(String(64), unique=True)

    order: Mapped[WorkOrder] = relationship(back_populates="events")
    actor = relationship("User")
    photo_links: Mapped[list[WorkOrderPhoto]] = relationship(back_populates="event",
                                                             order_by="WorkOrderPhoto.id")

    @property
    def photos(self) -> list[Photo]:
        return [link.photo for link in self.photo_links]

    @property
    def changes(self) -> dict[str, list]:
        """What a take-over, reassignment or change moved from → to, keyed by field."""
        if self.kind not in ("taken_over", "reassigned", "changed", "triaged") or not self.detail.startswith("{"):
            return {}
        return json.loads(self.detail)


class Notification(db.Model):
    """An in-app notice for one user (a manager), e.g. an order became overdue."""

    __table_args__ = (UniqueConstraint("user_id", "order_id", "kind"),
                      Index("ix_notification_user_read", "user_id", "read_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"))
    kind: Mapped[str] = mapped_column(String(16))  # overdue | unverified | blocked
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[WorkOrder] = relationship()


class WebhookDelivery(db.Model):
    """Outbox: one message to a team's webhook, retried a bounded number of times."""

    __table_args__ = (Index("ix_webhook_delivery_pending", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"))
    event: Mapped[str] = mapped_column(String(16))  # raised | overdue
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)  # JSON, already in the team's format
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
