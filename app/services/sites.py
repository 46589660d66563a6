"""Sites, their areas and teams: created and renamed by managers; never deleted (history needs them)."""
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.models import Area, Site, SlaRule, Team
from app.services.workorders import FALLBACK_SLA_HOURS
from app.services.errors import Refused

CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class SiteRefused(Refused):
    """A change to a site's settings its rules do not allow."""


def _names(zh: str, en: str) -> tuple[str, str]:
    zh, en = zh.strip()[:120], en.strip()[:120]
    if not zh or not en:
        raise SiteRefused(_l("Give the name in Chinese and in English."))
    return zh, en


def update_site(session, site: Site, name_zh: str, name_en: str, timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SiteRefused(_l("Unknown time zone (e.g. Asia/Shanghai).")) from None
    site.name_zh, site.name_en = _names(name_zh, name_en)
    site.timezone = timezone


def add_area(session, site: Site, code: str, name_zh: str, name_en: str) -> Area:
    code = code.strip().lower()
    if not CODE.match(code):
        raise SiteRefused(_l("The code is lowercase letters, digits and _ (e.g. sample_unit_b)."))
    if session.scalar(select(Area).where(Area.site_id == site.id, Area.code == code)):
        raise SiteRefused(_l("This site already has %(code)s.", code=code))
    zh, en = _names(name_zh, name_en)
    area = Area(site=site, code=code, name_zh=zh, name_en=en)
    session.add(area)
    return area


def add_team(session, site: Site, code: str, name_zh: str, name_en: str, contractor: bool) -> Team:
    """A new team (e.g. a contractor for handover rectification) with the fallback SLA hours."""
    code = code.strip().lower()
    if not CODE.match(code):
        raise SiteRefused(_l("The code is lowercase letters, digits and _ (e.g. sample_unit_b)."))
    if session.scalar(select(Team).where(Team.site_id == site.id, Team.code == code)):
        raise SiteRefused(_l("This site already has %(code)s.", code=code))
    zh, en = _names(name_zh, name_en)
    team = Team(site=site, code=code, name_zh=zh, name_en=en, is_contractor=contractor)
    session.add(team)
    for severity, hours in FALLBACK_SLA_HOURS.items():
        session.add(SlaRule(team=team, severity=severity, hours=hours))
    return team


def rename(session, obj, name_zh: str, name_en: str) -> None:
    obj.name_zh, obj.name_en = _names(name_zh, name_en)
