"""Sites (estates), their areas and teams."""
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.i18n import Bilingual

TEAM_CODES = ("cleaning", "greenery", "security", "engineering", "customer_service")


class Site(Bilingual, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Handover: days a contractor has to rectify a defect, and how long an owner's link lasts.
    rectification_days: Mapped[int] = mapped_column(default=15)
    owner_link_days: Mapped[int] = mapped_column(default=90)

    areas: Mapped[list["Area"]] = relationship(back_populates="site", order_by="Area.id")
    teams: Mapped[list["Team"]] = relationship(back_populates="site", order_by="Team.id")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Area(Bilingual, db.Model):
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    site: Mapped[Site] = relationship(back_populates="areas")


class Team(Bilingual, db.Model):
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    # Optional outbound notification: a URL and its format ("generic" JSON or "wecom" group robot).
    webhook_url: Mapped[str | None] = mapped_column(Text)
    webhook_format: Mapped[str] = mapped_column(String(16), default="generic")
    # A contractor (施工单位) of the developer, for rectifying pre-handover defects.
    is_contractor: Mapped[bool] = mapped_column(default=False)

    site: Mapped[Site] = relationship(back_populates="teams")


class SlaRule(db.Model):
    """Hours from raising to due, per team and severity."""

    __table_args__ = (UniqueConstraint("team_id", "severity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    severity: Mapped[str] = mapped_column(String(16))
    hours: Mapped[int]

    team: Mapped[Team] = relationship()
