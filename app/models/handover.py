"""Pre-handover inspection (模拟验收): buildings, units, inspections, defects, owner links."""
from datetime import datetime

from sqlalchemy import Column, Float, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.checklist import ChecklistItem, TemplateVersion
from app.models.photo import Photo
from app.models.site import Site
from app.models.types import UTCDateTime, utcnow

# Rooms in walking order; bedrooms and bathrooms repeat as often as the unit has them.
ROOM_ORDER = ("entrance", "living_room", "bedroom", "kitchen", "bathroom", "balcony", "whole_unit")
REPEATING_ROOMS = ("bedroom", "bathroom")
INSPECTION_RESULTS = ("pass", "defect", "na")

defect_photo = Table(
    "defect_photo",
    db.metadata,
    Column("defect_id", ForeignKey("defect.id"), primary_key=True),
    Column("photo_id", ForeignKey("photo.id"), primary_key=True),
)
check_photo = Table(
    "defect_check_photo",
    db.metadata,
    Column("check_id", ForeignKey("defect_check.id"), primary_key=True),
    Column("photo_id", ForeignKey("photo.id"), primary_key=True),
)


class Building(db.Model):
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))  # "3" for 3栋 / Building 3

    site: Mapped[Site] = relationship()
    units: Mapped[list["Unit"]] = relationship(back_populates="building",
                                               order_by=lambda: (Unit.unit_no, Unit.floor, Unit.room))


class Unit(db.Model):
    __table_args__ = (UniqueConstraint("building_id", "unit_no", "room"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"))
    unit_no: Mapped[str] = mapped_column(String(10))   # 单元
    floor: Mapped[int]
    room: Mapped[str] = mapped_column(String(10))      # "1202"
    owner_name: Mapped[str] = mapped_column(String(120), default="")
    owner_phone: Mapped[str] = mapped_column(String(40), default="")
    bedrooms: Mapped[int] = mapped_column(default=2)
    bathrooms: Mapped[int] = mapped_column(default=1)
    layout_id: Mapped[int | None] = mapped_column(ForeignKey("layout.id"), index=True)  # 户型

    site: Mapped[Site] = relationship()
    layout = relationship("Layout")
    building: Mapped[Building] = relationship(back_populates="units")
    inspections: Mapped[list["Inspection"]] = relationship(back_populates="unit",
                                                           order_by="Inspection.id")

    @property
    def label(self) -> str:
        """Building-unit-room, as written on keys and letters: 3-1-1202."""
        return f"{self.building.code}-{self.unit_no}-{self.room}"


class Inspection(db.Model):
    """One walk of a unit with its owner: the first (initial) or a re-inspection of its defects."""

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="initial")  # initial | reinspection
    version_id: Mapped[int] = mapped_column(ForeignKey("template_version.id"))
    engineer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    owner_present: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")  # in_progress | signed
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    engineer_signed_name: Mapped[str | None] = mapped_column(String(120))
    owner_signed_name: Mapped[str | None] = mapped_column(String(120))
    engineer_signature: Mapped[str | None] = mapped_column(String(64))  # photo-store key of a PNG
    owner_signature: Mapped[str | None] = mapped_column(String(64))

    unit: Mapped[Unit] = relationship(back_populates="inspections")
    version: Mapped[TemplateVersion] = relationship()
    engineer = relationship("User")
    defects: Mapped[list["Defect"]] = relationship(back_populates="inspection", order_by="Defect.id")
    checks: Mapped[list["DefectCheck"]] = relationship(back_populates="reinspection",
                                                       order_by="DefectCheck.id")

    @property
    def signed(self) -> bool:
        return self.status == "signed"


class InspectionAnswer(db.Model):
    __table_args__ = (UniqueConstraint("inspection_id", "room_key", "item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    room_key: Mapped[str] = mapped_column(String(24))  # "bedroom-2"
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_item.id"))
    result: Mapped[str | None] = mapped_column(String(8))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[ChecklistItem] = relationship()


class Defect(db.Model):
    """A defect found in a room: from a checklist item, or a concern the owner raised."""

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_answer.id"), unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_item.id"))
    room_key: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    owner_concern: Mapped[bool] = mapped_column(default=False)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))  # engineering or a contractor
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The pin on the floor plan: fractions (0..1) of the plan of the layout it was placed on.
    pin_layout_id: Mapped[int | None] = mapped_column(ForeignKey("layout.id"), index=True)
    pin_x: Mapped[float | None] = mapped_column(Float)
    pin_y: Mapped[float | None] = mapped_column(Float)

    inspection: Mapped[Inspection] = relationship(back_populates="defects")
    unit: Mapped[Unit] = relationship()
    item: Mapped[ChecklistItem | None] = relationship()
    team = relationship("Team")
    work_order = relationship("WorkOrder")
    photos: Mapped[list[Photo]] = relationship(secondary=defect_photo, order_by="Photo.id")

    def what(self) -> str:
        """What is wrong: the words the engineer (or the owner) wrote, else the checklist's wording."""
        return self.description or (self.item.t("text") if self.item else "")

    def standard(self) -> str:
        """The checklist's wording, when the defect has its own description to show first."""
        return self.item.t("text") if self.item and self.description else ""


class DefectCheck(db.Model):
    """The owner's verdict on one fix during a re-inspection."""

    __table_args__ = (UniqueConstraint("reinspection_id", "defect_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reinspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    defect_id: Mapped[int] = mapped_column(ForeignKey("defect.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(16))  # accepted | rejected
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reinspection: Mapped[Inspection] = relationship(back_populates="checks")
    defect: Mapped[Defect] = relationship()
    photos: Mapped[list[Photo]] = relationship(secondary=check_photo, order_by="Photo.id")


class OwnerLink(db.Model):
    """A private link for a unit's owner; only a hash of the token is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    unit: Mapped[Unit] = relationship()
