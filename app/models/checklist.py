"""Checklist templates, their frozen versions and items."""
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.i18n import Bilingual
from app.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.site import Site

SEVERITIES = ("critical", "major", "minor")


class ChecklistTemplate(Bilingual, db.Model):
    """A checklist: in the shared library (`site_id` NULL, kept by admins) or a site's own copy.

    A site's copy keeps the library's code, so reports that group by code read across sites; a site
    walks its copy where it has one and the library template otherwise.
    """

    __table_args__ = (
        UniqueConstraint("site_id", "code"),
        # NULLs are distinct in a unique constraint: the library's own codes need an index of their own.
        Index("uq_checklist_template_library_code", "code", unique=True,
              sqlite_where=db.text("site_id IS NULL"), postgresql_where=db.text("site_id IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # on_fail: "work_order" raises orders; anything else records only.
    on_fail: Mapped[str] = mapped_column(String(32), default="work_order")

    versions: Mapped[list["TemplateVersion"]] = relationship(
        back_populates="template", order_by="TemplateVersion.number"
    )
    site: Mapped["Site | None"] = relationship()

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
