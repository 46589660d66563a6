"""One unit of work per request: services flush, the request (or a job) commits once, so a composed
action is all or nothing."""
import ast
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from app.models import Inspection, Notification, WorkOrder
from app.services import escalation
from app.services import handover as ho
from app.services.errors import Conflict, Refused
from app.unit_of_work import unit_of_work
from tests.unit.test_handover import close_all, photo, signature, unit, walk  # noqa: F401 - fixtures

APP = Path(__file__).resolve().parents[2] / "app"
# The only places that end a transaction: the request's hooks and the helper for commands and jobs.
MAY_END_TRANSACTIONS = {APP / "web.py", APP / "unit_of_work.py"}
# The services that open units of their own: login attempts and rate-limited hits must be seen by
# parallel requests before they are counted, and are kept whatever the answer (401, 429).
MAY_OPEN_UNITS = {APP / "services" / "auth.py", APP / "services" / "throttle.py"}


def _calls(path: Path, names: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [f"{path.relative_to(APP.parent)}:{node.lineno} {node.func.attr}()" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names]


def test_no_service_or_view_commits_or_rolls_back():
    """Only the request hook and unit_of_work end a transaction: no service, view or command does."""
    found = [hit for path in sorted(APP.rglob("*.py")) if path not in MAY_END_TRANSACTIONS
             for hit in _calls(path, {"commit", "rollback"})]
    assert found == []


def test_services_do_not_open_units_of_their_own():
    """Services change and flush; the caller decides the unit (auth's attempt log is the one exception)."""
    found = []
    for path in sorted((APP / "services").rglob("*.py")):
        if path not in MAY_OPEN_UNITS and "unit_of_work" in path.read_text():
            found.append(str(path.relative_to(APP.parent)))
    assert found == []


def test_every_refusal_is_a_refused():
    """One base for every *Refused / *Rejected a service raises: the web layer handles them once."""
    missing = []
    for path in sorted((APP / "services").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.endswith(("Refused", "Rejected", "TooLarge")):
                module = __import__(f"app.services.{path.stem}", fromlist=[node.name])
                if not issubclass(getattr(module, node.name), Refused):
                    missing.append(f"{path.stem}.{node.name}")
    assert missing == []


def test_a_reinspection_refused_half_way_leaves_no_walk_behind(demo, session, unit, photo, app):  # noqa: F811
    """start_reinspection starts a walk and makes it a re-inspection: if the second step is refused,
    the first is undone too (it used to commit the walk before changing its kind)."""
    eng = demo.users["engineer"]
    insp = walk(session, demo, unit, photo)
    ho.sign(session, app.extensions["photo_store"], insp, eng, engineer_name="刘工", owner_name="张伟",
            engineer_sig=signature(), owner_sig=signature())
    session.commit()
    close_all(session, demo, unit, photo)
    session.commit()
    before = session.scalar(select(func.count(Inspection.id)))

    def refuse_reinspections(sess, flush_context, instances):
        if any(isinstance(o, Inspection) and o.kind == "reinspection" for o in list(sess.new) + list(sess.dirty)):
            raise ho.HandoverRefused("re-inspections are refused here")

    target = session()
    event.listen(target, "before_flush", refuse_reinspections)
    try:
        with pytest.raises(ho.HandoverRefused):
            with unit_of_work(session):
                ho.start_reinspection(session, unit, eng, "张伟")
    finally:
        event.remove(target, "before_flush", refuse_reinspections)
    assert session.scalar(select(func.count(Inspection.id))) == before
    assert ho.unit_status(session, unit) == "ready_for_reinspection"


def test_a_unit_whose_first_write_is_in_a_savepoint_is_still_one_unit(demo, session):
    """A double-tap guard's savepoint may be a unit's first write (on SQLite it would then open the
    transaction, and its release commit it): a unit that fails afterwards still keeps nothing."""
    from app.models import DutyLog
    from app.services import dutylog, schedule

    with pytest.raises(RuntimeError):
        with unit_of_work(session):
            dutylog.get_or_create(session, demo.site, schedule.site_today(demo.site))  # in a savepoint
            raise RuntimeError("the rest of the unit fails")
    assert session.scalar(select(func.count(DutyLog.id))) == 0


def test_unit_of_work_turns_a_conflict_at_commit_into_a_refusal(demo, session):
    """A unique key taken at commit time is a Conflict (409) and nothing of the unit is kept."""
    from app.models import Area

    with pytest.raises(Conflict) as refused:
        with unit_of_work(session):
            session.add(Area(site_id=demo.site.id, code="new_place", name_zh="新地方", name_en="New place"))
            session.add(Area(site_id=demo.site.id, code="new_place", name_zh="新地方", name_en="New place"))
    assert refused.value.status == 409
    assert session.scalar(select(func.count(Area.id)).where(Area.code == "new_place")) == 0


def test_sweep_leaves_an_order_someone_else_escalated_and_keeps_the_rest(demo, session, db):
    """Two servers sweeping at once: the order whose version moved on is left to the other one (a
    savepoint undoes just its escalation); the others are escalated in the same unit."""
    from datetime import timedelta

    from sqlalchemy import text

    from app.models.types import utcnow
    from app.services import workorders as wo

    team, user = demo.teams["cleaning"], demo.users["supervisor"]
    orders = [wo.new_order(session, site=demo.site, team=team, source="manual", severity="minor",
                           title_zh=f"单{n}", title_en=f"Order {n}", actor=user) for n in range(2)]
    for order in orders:
        order.due_at = utcnow() - timedelta(hours=1)
    session.commit()
    real = escalation.record_event

    def moved_on_first(sess, order, *args, **kwargs):
        if order.id == orders[0].id:  # another server escalated it a moment ago
            sess.connection().execute(text("UPDATE work_order SET version = version + 1 WHERE id = :id"),
                                      {"id": order.id})  # (no autoflush: this session's change comes after)
        return real(sess, order, *args, **kwargs)

    escalation.record_event = moved_on_first
    try:
        with unit_of_work(session):
            made = escalation.sweep(session)
    finally:
        escalation.record_event = real
    assert made == 1
    escalated = session.scalars(select(WorkOrder.id).where(WorkOrder.overdue_escalated_at.is_not(None))).all()
    assert escalated == [orders[1].id]
    assert {n.order_id for n in session.scalars(select(Notification))} == {orders[1].id}
