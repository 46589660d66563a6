"""The work-order lifecycle: every action from every status for every role; versions; escalation."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import Area, Notification, Photo, User, WorkOrder, WorkOrderEvent
from app.models.types import utcnow
from app.services import escalation, policy
from app.services import workorders as wo
from app.services.seed import create_site

STATUSES = ("open", "in_progress", "blocked", "resolved", "closed", "cancelled")
ACTIONS = ("take", "start", "resolve", "hand_back", "cant_fix", "comment", "verify", "reopen",
           "send_back", "callback", "reassign", "change", "cancel")

# What each role may do from each status, and the status it leads to — written out by hand.
CREW = {
    "open": {"take": "open", "start": "in_progress", "resolve": "resolved", "cant_fix": "blocked",
             "comment": "open"},
    "in_progress": {"resolve": "resolved", "hand_back": "open", "cant_fix": "blocked",
                    "comment": "in_progress"},
    "blocked": {"comment": "blocked"},
    "resolved": {"comment": "resolved"},
    "closed": {"comment": "closed"},
    "cancelled": {"comment": "cancelled"},
}
SUPERVISOR = {
    "open": dict(CREW["open"]),
    "in_progress": dict(CREW["in_progress"]),
    "blocked": {"comment": "blocked", "send_back": "open"},
    "resolved": {"comment": "resolved", "verify": "closed", "reopen": "open"},
    "closed": {"comment": "closed", "callback": "open"},
    "cancelled": {"comment": "cancelled"},
}
MANAGER = {
    "open": {**SUPERVISOR["open"], "reassign": "open", "change": "open", "cancel": "cancelled"},
    "in_progress": {**SUPERVISOR["in_progress"], "reassign": "open", "change": "in_progress",
                    "cancel": "cancelled"},
    "blocked": {**SUPERVISOR["blocked"], "reassign": "open", "change": "blocked", "cancel": "cancelled"},
    "resolved": {**SUPERVISOR["resolved"], "change": "resolved", "cancel": "cancelled"},
    "closed": dict(SUPERVISOR["closed"]),
    "cancelled": dict(SUPERVISOR["cancelled"]),
}
EXPECT = {"crew": CREW, "supervisor": SUPERVISOR, "manager": MANAGER}


@pytest.fixture
def estate(session):
    """A small site with an area, users of every role and one photo."""
    site = create_site(session, "s", "测试", "Test")
    area = Area(site=site, code="a", name_zh="区", name_en="Area")
    session.add(area)
    teams = {t.code: t for t in site.teams}
    users = {}
    for name, role in (("crew", "crew"), ("mate", "crew"), ("supervisor", "supervisor"),
                       ("manager", "manager")):
        u = User(username=name, display_name=name, role=role, password_hash="x")
        u.sites.append(site)
        if role == "crew":
            u.teams.append(teams["cleaning"])
        session.add(u)
        users[name] = u
    photo = Photo(site_id=site.id, sha256="a" * 64, thumb_sha256="b" * 64, width=1, height=1,
                  size_bytes=1)
    session.add(photo)
    session.commit()
    return site, area, teams, users, photo


def make_order(session, estate, status, assignee=None, complaint=True):
    site, area, teams, users, _ = estate
    order = wo.raise_by_hand(session, site=site, team=teams["cleaning"], area=area, severity="major",
                             description="Lift lobby floor wet", user=users["supervisor"],
                             owner_name="陈先生" if complaint else "",
                             owner_unit="3-1-202" if complaint else "")
    order.status = status
    order.assignee_id = assignee.id if assignee else None
    order.callback = "due" if status == "closed" else None
    session.commit()
    return order


def args_for(action, estate):
    site, area, teams, users, photo = estate
    return {
        "resolve": dict(note="mopped and dried", photos=[photo]),
        "cant_fix": dict(note="needs a plumber"),
        "comment": dict(note="on my way"),
        "reopen": dict(note="still wet"),
        "callback": dict(outcome="unsatisfied", note="owner says still wet"),
        "reassign": dict(team=teams["engineering"]),
        "change": dict(severity="critical"),
        "cancel": dict(note="duplicate"),
    }.get(action, {})


@pytest.mark.parametrize("role", ["crew", "supervisor", "manager"])
def test_every_action_from_every_status(session, estate, role):
    """Allowed actions move the order as the table says; refused ones change nothing at all."""
    users = estate[3]
    actor = users[role]
    wrong = []
    for status in STATUSES:
        for action in ACTIONS:
            order = make_order(session, estate, status, assignee=actor if status == "in_progress" else None)
            before = (order.status, order.version, len(order.events))
            expected = EXPECT[role][status].get(action)
            try:
                event = wo.act(session, order, actor, action, version=order.version,
                               **args_for(action, estate))
            except wo.OrderRefused:
                session.rollback()
                session.refresh(order)
                if expected is not None:
                    wrong.append(f"{role} {action} from {status}: refused, expected {expected}")
                elif (order.status, order.version, len(order.events)) != before:
                    wrong.append(f"{role} {action} from {status}: refused but changed the order")
                continue
            if expected is None:
                wrong.append(f"{role} {action} from {status}: allowed, expected refusal")
            elif order.status != expected:
                wrong.append(f"{role} {action} from {status}: {order.status}, expected {expected}")
            elif event.actor_id != actor.id or event.from_status != status:
                wrong.append(f"{role} {action} from {status}: event not recorded")
    assert not wrong, "\n".join(wrong)


def test_resolve_needs_an_after_photo_and_a_note(session, estate):
    users, photo = estate[3], estate[4]
    order = make_order(session, estate, "in_progress", assignee=users["crew"])
    with pytest.raises(wo.OrderRefused):
        wo.act(session, order, users["crew"], "resolve", note="done")
    session.rollback()
    with pytest.raises(wo.OrderRefused):
        wo.act(session, order, users["crew"], "resolve", photos=[photo])
    session.rollback()
    wo.act(session, order, users["crew"], "resolve", note="done", photos=[photo])
    assert order.status == "resolved" and order.after_photos == [photo]


def test_crew_cannot_act_on_a_colleagues_order(session, estate):
    users = estate[3]
    order = make_order(session, estate, "in_progress", assignee=users["mate"])
    for action in ("start", "resolve", "hand_back", "cant_fix"):
        assert not policy.can(users["crew"], action, order), action
    assert policy.can(users["supervisor"], "hand_back", order)


def test_stale_version_is_refused(session, estate):
    """A form loaded before someone else's change cannot overwrite it."""
    users = estate[3]
    order = make_order(session, estate, "open")
    seen = order.version
    wo.act(session, order, users["crew"], "take", version=seen)
    session.commit()  # the first take's request
    with pytest.raises(wo.StaleOrder):
        wo.act(session, order, users["mate"], "take", version=seen)
    session.rollback()
    assert order.assignee_id == users["crew"].id


def test_reopen_counts_and_flags_after_two(session, estate):
    users, photo = estate[3], estate[4]
    order = make_order(session, estate, "in_progress", assignee=users["crew"])
    for n in (1, 2):
        wo.act(session, order, users["crew"], "resolve", note="done", photos=[photo])
        wo.act(session, order, users["supervisor"], "reopen", note="not clean")
        assert order.reopen_count == n
    assert order.flagged and order.status == "open"


def test_verify_of_a_complaint_puts_it_on_the_callback_list(session, estate):
    users, photo = estate[3], estate[4]
    order = make_order(session, estate, "in_progress", assignee=users["crew"])
    wo.act(session, order, users["crew"], "resolve", note="done", photos=[photo])
    wo.act(session, order, users["supervisor"], "verify")
    assert (order.status, order.callback) == ("closed", "due")
    wo.act(session, order, users["supervisor"], "callback", outcome="satisfied", note="thanks")
    assert (order.status, order.callback) == ("closed", "satisfied")
    manual = make_order(session, estate, "resolved", complaint=False)
    wo.act(session, manual, users["supervisor"], "verify")
    assert manual.callback is None


def test_reassign_records_from_and_to(session, estate):
    users, teams = estate[3], estate[2]
    order = make_order(session, estate, "open")
    event = wo.act(session, order, users["manager"], "reassign", team=teams["engineering"])
    assert order.team.code == "engineering"
    assert event.changes == {"team": [teams["cleaning"].id, teams["engineering"].id]}


def test_crew_cannot_take_a_colleagues_order_a_supervisor_takes_it_over(session, estate):
    """A colleague's order stays theirs; only a supervisor or manager takes it over, on the record."""
    users = estate[3]
    order = make_order(session, estate, "open", assignee=users["mate"])
    with pytest.raises(wo.OrderRefused) as refused:
        wo.act(session, order, users["crew"], "take", version=order.version)
    assert "mate" in str(refused.value.message)  # who has it, in the viewer's language
    session.rollback()
    session.refresh(order)
    assert order.assignee_id == users["mate"].id and [e.kind for e in order.events] == ["created"]
    event = wo.act(session, order, users["supervisor"], "take", version=order.version)
    assert (event.kind, order.assignee_id) == ("taken_over", users["supervisor"].id)
    assert event.changes == {"assignee": [users["mate"].id, users["supervisor"].id]}


def test_changing_only_the_severity_leaves_the_due_time(session, estate):
    """The form sends the due time back to the minute; that is not a change of due time."""
    users = estate[3]
    site = estate[0]
    order = make_order(session, estate, "open")
    due = order.due_at
    shown = due.astimezone(site.tz).replace(second=0, microsecond=0)  # what the form pre-fills
    event = wo.act(session, order, users["manager"], "change", severity="critical", due=shown)
    assert order.due_at == due and set(event.changes) == {"severity"}
    session.commit()  # that change's request; the refused one below rolls back only itself
    with pytest.raises(wo.OrderRefused):  # the same minute again, same severity: nothing to record
        wo.act(session, order, users["manager"], "change", severity="critical", due=shown)
    session.rollback()
    later = shown + timedelta(days=1)
    event = wo.act(session, order, users["manager"], "change", severity="critical", due=later)
    assert order.due_at == later and set(event.changes) == {"due"}



def test_events_are_append_only_history(session, estate):
    users, photo = estate[3], estate[4]
    order = make_order(session, estate, "open")
    wo.act(session, order, users["crew"], "take")
    wo.act(session, order, users["crew"], "start")
    wo.act(session, order, users["crew"], "resolve", note="done", photos=[photo])
    wo.act(session, order, users["supervisor"], "verify")
    kinds = session.scalars(select(WorkOrderEvent.kind).where(WorkOrderEvent.order_id == order.id)
                            .order_by(WorkOrderEvent.id)).all()
    assert kinds == ["created", "assigned", "started", "resolved", "verified"]


def test_overdue_escalates_once_to_the_sites_managers(session, estate):
    users = estate[3]
    order = make_order(session, estate, "open")
    order.due_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert escalation.sweep(session) == 1
    assert escalation.sweep(session) == 0
    notes = session.scalars(select(Notification)).all()
    assert [(n.user_id, n.kind) for n in notes] == [(users["manager"].id, "overdue")]
    assert [e.detail for e in order.events if e.kind == "escalated"] == ["overdue"]
    assert escalation.unread_count(session, users["manager"]) == 1


def test_resolved_but_unverified_for_a_day_escalates(session, estate):
    users, photo = estate[3], estate[4]
    order = make_order(session, estate, "in_progress", assignee=users["crew"])
    wo.act(session, order, users["crew"], "resolve", note="done", photos=[photo])
    assert escalation.sweep(session, now=utcnow() + timedelta(hours=23)) == 0
    assert escalation.sweep(session, now=utcnow() + timedelta(hours=25)) == 1
    assert session.scalar(select(Notification.kind)) == "unverified"


def test_changed_due_time_can_escalate_again(session, estate):
    users = estate[3]
    order = make_order(session, estate, "open")
    order.due_at = utcnow() - timedelta(minutes=1)
    session.commit()
    escalation.sweep(session)
    wo.act(session, order, users["manager"], "change", due=utcnow() - timedelta(seconds=1))
    assert escalation.sweep(session) == 1
    assert session.scalar(select(func.count(Notification.id))) == 1  # one per user, order and reason


def test_two_people_at_once_one_wins(session, estate, db):
    """One supervisor verifies while another reopens from another session: one wins, no lost update."""
    from sqlalchemy.orm import Session

    users = estate[3]
    order = make_order(session, estate, "resolved")
    other = Session(bind=db.engine, expire_on_commit=False)
    try:
        theirs = other.get(WorkOrder, order.id)
        their_manager = other.get(User, users["manager"].id)
        assert theirs.version == order.version  # both loaded the same version
        wo.act(session, order, users["supervisor"], "verify")
        session.commit()
        with pytest.raises(wo.StaleOrder):  # their flush finds the version moved on
            wo.act(other, theirs, their_manager, "reopen", note="not clean")
        other.rollback()
    finally:
        other.close()
    session.refresh(order)
    assert order.status == "closed" and order.reopen_count == 0
    assert [e.kind for e in order.events][-1] == "verified"
