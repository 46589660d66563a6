"""Checklist templates: versions frozen once used, item edits, and YAML in the checklists.yaml shape.

Templates live in a shared library (site_id NULL, kept by admins) and as sites' own copies. A change
made for a site goes to that site's copy, made from the library on first use (copy-on-write): the
site's checkpoints then walk the copy from the next round on, and every other site keeps what it had.
Services change and flush; the request commits.
"""
import re

import yaml
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from app.models import (
    ChecklistItem, ChecklistTemplate, Checkpoint, Inspection, Route, RoundStop, Site, Team, TemplateVersion,
)
from app.models.checklist import SEVERITIES
from app.services.errors import Refused

ITEM_FIELDS = ("text_zh", "text_en", "category", "team_code", "severity", "photo_required_on_fail", "points")

# The categories a checklist offers depend on its kind: a unit's handover inspection checks water and
# power, walls and fixtures; everything walked on a round (patrols, briefings, appearance) checks the
# estate and its staff. Each code has a label in app.labels.CATEGORY_LABELS.
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


def library(session) -> list[ChecklistTemplate]:
    """The shared library's templates."""
    return list(session.scalars(select(ChecklistTemplate).where(ChecklistTemplate.site_id.is_(None))
                                .order_by(ChecklistTemplate.id)))


def for_site(session, code: str, site_id: int | None) -> ChecklistTemplate | None:
    """The template a site uses under `code`: its own copy, else the library's (site None: the library's)."""
    found = session.scalars(select(ChecklistTemplate).where(
        ChecklistTemplate.code == code,
        (ChecklistTemplate.site_id == site_id) | ChecklistTemplate.site_id.is_(None))).all()
    return next((t for t in found if t.site_id is not None), found[0] if found else None)


def site_templates(session, site: Site) -> list[ChecklistTemplate]:
    """What a site uses: its own templates, and the library's where it has no copy (library order first)."""
    own = {t.code: t for t in session.scalars(select(ChecklistTemplate).where(ChecklistTemplate.site_id == site.id)
                                              .order_by(ChecklistTemplate.id))}
    rows = [own.pop(t.code, t) for t in library(session)]
    return rows + list(own.values())


def _copy_items(rows: list[dict], version: TemplateVersion) -> None:
    for pos, r in enumerate(rows):
        version.items.append(ChecklistItem(position=pos, **r))


def _rows(version: TemplateVersion) -> list[dict]:
    return [{"code": i.code, "room": i.room, **{f: getattr(i, f) for f in ITEM_FIELDS}} for i in version.items]


def site_copy(session, tpl: ChecklistTemplate, site: Site, rows: list[dict] | None = None) -> ChecklistTemplate:
    """The site's own copy of a library template, made on first use (with `rows`, else the library's items).

    The site's checkpoints switch to the copy: rounds not yet started walk it, rounds already started keep
    the versions they froze, and other sites keep the library template.
    """
    if tpl.site_id == site.id:
        return tpl
    if tpl.site_id is not None:
        raise LookupError("another site's template")
    existing = for_site(session, tpl.code, site.id)
    if existing is not None and existing.site_id == site.id:
        return existing
    copy = ChecklistTemplate(site_id=site.id, code=tpl.code, kind=tpl.kind, name_zh=tpl.name_zh,
                             name_en=tpl.name_en, on_fail=tpl.on_fail)
    _copy_items(rows if rows is not None else _rows(tpl.current_version), TemplateVersion(template=copy, number=1))
    try:
        with session.begin_nested():  # two managers of one site copying at once: the first copy stands
            session.add(copy)
            session.flush()
    except IntegrityError:
        return for_site(session, tpl.code, site.id)
    checkpoints = session.scalars(select(Checkpoint).join(Route).where(
        Route.site_id == site.id, Checkpoint.templates.contains(tpl)))
    for cp in checkpoints:
        cp.templates = [copy if t.id == tpl.id else t for t in cp.templates]
    session.flush()
    return copy


def item_teams(session, site_ids: list[int]) -> dict[str, Team]:
    """Team code → a team of the given sites bearing it (its name is what the page shows).

    Teams belong to a site while items name a team by code (a library item names one on every site).
    Contractors rectify handover defects by routing, not by a checklist item, so they are left out.
    """
    teams = {}
    for team in session.scalars(select(Team).where(Team.site_id.in_(site_ids), Team.is_contractor.is_(False))
                                .order_by(Team.site_id, Team.id)):
        teams.setdefault(team.code, team)
    return teams


class TemplateRefused(Refused):
    """A checklist change its rules do not allow (or a YAML file that is not a checklist)."""


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
    teams = Team.code == fields.get("team_code")
    if tpl.site_id is not None:  # a site's copy names the site's own teams
        teams = teams & (Team.site_id == tpl.site_id)
    if not fields.get("team_code") or not session.scalar(select(exists().where(teams))):
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
    session.flush()
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
    session.flush()


def export_yaml(session, site: Site | None = None) -> str:
    """The current version of every template a site uses (site None: the library), as checklists.yaml."""
    out = []
    for tpl in (library(session) if site is None else site_templates(session, site)):
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


class _PlainYaml(yaml.SafeLoader):
    """safe_load without anchors and aliases: checklists.yaml has none, and nested aliases (a "billion
    laughs" file) would expand into gigabytes once a field is turned into text."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases are not accepted")
        return super().compose_node(parent, index)


def _text(value, limit: int, optional: bool = False) -> str | None:
    """A YAML scalar as text of at most `limit` characters; a list, a mapping or an overlong text is a fault."""
    if value is None and optional:
        return None
    if value is None or isinstance(value, (dict, list)):
        raise ValueError("not a scalar")
    text = str(value)
    if not text or len(text) > limit:
        raise ValueError("empty or too long")
    return text


def _parse(text: str) -> list[tuple[dict, list[dict]]]:
    """(template spec, item rows) for each template of the file; refuses the whole file on any fault
    (fields of the wrong type or too long for their column included: a refusal, never a server error)."""
    from flask_babel import lazy_gettext as _l

    not_ours = _l("This is not a checklist YAML file like checklists.yaml.")
    try:
        data = yaml.load(text, Loader=_PlainYaml)
        specs = data["templates"]
        assert isinstance(specs, list)
    except Exception:  # any malformed upload: one clear message
        raise TemplateRefused(not_ours) from None
    parsed = []
    for spec in specs:
        try:
            code = _text(spec["id"], 64)
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", code):
                raise ValueError("code")
            head = {"id": code, "kind": _text(spec.get("kind", "patrol"), 32),
                    **{k: _text(spec[k], 200) for k in ("name_zh", "name_en") if k in spec}}
            if not re.fullmatch(r"[a-z][a-z0-9_]*", head["kind"]) or not isinstance(spec["items"], list):
                raise ValueError("kind or items")
        except (KeyError, TypeError, ValueError, AttributeError):
            raise TemplateRefused(not_ours) from None
        items = spec["items"]
        try:
            rows = [{"code": _text(i["id"], 64), "text_zh": _text(i["text_zh"], 2000),
                     "text_en": _text(i["text_en"], 2000), "category": _text(i["category"], 40),
                     "team_code": _text(i["responsible_team"], 40), "severity": _text(i["severity"], 16),
                     "photo_required_on_fail": bool(i["photo_required_on_fail"]),
                     "points": _points(i.get("points")), "room": _text(i.get("room"), 40, optional=True)}
                    for i in items]
        except (KeyError, TypeError, ValueError, AttributeError):
            raise TemplateRefused(_l("Template %(id)s has an item without text, category, team, severity or "
                                     "photo rule.", id=code)) from None
        for r in rows:
            if r["severity"] not in SEVERITIES or not re.fullmatch(r"[a-z][a-z0-9_]*", r["team_code"]):
                raise TemplateRefused(_l("Template %(id)s: item %(item)s has an unknown severity or team.",
                                         id=code, item=r["code"]))
        parsed.append((head, rows))
    return parsed


def _points(value) -> int:
    """Appearance points: a small whole number (0 when absent)."""
    if isinstance(value, (dict, list, bool)):
        raise ValueError("points")
    points = int(value or 0)
    if not 0 <= points <= 1000:
        raise ValueError("points")
    return points


def _same(version: TemplateVersion, rows: list[dict]) -> bool:
    key = ("code", "text_zh", "text_en", "category", "team_code", "severity", "photo_required_on_fail", "points",
           "room")
    return [tuple(r[k] for k in key) for r in _rows(version)] == [tuple(r[k] for k in key) for r in rows]


def import_yaml(session, text: str, site: Site | None = None) -> dict[str, str | int]:
    """Import a file in the checklists.yaml shape, all or nothing.

    Without a site it writes the library; with one, only that site's templates: a changed library template
    becomes the site's copy, a new one the site's own. Outcome per template code: "created", "copied",
    "unchanged", or the number of the new version.
    """
    outcome: dict[str, str | int] = {}
    for spec, rows in _parse(text):
        code = spec["id"]
        tpl = library_tpl = for_site(session, code, None)
        if site is not None:
            tpl = for_site(session, code, site.id)
        if tpl is None:
            kind = spec.get("kind", "patrol")
            tpl = ChecklistTemplate(site_id=site.id if site else None, code=code, kind=kind,
                                    name_zh=spec.get("name_zh", code), name_en=spec.get("name_en", code),
                                    on_fail="work_order" if kind == "patrol" else "record")
            _copy_items(rows, TemplateVersion(template=tpl, number=1))
            session.add(tpl)
            outcome[code] = "created"
        elif _same(tpl.current_version, rows):
            outcome[code] = "unchanged"
        elif site is not None and tpl is library_tpl:
            site_copy(session, tpl, site, rows)
            outcome[code] = "copied"
        else:
            version = TemplateVersion(template=tpl, number=tpl.current_version.number + 1)
            _copy_items(rows, version)
            session.add(version)
            outcome[code] = version.number
    session.flush()
    return outcome
