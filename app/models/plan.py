"""Unit layouts (户型) and their floor plans: one plan image per layout, rooms drawn on it as rectangles."""
from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.site import Site
from app.models.types import UTCDateTime


class Layout(db.Model):
    """A layout repeated across a site's units ("A 3室2厅2卫"), with its floor plan once uploaded."""

    __table_args__ = (UniqueConstraint("site_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    plan_key: Mapped[str | None] = mapped_column(String(64))  # photo-store key of the normalised PNG
    plan_width: Mapped[int | None]
    plan_height: Mapped[int | None]
    plan_uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    plan_uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    site: Mapped[Site] = relationship()
    rooms: Mapped[list["PlanRoom"]] = relationship(back_populates="layout", order_by="PlanRoom.id",
                                                   cascade="all, delete-orphan")

    @property
    def has_plan(self) -> bool:
        return bool(self.plan_key)


class PlanRoom(db.Model):
    """One room drawn on a layout's plan: a rectangle in fractions (0..1) of the plan's width and height."""

    id: Mapped[int] = mapped_column(primary_key=True)
    layout_id: Mapped[int] = mapped_column(ForeignKey("layout.id"), index=True)
    room_key: Mapped[str] = mapped_column(String(24))  # "bathroom-2", as inspections name rooms
    x0: Mapped[float] = mapped_column(Float)
    y0: Mapped[float] = mapped_column(Float)
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)

    layout: Mapped[Layout] = relationship(back_populates="rooms")

    @property
    def area(self) -> float:
        return (self.x1 - self.x0) * (self.y1 - self.y0)

    def contains(self, x: float, y: float) -> bool:
        """Whether the point (fractions of the plan) falls in this rectangle, edges included."""
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1
