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
