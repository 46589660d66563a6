"""Compliance figures on a fixed week, check-ins by scan, and rounds walked too fast."""
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.models import CheckIn, Checkpoint
from app.services import compliance, rounds, schedule

WEEK = [date(2026, 11, 16) + timedelta(days=i) for i in range(7)]  # Monday to Sunday


def walk(session, demo, local, day, slot, start, finish, who="supervisor", answer_every=60):
    """Start a round at `start`, answer the first checkpoint's items a minute apart, finish at `finish`."""
    rnd = next(r for r in schedule.rounds_for_day(session, demo.site, day) if r.slot == slot)
    with time_machine.travel(local(demo.site, day.year, day.month, day.day, *start), tick=False) as t:
        rounds.start_round(session, rnd, demo.users[who])
        for stop in rounds.stops_by_checkpoint(rnd)[0]:
            for item in stop.version.items:
                t.shift(answer_every)
                rounds.answer_item(session, rnd, stop, item, demo.users[who], result="pass")
        t.move_to(local(demo.site, day.year, day.month, day.day, *finish))
        rounds.finish_round(session, rnd, demo.users[who])
    return rnd


@pytest.fixture
def week(session, demo, local):
    """Mornings: 5 on time, 1 late, 1 missed; afternoons: 3 on time, 4 missed."""
    for i, day in enumerate(WEEK):
        if i < 5:
            walk(session, demo, local, day, "morning", (9, 35), (10, 50), who="supervisor" if i % 2 else "supervisor2")
        elif i == 5:
            walk(session, demo, local, day, "morning", (11, 30), (12, 10))
        if i < 3:
            walk(session, demo, local, day, "afternoon", (15, 5), (16, 40))
    return demo


def test_rates_per_slot_supervisor_and_site(session, week, local):
    now = local(week.site, 2026, 11, 23, 8, 0)
    rows = compliance.round_rows(session, week.site, WEEK[0], WEEK[-1], now=now)
    assert len(rows) == 14
    r = compliance.rates(rows)
    assert (r["slot"]["morning"].on_time, r["slot"]["morning"].late, r["slot"]["morning"].missed) == (5, 1, 1)
    assert (r["slot"]["afternoon"].on_time, r["slot"]["afternoon"].missed) == (3, 4)
    assert r["site"].percent == round(100 * 8 / 14)
    assert r["supervisor"]["王助理 Wang"].on_time == 2 + 3  # Tue, Thu mornings + 3 afternoons
    assert r["supervisor"]["王助理 Wang"].late == 1
    assert r["supervisor"]["李助理 Li"].on_time == 3


def test_checkpoint_timing_and_too_fast(session, demo, local):
    day = WEEK[0]
    slow = walk(session, demo, local, day, "morning", (9, 35), (10, 50), answer_every=60)
    fast = walk(session, demo, local, day, "afternoon", (15, 5), (15, 9), answer_every=1)
    rows = {r.round.id: r for r in compliance.round_rows(session, demo.site, day, day,
                                                          now=local(demo.site, 2026, 11, 17, 8, 0))}
    first = rows[slow.id].checkpoints[0]
    assert first.answered == first.items == 13
    assert (first.last - first.first).total_seconds() == 12 * 60
    assert not rows[slow.id].fast and rows[fast.id].fast and rows[fast.id].checkpoints[0].fast


def test_scan_checks_in_once_and_refuses_without_a_round(session, demo, local):
    cp = session.scalar(select(Checkpoint).where(Checkpoint.route_id == demo.routes["morning"].id)
                        .order_by(Checkpoint.position).offset(2))
    sup = demo.users["supervisor"]
    now = local(demo.site, 2026, 11, 23, 9, 40)
    with time_machine.travel(now, tick=False):
        with pytest.raises(compliance.ScanRefused):
            compliance.scan(session, sup, cp.qr_token)
        rnd = next(r for r in schedule.rounds_for_day(session, demo.site, now.astimezone(demo.site.tz).date())
                   if r.slot == "morning")
        rounds.start_round(session, rnd, sup)
        got = compliance.scan(session, sup, cp.qr_token)
    with time_machine.travel(now + timedelta(minutes=7), tick=False):
        again = compliance.scan(session, sup, cp.qr_token)  # a second scan changes nothing
    assert (got.round.id, got.checkpoint.id, got.first) == (rnd.id, cp.id, True)
    assert not again.first and again.check_in.id == got.check_in.id and again.check_in.at == now
    assert session.scalar(select(func.count(CheckIn.id))) == 1
    with pytest.raises(compliance.ScanRefused):
        compliance.scan(session, sup, "not-a-token")


def test_demo_history_has_every_case_and_is_idempotent(session, demo, local):
    from app.models import Round, WorkOrder
    from app.models.types import utcnow
    from app.services.seed import seed_history

    now = utcnow()
    made = seed_history(session, demo.site, days=30, now=now)
    assert 50 <= made <= 60 and seed_history(session, demo.site, days=30, now=now) == 0
    rows = compliance.round_rows(session, demo.site, schedule.site_today(demo.site, now) - timedelta(days=30),
                                 schedule.site_today(demo.site, now) - timedelta(days=1), now=now)
    statuses = {r.status for r in rows}
    assert {"done", "late", "missed"} <= statuses
    orders = session.scalars(select(WorkOrder)).all()
    assert {o.status for o in orders} >= {"closed", "open"}
    assert any(o.reopen_count for o in orders) and any(o.is_overdue(now) for o in orders)
    assert session.scalar(select(func.count(Round.id)).where(Round.started_at.is_not(None))) == made
    from app.models import DutyLog

    logs = session.scalars(select(DutyLog)).all()
    assert len(logs) == 4 and sum(1 for entry in logs if entry.read_at) == 3


def test_scan_checks_in_only_on_the_scanners_own_round(session, demo, local):
    """Another supervisor, crew, a contractor or an engineer scanning records nothing and is told why."""
    from app.services.policy import can

    cp = session.scalar(select(Checkpoint).where(Checkpoint.route_id == demo.routes["morning"].id)
                        .order_by(Checkpoint.position).offset(2))
    now = local(demo.site, 2026, 11, 23, 9, 40)
    with time_machine.travel(now, tick=False):
        rnd = next(r for r in schedule.rounds_for_day(session, demo.site, date(2026, 11, 23))
                   if r.slot == "morning")
        rounds.start_round(session, rnd, demo.users["supervisor"])
        expected = {"supervisor2": "not_yours", "manager": "not_yours", "crew.cleaning": "role",
                    "contractor": "role", "engineer": "role"}
        for username, reason in expected.items():
            with pytest.raises(compliance.ScanRefused) as refused:
                compliance.scan(session, demo.users[username], cp.qr_token)
            assert refused.value.reason == reason, username
            assert not can(demo.users[username], "check_in", rnd)
        assert session.scalar(select(func.count(CheckIn.id))) == 0
        got = compliance.scan(session, demo.users["supervisor"], cp.qr_token)
    assert can(demo.users["supervisor"], "check_in", rnd) and got.round.id == rnd.id
    assert session.scalar(select(CheckIn.user_id)) == demo.users["supervisor"].id
    rows = compliance.round_rows(session, demo.site, rnd.date, rnd.date, now=now)
    timing = next(c for r in rows if r.round.id == rnd.id for c in r.checkpoints if c.checkpoint.id == cp.id)
    assert timing.check_in == now and timing.scanned_by.username == "supervisor"


def test_a_round_walked_before_its_window_is_early_and_not_on_time(session, demo, local):
    """Done at 06:00 for a 09:30 window: status 'early' (not 'late'), and it counts against the rate."""
    day = WEEK[0]
    early = walk(session, demo, local, day, "morning", (5, 35), (6, 5))
    on_time = walk(session, demo, local, day, "afternoon", (15, 5), (16, 40))
    rows = compliance.round_rows(session, demo.site, day, day, now=local(demo.site, 2026, 11, 17, 8, 0))
    status = {r.round.id: r.status for r in rows}
    assert status == {early.id: "early", on_time.id: "done"}
    assert schedule.timing(early).start_offset < 0 and schedule.timing(early).finish_offset < 0
    site = compliance.rates(rows)["site"]
    assert (site.on_time, site.early, site.late, site.counted, site.percent) == (1, 1, 0, 2, 50)


def test_scan_of_a_checkpoint_taken_off_the_route_records_nothing(session, demo, local):
    """A code still posted for a checkpoint the round does not walk is refused, not filed elsewhere."""
    cps = session.scalars(select(Checkpoint).where(Checkpoint.route_id == demo.routes["morning"].id)
                          .order_by(Checkpoint.position)).all()
    cps[2].active = False
    session.commit()
    now = local(demo.site, 2026, 11, 23, 9, 40)
    with time_machine.travel(now, tick=False):
        rnd = next(r for r in schedule.rounds_for_day(session, demo.site, date(2026, 11, 23))
                   if r.slot == "morning")
        rounds.start_round(session, rnd, demo.users["supervisor"])
        with pytest.raises(compliance.ScanRefused) as refused:
            compliance.scan(session, demo.users["supervisor"], cps[2].qr_token)
    assert refused.value.reason == "not_on_round"
    assert session.scalar(select(func.count(CheckIn.id))) == 0


def test_a_scan_racing_another_keeps_the_first(session, demo, local, db):
    """The camera app and the browser open the code at once: the other request's check-in is committed
    after this one looked and before it inserts. One check-in stands, the other's, and this scan says
    it was already checked in (no error, nothing else of the request lost)."""
    from sqlalchemy import event

    cp = session.scalar(select(Checkpoint).where(Checkpoint.route_id == demo.routes["morning"].id)
                        .order_by(Checkpoint.position).offset(2))
    sup = demo.users["supervisor"]
    now = local(demo.site, 2026, 11, 23, 9, 40)
    with time_machine.travel(now, tick=False):
        rnd = next(r for r in schedule.rounds_for_day(session, demo.site, date(2026, 11, 23))
                   if r.slot == "morning")
        rounds.start_round(session, rnd, sup)
        session.commit()
        first_at = now - timedelta(seconds=2)

        raced = []

        def the_other_request_commits_first(sess, flush_context, instances):
            if not raced and any(isinstance(o, CheckIn) for o in sess.new):
                raced.append(True)
                with db.engine.begin() as other:
                    other.execute(CheckIn.__table__.insert().values(
                        round_id=rnd.id, checkpoint_id=cp.id, user_id=sup.id, at=first_at))

        event.listen(session.registry(), "before_flush", the_other_request_commits_first)
        try:
            got = compliance.scan(session, sup, cp.qr_token)
            session.commit()
        finally:
            event.remove(session.registry(), "before_flush", the_other_request_commits_first)
    assert raced
    assert not got.first and got.check_in.at == first_at
    assert session.scalar(select(func.count(CheckIn.id))) == 1
    assert rnd.started_at is not None  # the round (saved before) is untouched
