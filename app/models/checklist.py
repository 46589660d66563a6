"""Checklist templates, their frozen versions and items."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.i18n import Bilingual
from app.models.types import UTCDateTime, utcnow

SEVERITIES = ("critical", "major", "minor")


class ChecklistTemplate(Bilingual, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # on_fail: "work_order" raises orders; anything else records only.
    on_fail: Mapped[str] = mapped_column(String(32), default="work_order")

    versions: Mapped[list["TemplateVersion"]] = relationship(
        back_populates="template", order_by="TemplateVersion.number"
    )

    @property
    def current_version(self) -> "TemplateVersion":
        return self.versions[-1]


class TemplateVersion(db.Model):
    """One frozen set of items; a round keeps the version it was walked with."""

    __table_args__ = (UniqueConstraint("template_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_template.id"))
    number: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    template: Mapped[ChecklistTemplate] = relationship(back_populates="versions")
    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="version", order_by="ChecklistItem.position"
    )


class ChecklistItem(Bilingual, db.Model):
    __table_args__ = (UniqueConstraint("version_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("template_version.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    team_code: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    photo_required_on_fail: Mapped[bool] = mapped_column(default=False)
    points: Mapped[int] = mapped_column(default=0)
    room: Mapped[str | None] = mapped_column(String(40))

    version: Mapped[TemplateVersion] = relationship(back_populates="items")


class SiteItemTeam(db.Model):
    """A site's override of the team responsible for one item (by template and item code)."""

    __table_args__ = (UniqueConstraint("site_id", "template_code", "item_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    template_code: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
