"""The daily duty log (工作日志): compiled from the day's data; people add remarks and comments."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.site import Site
from app.models.types import UTCDateTime


class DutyLog(db.Model):
    __table_args__ = (UniqueConstraint("site_id", "date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    date: Mapped[date] = mapped_column(Date)
    remarks: Mapped[str] = mapped_column(Text, default="")
    remarks_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    remarks_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")  # the manager's 批阅
    comment_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship()
    remarks_by = relationship("User", foreign_keys=[remarks_by_id])
    comment_by = relationship("User", foreign_keys=[comment_by_id])


class AppearanceCheck(db.Model):
    """A person's appearance at the morning briefing; lapses are coaching notes, not work orders."""

    __table_args__ = (UniqueConstraint("site_id", "date", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    date: Mapped[date] = mapped_column(Date)
    person_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    checked_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    lapses: Mapped[str] = mapped_column(Text, default="")  # item codes of the staff_appearance template
    note: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[int] = mapped_column(default=0)  # section 8 of the domain brief: -1 per lapse

    person = relationship("User", foreign_keys=[person_id])
    checked_by = relationship("User", foreign_keys=[checked_by_id])

    @property
    def lapse_codes(self) -> list[str]:
        return [c for c in self.lapses.split(",") if c]
