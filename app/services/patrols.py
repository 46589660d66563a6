"""Patrol routes: checkpoints in walking order, the checklists checked at each, and the schedules.
Rounds already started keep the checkpoints and versions they froze, so edits only shape rounds yet to start."""
from datetime import time

from flask_babel import lazy_gettext as _l

from app.models import Area, ChecklistTemplate, Checkpoint, Route, Schedule
from app.services.errors import Refused


class RouteRefused(Refused):
    """A change to a patrol route its rules do not allow."""


def active_checkpoints(route: Route) -> list[Checkpoint]:
    return [c for c in route.checkpoints if c.active]


def _renumber(route: Route) -> None:
    for pos, cp in enumerate(active_checkpoints(route)):
        cp.position = pos


def move(session, route: Route, cp: Checkpoint, step: int) -> None:
    """Move a checkpoint one place up (-1) or down (+1) the walking order."""
    cps = active_checkpoints(route)
    i = cps.index(cp)
    j = i + step
    if 0 <= j < len(cps):
        cps[i].position, cps[j].position = cps[j].position, cps[i].position
    session.flush()
    session.refresh(route)  # its checkpoints in their new order


def add(session, route: Route, area: Area, template: ChecklistTemplate) -> Checkpoint:
    """A new checkpoint at the end of the route."""
    if area.site_id != route.site_id:
        raise RouteRefused(_l("Choose an area of this site."))
    cp = Checkpoint(route=route, position=len(active_checkpoints(route)), area=area,
                    name_zh=area.name_zh, name_en=area.name_en)
    cp.templates.append(template)
    session.add(cp)
    return cp


def remove(session, route: Route, cp: Checkpoint) -> None:
    """Take a checkpoint off the route (deactivated: walked rounds still show it)."""
    if len(active_checkpoints(route)) <= 1:
        raise RouteRefused(_l("A route needs at least one checkpoint."))
    cp.active = False
    cp.position = 10_000 + cp.id
    _renumber(route)


def save_schedule(session, schedule: Schedule, start: str, end: str, tolerance: int, weekdays: list[str],
                  active: bool) -> None:
    """Change a slot's window, tolerance and weekdays (rounds already created keep their window)."""
    try:
        t_start, t_end = time.fromisoformat(start), time.fromisoformat(end)
    except ValueError:
        raise RouteRefused(_l("Times are hours and minutes, e.g. 09:30.")) from None
    if t_end <= t_start:
        raise RouteRefused(_l("The window must end after it starts."))
    if not 0 <= tolerance <= 120:
        raise RouteRefused(_l("The tolerance is 0 to 120 minutes."))
    days = "".join(d for d in "1234567" if d in weekdays)
    if active and not days:
        raise RouteRefused(_l("Choose at least one weekday."))
    schedule.start_time, schedule.end_time, schedule.tolerance_minutes = t_start, t_end, tolerance
    schedule.weekdays, schedule.active = days or schedule.weekdays, active


def set_templates(session, cp: Checkpoint, templates: list[ChecklistTemplate]) -> None:
    """The checklists walked at a checkpoint (rounds already started keep what they froze)."""
    if not templates:
        raise RouteRefused(_l("A checkpoint needs at least one checklist."))
    cp.templates = list(templates)
