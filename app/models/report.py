"""Resident reports: places with a QR code, the routing table, and each report with its private link."""
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.i18n import Bilingual
from app.models.photo import Photo
from app.models.site import Area, Site, Team
from app.models.types import UTCDateTime, utcnow

# What a resident can report (the public form's choices, and the routing table's rows).
REPORT_CATEGORIES = ("cleaning", "greenery", "parking", "repairs", "noise", "other")
# Where a code is posted.
PLACE_KINDS = ("lobby", "lift", "garage", "facility", "grounds", "other")


class ReportPlace(Bilingual, db.Model):
    """A place on a site with a QR code posted in it; its code is public (it is on the wall), and
    revoking it stops the code accepting reports."""

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    kind: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship()
    area: Mapped[Area | None] = relationship()

    @property
    def live(self) -> bool:
        return self.revoked_at is None


class ReportRoute(db.Model):
    """The team a category of report goes to on a site: for one place, or (place none) for every place."""

    __table_args__ = (UniqueConstraint("site_id", "category", "place_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("report_place.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))

    place: Mapped[ReportPlace | None] = relationship()
    team: Mapped[Team] = relationship()


report_photo = Table(
    "report_photo", db.Model.metadata,
    Column("report_id", ForeignKey("resident_report.id"), primary_key=True),
    Column("photo_id", ForeignKey("photo.id"), primary_key=True),
)


class ResidentReport(db.Model):
    """One resident's report from a place's QR code, and the private link they follow it by (only a hash
    of its token is stored). Merged reports point at the same order; each keeps its own answer."""

    __table_args__ = (Index("ix_resident_report_order", "order_id"),
                      Index("ix_resident_report_site_created", "site_id", "created_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    place_id: Mapped[int] = mapped_column(ForeignKey("report_place.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"))
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The resident's one tap once the order is closed: satisfied | unsatisfied, and when.
    answer: Mapped[str | None] = mapped_column(String(16))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    place: Mapped[ReportPlace] = relationship()
    order = relationship("WorkOrder")
    photos: Mapped[list[Photo]] = relationship(secondary=report_photo, order_by=Photo.id)


class RateHit(db.Model):
    """One counted request against a rate limit (a bucket such as "place:<code>" or "addr:<ip>"),
    kept in the database so every app server counts the same hits."""

    __table_args__ = (Index("ix_rate_hit_bucket_at", "bucket", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
