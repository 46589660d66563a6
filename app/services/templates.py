"""Checklist templates: versions frozen once used, item edits, and YAML in the checklists.yaml shape."""
import re

import yaml
from sqlalchemy import exists, select

from app.models import ChecklistItem, ChecklistTemplate, Inspection, RoundStop, Team, TemplateVersion
from app.models.checklist import SEVERITIES

ITEM_FIELDS = ("text_zh", "text_en", "category", "team_code", "severity", "photo_required_on_fail", "points")

# The categories a checklist offers depend on its kind: a unit's handover inspection checks water and
# power, walls and fixtures; everything walked on a round (patrols, briefings, appearance) checks the
# estate and its staff. Each code has a label in app.template_helpers.CATEGORY_LABELS.
HANDOVER_KINDS = ("unit_inspection",)
HANDOVER_CATEGORIES = ("tests", "electrical", "plumbing", "gas", "doors_windows", "walls_ceilings", "floors",
                       "fixtures", "labels", "design", "cleanliness", "safety", "records")
ROUND_CATEGORIES = ("cleanliness", "hygiene", "greenery", "facilities", "safety", "fire_safety",
                    "security_equipment", "parking", "signage", "rules", "supplies", "inventory", "staff_conduct",
                    "appearance", "communication", "service", "follow_up", "records", "briefing", "escalation",
                    "conduct", "grooming", "uniform")


def categories_for(tpl: ChecklistTemplate) -> tuple[str, ...]:
    """The categories an item of this template may have, in the order the item form offers them."""
    return HANDOVER_CATEGORIES if tpl.kind in HANDOVER_KINDS else ROUND_CATEGORIES


def item_teams(session, site_ids: list[int]) -> dict[str, Team]:
    """Team code → a team of the manager's sites bearing it (its name is what the page shows).

    Templates are shared by every site while teams belong to a site; items name a team by code.
    Contractors rectify handover defects by routing, not by a checklist item, so they are left out.
    """
    teams = {}
    for team in session.scalars(select(Team).where(Team.site_id.in_(site_ids), Team.is_contractor.is_(False))
                                .order_by(Team.site_id, Team.id)):
        teams.setdefault(team.code, team)
    return teams


class TemplateRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def is_used(session, version: TemplateVersion) -> bool:
    """A version some round or inspection was walked with: it must never change again."""
    return bool(session.scalar(select(exists().where(RoundStop.version_id == version.id)))
                or session.scalar(select(exists().where(Inspection.version_id == version.id))))


def editable_version(session, tpl: ChecklistTemplate) -> TemplateVersion:
    """The version to edit: the current one if unused, else a new copy of it."""
    current = tpl.current_version
    if not is_used(session, current):
        return current
    new = TemplateVersion(template=tpl, number=current.number + 1)
    for item in current.items:
        new.items.append(ChecklistItem(code=item.code, position=item.position, room=item.room,
                                       **{f: getattr(item, f) for f in ITEM_FIELDS}))
    session.add(new)
    session.flush()
    return new


def _validate(session, tpl: ChecklistTemplate, code: str | None, fields: dict) -> None:
    from flask_babel import lazy_gettext as _l

    if not fields.get("text_zh", "").strip() or not fields.get("text_en", "").strip():
        raise TemplateRefused(_l("Both the Chinese and the English text are needed."))
    if fields.get("severity") not in SEVERITIES:
        raise TemplateRefused(_l("Choose a severity."))
    if not fields.get("team_code") or not session.scalar(select(exists().where(Team.code == fields["team_code"]))):
        raise TemplateRefused(_l("Choose a team."))
    if "category" in fields:
        current = next((i.category for i in tpl.current_version.items if i.code == code), None) if code else None
        # An item imported with an older category keeps it; a new choice must fit the checklist's kind.
        if fields["category"] not in categories_for(tpl) and fields["category"] != current:
            raise TemplateRefused(_l("Choose a category of this kind of checklist."))


def save_item(session, tpl: ChecklistTemplate, code: str | None, fields: dict) -> ChecklistItem:
    """Change one item (or add one when `code` is None); rounds already walked keep their version."""
    _validate(session, tpl, code, fields)
    version = editable_version(session, tpl)
    if code is None:
        base = "".join(ch if ch.isalnum() else "_" for ch in fields["text_en"].lower())[:40].strip("_") or "item"
        code, n = base, 2
        while any(i.code == code for i in version.items):
            code, n = f"{base}_{n}", n + 1
        item = ChecklistItem(code=code, position=len(version.items))
        version.items.append(item)
    else:
        item = next((i for i in version.items if i.code == code), None)
        if item is None:
            raise LookupError(code)
    for f in ITEM_FIELDS:
        if f in fields:
            setattr(item, f, fields[f].strip() if isinstance(fields[f], str) else fields[f])
    session.commit()
    return item


def remove_item(session, tpl: ChecklistTemplate, code: str) -> None:
    """Take an item out of the next version (the old versions keep it)."""
    version = editable_version(session, tpl)
    item = next((i for i in version.items if i.code == code), None)
    if item is None:
        raise LookupError(code)
    version.items.remove(item)
    session.delete(item)
    for pos, other in enumerate(version.items):
        other.position = pos
    session.commit()


def export_yaml(session) -> str:
    """Every template's current version, in the shape of checklists.yaml."""
    out = []
    for tpl in session.scalars(select(ChecklistTemplate).order_by(ChecklistTemplate.id)):
        items = []
        for i in tpl.current_version.items:
            row = {"id": i.code, "text_en": i.text_en, "text_zh": i.text_zh, "category": i.category,
                   "responsible_team": i.team_code, "severity": i.severity,
                   "photo_required_on_fail": i.photo_required_on_fail}
            if i.room:
                row["room"] = i.room
            if i.points:
                row["points"] = i.points
            items.append(row)
        out.append({"id": tpl.code, "kind": tpl.kind, "name_en": tpl.name_en, "name_zh": tpl.name_zh,
                     "on_fail": tpl.on_fail, "version": tpl.current_version.number, "items": items})
    return yaml.safe_dump({"version": 1, "templates": out}, allow_unicode=True, sort_keys=False, width=120)


def import_yaml(session, text: str) -> dict[str, str]:
    """Create new templates, and a new version of any template whose items changed. All or nothing."""
    from flask_babel import lazy_gettext as _l

    try:
        data = yaml.safe_load(text)
        specs = data["templates"]
        assert isinstance(specs, list)
    except Exception:  # any malformed upload: one clear message
        raise TemplateRefused(_l("This is not a checklist YAML file like checklists.yaml.")) from None
    outcome = {}
    for spec in specs:
        try:
            code, items = str(spec["id"]), spec["items"]
            rows = [{"code": str(i["id"]), "text_zh": str(i["text_zh"]), "text_en": str(i["text_en"]),
                     "category": str(i["category"]), "team_code": str(i["responsible_team"]),
                     "severity": str(i["severity"]), "photo_required_on_fail": bool(i["photo_required_on_fail"]),
                     "points": int(i.get("points") or 0), "room": i.get("room")} for i in items]
        except (KeyError, TypeError, ValueError):
            session.rollback()
            raise TemplateRefused(_l("Template %(id)s has an item without text, category, team, severity or "
                                     "photo rule.", id=spec.get("id", "?") if isinstance(spec, dict) else "?")) from None
        for r in rows:
            if r["severity"] not in SEVERITIES or not re.fullmatch(r"[a-z][a-z0-9_]*", r["team_code"]):
                session.rollback()
                raise TemplateRefused(_l("Template %(id)s: item %(item)s has an unknown severity or team.",
                                         id=code, item=r["code"]))
        tpl = session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == code))
        if tpl is None:
            tpl = ChecklistTemplate(code=code, kind=spec.get("kind", "patrol"), name_zh=spec.get("name_zh", code),
                                    name_en=spec.get("name_en", code),
                                    on_fail="work_order" if spec.get("kind", "patrol") == "patrol" else "record")
            version = TemplateVersion(template=tpl, number=1)
            session.add(tpl)
            outcome[code] = "created"
        else:
            current = [(i.code, i.text_zh, i.text_en, i.category, i.team_code, i.severity,
                        i.photo_required_on_fail, i.points, i.room) for i in tpl.current_version.items]
            wanted = [(r["code"], r["text_zh"], r["text_en"], r["category"], r["team_code"], r["severity"],
                       r["photo_required_on_fail"], r["points"], r["room"]) for r in rows]
            if current == wanted:
                outcome[code] = "unchanged"
                continue
            version = TemplateVersion(template=tpl, number=tpl.current_version.number + 1)
            session.add(version)
            outcome[code] = f"version {version.number}"
        for pos, r in enumerate(rows):
            version.items.append(ChecklistItem(position=pos, **r))
    session.commit()
    return outcome
