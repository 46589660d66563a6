"""Walking a round: answers, the fail → order → cancel rules, idempotency, finishing."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import Answer, Photo, RoundStop, SiteItemTeam, WorkOrder, WorkOrderEvent
from app.services import rounds, schedule
from app.services.rounds import RoundRefused


@pytest.fixture
def walk(session, demo):
    """The demo morning round, started by the demo supervisor."""
    day = schedule.site_today(demo.site)
    rnd = next(r for r in schedule.rounds_for_day(session, demo.site, day) if r.slot == "morning")
    rounds.start_round(session, rnd, demo.users["supervisor"])
    return rnd


def find(rnd, template_code, item_code, nth=0):
    """The (stop, item) of an item code in a template, nth occurrence along the route."""
    hits = [(s, i) for s in rnd.stops for i in s.version.items
            if s.version.template.code == template_code and i.code == item_code]
    return hits[nth]


def photo(session, demo, n=1):
    p = Photo(site_id=demo.site.id, sha256=f"{n:064x}", thumb_sha256=f"{n + 1000:064x}", width=10,
              height=10, size_bytes=100)
    session.add(p)
    session.flush()
    return p


def orders(session):
    return session.scalars(select(WorkOrder).order_by(WorkOrder.id)).all()


def test_start_freezes_route_and_counts_items(session, walk):
    """The morning route has 10 checkpoints and 109 items; nothing answered yet."""
    assert len(rounds.stops_by_checkpoint(walk)) == 10
    assert rounds.progress(session, walk) == rounds.Progress(total=109, answered=0, failed=0)


def test_start_twice_is_harmless(session, walk, demo):
    rounds.start_round(session, walk, demo.users["supervisor2"])
    assert session.scalar(select(func.count(RoundStop.id)).where(RoundStop.round_id == walk.id)) == 10
    assert walk.supervisor_id == demo.users["supervisor"].id


def test_pass_counts_and_repeat_does_not_duplicate(session, walk, demo):
    stop, item = find(walk, "patrol_residential_common", "roads_clean")
    for _ in range(3):
        rounds.answer_item(session, walk, stop, item, demo.users["supervisor"], result="pass")
    assert session.scalar(select(func.count(Answer.id))) == 1
    assert rounds.progress(session, walk).answered == 1
    assert orders(session) == []


def test_fail_raises_order_for_the_items_team_with_sla_due(session, walk, demo):
    """Garage lighting (engineering, major) fails: one engineering order due in 24 h."""
    stop, item = find(walk, "patrol_parking", "garage_lighting", nth=1)
    p = photo(session, demo)
    rounds.answer_item(session, walk, stop, item, demo.users["supervisor"], result="fail",
                       note="B2 east ramp dark", photos=[p])
    [order] = orders(session)
    assert order.team.code == "engineering"
    assert order.severity == "major"
    assert order.area.code == "underground_garage"
    assert order.title_en == item.text_en and order.title_zh == item.text_zh
    assert order.note == "B2 east ramp dark"
    assert order.before_photos == [p]
    assert order.due_at - order.created_at == timedelta(hours=24)
    assert [e.kind for e in order.events] == ["created"]
    assert rounds.progress(session, walk).failed == 1


def test_photo_required_fail_without_photo_is_refused_and_changes_nothing(session, walk, demo):
    stop, item = find(walk, "patrol_residential_common", "roads_clean")
    assert item.photo_required_on_fail
    rounds.answer_item(session, walk, stop, item, demo.users["supervisor"], result="pass", note="ok")
    session.commit()  # that answer's request; the refused one below rolls back only itself
    with pytest.raises(RoundRefused) as err:
        rounds.answer_item(session, walk, stop, item, demo.users["supervisor"], result="fail", note="x")
    assert "照片" in str(err.value.message)  # outside a request: the default locale, zh_Hans
    session.rollback()
    answer = session.scalar(select(Answer))
    assert (answer.result, answer.note) == ("pass", "ok")
    assert orders(session) == []


def test_fail_without_photo_allowed_when_not_required(session, walk, demo):
    stop, item = find(walk, "patrol_parking", "car_gate_guard_conduct")
    assert not item.photo_required_on_fail
    rounds.answer_item(session, walk, stop, item, demo.users["supervisor"], result="fail")
    assert [o.team.code for o in orders(session)] == ["security"]


def test_unfail_cancels_and_refail_restores_the_same_order(session, walk, demo):
    stop, item = find(walk, "patrol_parking", "car_gate_guard_conduct")
    sup = demo.users["supervisor"]
    rounds.answer_item(session, walk, stop, item, sup, result="fail")
    rounds.answer_item(session, walk, stop, item, sup, result="fail")  # double tap
    rounds.answer_item(session, walk, stop, item, sup, result="pass")
    [order] = orders(session)
    assert order.status == "cancelled"
    rounds.answer_item(session, walk, stop, item, sup, result="na")
    rounds.answer_item(session, walk, stop, item, sup, result="fail")
    [order] = orders(session)
    assert order.status == "open"
    kinds = session.scalars(select(WorkOrderEvent.kind).order_by(WorkOrderEvent.id)).all()
    assert kinds == ["created", "cancelled", "reopened"]


def test_note_only_keeps_result(session, walk, demo):
    stop, item = find(walk, "patrol_parking", "car_gate_guard_conduct")
    sup = demo.users["supervisor"]
    rounds.answer_item(session, walk, stop, item, sup, result="fail")
    rounds.answer_item(session, walk, stop, item, sup, result=None, note="guard absent 10:05")
    answer = session.scalar(select(Answer))
    assert answer.result == "fail" and answer.note == "guard absent 10:05"
    assert len(orders(session)) == 1


def test_site_override_routes_to_another_team(session, walk, demo):
    """The demo site gives garage cleanliness to security instead of cleaning."""
    session.add(SiteItemTeam(site_id=demo.site.id, template_code="patrol_parking",
                             item_code="garage_clean", team_id=demo.teams["security"].id))
    session.commit()
    stop, item = find(walk, "patrol_parking", "garage_clean", nth=1)
    rounds.answer_item(session, walk, stop, item, demo.users["supervisor"], result="fail",
                       photos=[photo(session, demo)])
    assert orders(session)[0].team.code == "security"


def test_finished_round_is_read_only(session, walk, demo):
    stop, item = find(walk, "patrol_parking", "car_gate_guard_conduct")
    sup = demo.users["supervisor"]
    rounds.answer_item(session, walk, stop, item, sup, result="pass")
    rounds.finish_round(session, walk, sup)
    session.commit()
    with pytest.raises(RoundRefused):
        rounds.answer_item(session, walk, stop, item, sup, result="fail")
    session.rollback()
    assert session.scalar(select(Answer.result)) == "pass"


def test_unanswered_lists_items_in_route_order(session, walk, demo):
    stop, item = find(walk, "patrol_residential_common", "roads_clean")
    rounds.answer_item(session, walk, stop, item, demo.users["supervisor"], result="pass")
    missing = rounds.unanswered(session, walk)
    assert len(missing) == 108
    assert missing[0][1].code == "bins_not_overflowing"


def test_orders_raised_lists_the_rounds_orders(session, walk, demo):
    sup = demo.users["supervisor"]
    for code in ("car_gate_guard_conduct",):
        stop, item = find(walk, "patrol_parking", code)
        rounds.answer_item(session, walk, stop, item, sup, result="fail")
    stop = walk.stops[-1]
    item = stop.version.items[0]
    rounds.answer_item(session, walk, stop, item, sup, result="fail", photos=[photo(session, demo)])
    raised = rounds.orders_raised(session, walk)
    assert [o.team.code for o in raised] == ["security", item.team_code]
