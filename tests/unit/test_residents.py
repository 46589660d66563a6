"""Residents' reports as services: routing, the report's order, merge, dismiss, the link, the callback."""
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import RateHit, ResidentReport
from app.models.types import utcnow
from app.services import residents as svc
from app.services import throttle, workorders as wo


@pytest.fixture
def lobby(demo):
    place = svc.new_place(db.session, demo.site, kind="lobby", name_zh="3号楼大堂", name_en="Building 3 lobby",
                          area=demo.site.areas[0])
    db.session.commit()
    return place


def send(place, category="cleaning", text="大堂地面有积水", **kw):
    token, report = svc.submit(db.session, place, category=category, description=text, **kw)
    db.session.flush()
    return token, report


def test_routing_place_beats_every_place_beats_the_default(demo, lobby):
    """Default by category; the site's choice for every place; a place's own choice wins."""
    garage = svc.new_place(db.session, demo.site, kind="garage", name_zh="车库", name_en="Garage")
    assert svc.team_for(db.session, lobby, "parking").code == "security"
    assert svc.team_for(db.session, lobby, "repairs").code == "engineering"
    svc.set_route(db.session, demo.site, "noise", None, demo.teams["customer_service"])
    svc.set_route(db.session, demo.site, "noise", garage, demo.teams["engineering"])
    assert svc.team_for(db.session, lobby, "noise").code == "customer_service"
    assert svc.team_for(db.session, garage, "noise").code == "engineering"
    svc.set_route(db.session, demo.site, "noise", garage, None)  # back to "as for every place"
    assert svc.team_for(db.session, garage, "noise").code == "customer_service"


def test_a_report_raises_one_order_of_source_resident_due_by_the_sla(demo, lobby):
    token, report = send(lobby, unit="3-1-1201", phone="13800000000")
    order = report.order
    assert order.source == "resident" and order.team.code == "cleaning" and order.status == "open"
    assert order.area_id == lobby.area_id and order.owner_unit == "3-1-1201"
    assert order.due_at - order.created_at == timedelta(hours=4)  # cleaning, major
    assert report.token_hash != token and len(token) >= 40
    assert order.created_by_id is None and [e.kind for e in order.events] == ["created"]


def test_the_link_valid_altered_revoked_expired(demo, lobby):
    token, report = send(lobby)
    assert svc.report_for_link(db.session, token) is report
    assert svc.report_for_link(db.session, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert svc.report_for_link(db.session, token + "x" * 100) is None
    assert svc.report_for_link(db.session, token, now=report.expires_at + timedelta(seconds=1)) is None
    svc.revoke_link(db.session, report)
    assert svc.report_for_link(db.session, token) is None


def test_a_withdrawn_code_refuses(demo, lobby):
    svc.revoke_place(db.session, lobby)
    with pytest.raises(svc.ReportRefused) as e:
        send(lobby)
    assert e.value.status == 410


def test_duplicates_are_offered_and_merge_moves_the_reporters(demo, lobby):
    _t1, first = send(lobby, text="大堂有积水")
    _t2, second = send(lobby, text="门口很滑")
    _t3, third = send(lobby, text="还是很滑")
    _t4, other = send(lobby, category="noise", text="装修噪音")
    sup = demo.users["supervisor"]
    offered = svc.duplicates(db.session, third.order, third)
    assert [(o.id, n) for o, n in offered] == [(first.order_id, 1), (second.order_id, 1)]
    old = second.order
    svc.merge(db.session, old, first.order, sup)
    assert old.status == "cancelled" and second.order_id == first.order_id
    assert [e.kind for e in first.order.events][-1] == "merged"
    offered = svc.duplicates(db.session, third.order, third)
    assert [(o.id, n) for o, n in offered] == [(first.order_id, 2)]
    svc.merge(db.session, third.order, first.order, sup)
    assert svc.duplicates(db.session, other.order, other) == []
    assert db.session.query(ResidentReport).filter_by(order_id=first.order_id).count() == 3
    assert old.triaged_by_id == sup.id  # whoever triages owns the follow-up
    assert first.order.triaged_at is None  # the order merged into is still to triage


def test_confirm_changes_team_and_severity_and_records_the_owner(demo, lobby):
    _t, report = send(lobby, category="other")
    order, sup = report.order, demo.users["supervisor"]
    svc.confirm(db.session, order, sup, team=demo.teams["engineering"], severity="critical", version=order.version)
    assert order.team.code == "engineering" and order.severity == "critical"
    assert order.due_at - order.created_at == timedelta(hours=4)
    assert order.triaged_by_id == sup.id and order.events[-1].kind == "triaged"
    with pytest.raises(svc.ReportRefused):
        svc.confirm(db.session, order, sup)  # once


def test_stale_triage_is_refused(demo, lobby):
    _t, report = send(lobby)
    with pytest.raises(wo.StaleOrder):
        svc.confirm(db.session, report.order, demo.users["supervisor"], version=report.order.version + 1)


def test_not_a_problem_needs_a_reason_the_resident_reads(demo, lobby):
    token, report = send(lobby)
    with pytest.raises(svc.ReportRefused):
        svc.dismiss(db.session, report.order, demo.users["supervisor"], "  ")
    svc.dismiss(db.session, report.order, demo.users["supervisor"], "这是清洁剂，已干")
    p = svc.progress(db.session, report)
    assert p.stage == "not_a_problem" and p.reason == "这是清洁剂，已干" and report.order.status == "cancelled"


def closed(demo, order):
    crew, sup = demo.users["crew.cleaning"], demo.users["supervisor"]
    from app.models import Photo

    after = Photo(site_id=demo.site.id, sha256="a" * 64, thumb_sha256="b" * 64, width=1, height=1, size_bytes=1)
    db.session.add(after)
    db.session.flush()
    wo.act(db.session, order, crew, "resolve", note="已拖干并放置警示牌", photos=[after])
    wo.act(db.session, order, sup, "verify")
    return after


def test_progress_shows_what_was_done_and_the_after_photo_once_resolved(demo, lobby):
    _t, report = send(lobby)
    assert svc.progress(db.session, report).stage == "received"
    svc.confirm(db.session, report.order, demo.users["supervisor"])
    p = svc.progress(db.session, report)
    assert p.stage == "assigned" and p.team.code == "cleaning" and not p.done_note
    after = closed(demo, report.order)
    p = svc.progress(db.session, report)
    assert p.stage == "done" and p.done_note == "已拖干并放置警示牌" and p.after_photos == [after] and p.may_answer
    assert after.id in svc.photo_ids(report, p)


def test_not_satisfied_reopens_and_satisfied_closes_the_callback(demo, lobby):
    _t, report = send(lobby)
    closed(demo, report.order)
    assert report.order.callback == "due"
    svc.answer(db.session, report, "unsatisfied")
    order = report.order
    assert order.status == "open" and order.reopen_count == 1 and order.callback == "unsatisfied"
    with pytest.raises(svc.ReportRefused):
        svc.answer(db.session, report, "satisfied")  # not closed again yet
    wo.act(db.session, order, demo.users["crew.cleaning"], "resolve", note="重新清理", photos=[order.after_photos[0]])
    wo.act(db.session, order, demo.users["supervisor"], "verify")
    assert svc.may_answer(report)
    svc.answer(db.session, report, "satisfied")
    assert order.callback == "satisfied" and order.status == "closed"
    assert not svc.may_answer(report)


def test_throttle_counts_in_the_database_and_a_refusal_keeps_no_hit(demo):
    limits = [throttle.Limit("t:a", 2, timedelta(hours=1))]
    now = utcnow()
    assert throttle.hit(db.session, limits, now).allowed
    assert throttle.hit(db.session, limits, now).allowed
    refused = throttle.hit(db.session, limits, now)
    assert not refused.allowed and refused.wait_minutes == 60
    assert db.session.query(RateHit).filter_by(bucket="t:a").count() == 2
    assert throttle.hit(db.session, limits, now + timedelta(hours=1, seconds=1)).allowed


def test_figures_count_response_time_and_satisfaction(demo, lobby):
    now = utcnow()
    _t, a = send(lobby)
    _t, b = send(lobby, category="noise")
    svc.confirm(db.session, a.order, demo.users["supervisor"], now=a.created_at + timedelta(hours=2))
    closed(demo, a.order)
    svc.answer(db.session, a, "satisfied")
    f = svc.figures(db.session, [demo.site.id], now - timedelta(days=1))
    assert (f.count, f.response_minutes, f.answered, f.satisfied_pct) == (2, 120, 1, 100)


def test_one_form_sent_twice_is_one_report_also_when_the_taps_race(demo, lobby, monkeypatch):
    """The link token comes from the form's once-key: the second send finds the first report; when the
    two race past that look-up, the unique hash (in a savepoint) still keeps one and returns it."""
    from sqlalchemy import func, select

    from app.models import WorkOrder

    token = svc.token_for_once("secret", svc.new_once())
    _t, first = send(lobby, token=token)
    assert send(lobby, token=token)[1] is first
    calls = []

    def late(session, t, real=svc.sent_already):
        calls.append(t)
        return None if len(calls) == 1 else real(session, t)

    monkeypatch.setattr(svc, "sent_already", late)
    again, report = send(lobby, token=token)
    assert again == token and report.id == first.id and len(calls) == 2
    assert db.session.scalar(select(func.count(ResidentReport.id))) == 1
    assert db.session.scalar(select(func.count(WorkOrder.id))) == 1


def test_a_residents_text_loses_control_and_invisible_characters():
    assert svc.clean_text(" a\x00b\x1b[1m\r\nc\u202ed\u200b\ufeff\t👨\u200d👩 ") == "ab[1m\ncd\t👨\u200d👩"
    assert svc.clean_text(None) == ""


def test_who_may_stop_a_residents_link(demo, lobby):
    """The site's supervisors and managers may stop a resident's link; crew, engineers and another site may not."""
    from app.services.policy import can
    from tests.web.helpers import other_site

    _t, report = send(lobby)
    other_site()
    db.session.flush()
    from sqlalchemy import select

    from app.models import User

    allowed = {name: can(demo.users[name], "revoke_link", report, db.session)
               for name in ("supervisor", "manager", "crew.cleaning")}
    assert allowed == {"supervisor": True, "manager": True, "crew.cleaning": False}
    stranger = db.session.scalar(select(User).where(User.username == "sup.other"))
    assert not can(stranger, "revoke_link", report, db.session)
