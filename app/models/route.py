"""Routes, their checkpoints and schedules."""
import secrets
from datetime import datetime, time

from sqlalchemy import Column, ForeignKey, String, Table, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.checklist import ChecklistTemplate
from app.models.i18n import Bilingual
from app.models.site import Area, Site
from app.models.types import UTCDateTime, utcnow

checkpoint_template = Table(
    "checkpoint_template",
    db.metadata,
    Column("checkpoint_id", ForeignKey("checkpoint.id"), primary_key=True),
    Column("template_id", ForeignKey("checklist_template.id"), primary_key=True),
)


class Route(Bilingual, db.Model):
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    site: Mapped[Site] = relationship()
    checkpoints: Mapped[list["Checkpoint"]] = relationship(
        back_populates="route", order_by="Checkpoint.position"
    )
    schedules: Mapped[list["Schedule"]] = relationship(back_populates="route")


class Checkpoint(Bilingual, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("route.id"), index=True)
    position: Mapped[int]
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    # The secret in the checkpoint's printed QR code: scanning it proves the phone was there.
    qr_token: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: secrets.token_urlsafe(16))
    # Rounds already walked refer to it: a checkpoint leaves the route by deactivation, never deletion.
    active: Mapped[bool] = mapped_column(default=True)

    route: Mapped[Route] = relationship(back_populates="checkpoints")
    area: Mapped[Area] = relationship()
    templates: Mapped[list[ChecklistTemplate]] = relationship(
        secondary=checkpoint_template, order_by="ChecklistTemplate.id"
    )


class Schedule(db.Model):
    """A route walked in a slot (morning/afternoon) on some weekdays, with a tolerance."""

    __table_args__ = (UniqueConstraint("route_id", "slot"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("route.id"), index=True)
    slot: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    tolerance_minutes: Mapped[int] = mapped_column(default=15)
    # ISO weekdays the schedule runs on, e.g. "1234567" (Monday = 1).
    weekdays: Mapped[str] = mapped_column(String(7), default="1234567")
    active: Mapped[bool] = mapped_column(default=True)

    route: Mapped[Route] = relationship(back_populates="schedules")

    def runs_on(self, iso_weekday: int) -> bool:
        return self.active and str(iso_weekday) in self.weekdays


class CheckIn(db.Model):
    """A supervisor scanned a checkpoint's QR code during a round (the first scan counts)."""

    __table_args__ = (UniqueConstraint("round_id", "checkpoint_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoint.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
