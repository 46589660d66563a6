"""Round windows and statuses in the site's zone, across the tolerance edges and midnight."""
from datetime import date, time, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.models import Round, Schedule
from app.services import schedule
from app.services.seed import create_route, create_site, load_templates


@pytest.fixture
def site(session):
    """A site with one morning schedule (09:30-11:00, 15 min tolerance)."""
    s = create_site(session, "t", "测试", "Test", tz="Asia/Shanghai")
    from app.models import Area

    session.add(Area(site=s, code="common_grounds", name_zh="大区", name_en="Grounds"))
    session.flush()
    session.refresh(s)
    tpls = load_templates(session)
    create_route(session, s, "m", ("上午", "Morning"), [("common_grounds", "patrol_greenery")], tpls,
                 "morning", time(9, 30), time(11, 0))
    session.commit()
    return s


def morning(session, site, day):
    return schedule.rounds_for_day(session, site, day)[0]


def test_window_is_site_local_time_stored_in_utc(session, site, local):
    """09:30-11:00 in Shanghai is 01:30-03:00 UTC."""
    rnd = morning(session, site, date(2026, 11, 23))
    assert rnd.window_start == local(site, 2026, 11, 23, 9, 30)
    assert rnd.window_start.hour == 1 and rnd.window_start.minute == 30
    assert rnd.window_end == local(site, 2026, 11, 23, 11, 0)


@pytest.mark.parametrize("hh,mm,expected", [
    (0, 1, "upcoming"), (9, 14, "upcoming"), (9, 15, "due"), (10, 0, "due"), (11, 15, "due"),
    (11, 16, "late"), (23, 59, "late"),
])
def test_unstarted_status_across_tolerance_edges(session, site, local, hh, mm, expected):
    """Due from 15 min before the window to 15 min after; late after that until the day ends."""
    rnd = morning(session, site, date(2026, 11, 23))
    assert schedule.round_status(rnd, local(site, 2026, 11, 23, hh, mm)) == expected


def test_missed_once_the_sites_day_has_ended(session, site, local):
    """At the site's midnight an unstarted round is missed and can no longer be started."""
    rnd = morning(session, site, date(2026, 11, 23))
    just_before = local(site, 2026, 11, 23, 23, 59) + timedelta(seconds=59)
    midnight = local(site, 2026, 11, 24, 0, 0)
    assert schedule.round_status(rnd, just_before) == "late"
    assert schedule.can_start(rnd, just_before)
    assert schedule.round_status(rnd, midnight) == "missed"
    assert not schedule.can_start(rnd, midnight)


@pytest.mark.parametrize("start,finish,expected", [
    ((9, 15), (10, 40), "done"),     # started exactly at the early edge
    ((9, 14), (10, 40), "early"),    # one minute too early
    ((5, 35), (6, 5), "early"),      # walked hours before the window: early, never "late"
    ((10, 0), (11, 15), "done"),     # finished exactly at the late edge
    ((10, 0), (11, 16), "late"),     # one minute too late
    ((11, 16), (11, 50), "late"),    # started after the window
    ((9, 0), (11, 30), "late"),      # started early but ran past the window: late
])
def test_finished_round_done_or_late(session, site, local, start, finish, expected):
    rnd = morning(session, site, date(2026, 11, 23))
    rnd.started_at = local(site, 2026, 11, 23, *start)
    rnd.finished_at = local(site, 2026, 11, 23, *finish)
    assert schedule.round_status(rnd, local(site, 2026, 11, 23, 12, 0)) == expected


def test_started_round_is_in_progress(session, site, local):
    rnd = morning(session, site, date(2026, 11, 23))
    rnd.started_at = local(site, 2026, 11, 23, 9, 40)
    assert schedule.round_status(rnd, local(site, 2026, 11, 23, 23, 0)) == "in_progress"


def test_timing_reports_minutes_outside_the_window(session, site, local):
    rnd = morning(session, site, date(2026, 11, 23))
    rnd.started_at = local(site, 2026, 11, 23, 9, 0)
    rnd.finished_at = local(site, 2026, 11, 23, 12, 5)
    t = schedule.timing(rnd)
    assert (t.start_offset, t.finish_offset, t.on_time) == (-30, 65, False)


def test_today_is_the_sites_date_not_utcs(site, local):
    """At 17:00 UTC it is already tomorrow in Shanghai."""
    from datetime import datetime, timezone

    assert schedule.site_today(site, datetime(2026, 11, 23, 17, 0, tzinfo=timezone.utc)) == date(2026, 11, 24)
    assert schedule.site_today(site, datetime(2026, 11, 23, 15, 59, tzinfo=timezone.utc)) == date(2026, 11, 23)


def supervisor_of(session, site):
    from app.models import User

    user = User(username="u", display_name="U", role="supervisor", password_hash="x")
    user.sites.append(site)
    session.add(user)
    session.commit()
    return user


def test_reading_a_day_saves_no_round(session, site):
    """A day's rounds are planned from the schedules and read twice alike, with nothing written."""
    day = date(2026, 11, 23)
    first = schedule.rounds_for_day(session, site, day)
    again = schedule.rounds_for_day(session, site, day)
    assert [(r.id, r.schedule_id, r.date, r.slot) for r in first] == [(r.id, r.schedule_id, r.date, r.slot)
                                                                     for r in again]
    assert [r.id for r in first] == [None]
    session.commit()
    assert session.scalar(select(func.count(Round.id))) == 0


def test_starting_a_planned_round_twice_saves_it_once(session, site, local):
    """The first start inserts the planned round; a second start (double tap) finds and keeps it."""
    from app.services import rounds

    user = supervisor_of(session, site)
    with time_machine.travel(local(site, 2026, 11, 23, 9, 40), tick=False):
        first = rounds.start_round(session, morning(session, site, date(2026, 11, 23)), user)
        again = rounds.start_round(session, morning(session, site, date(2026, 11, 23)), user)
    assert first.id is not None and again.id == first.id and first.started_at is not None
    assert session.scalar(select(func.count(Round.id))) == 1
    assert len(again.stops) == len(first.stops) > 0


def test_a_start_racing_another_keeps_the_first(session, site, local, db):
    """Another phone saved and started the round between this one's read and its tap: one round, theirs."""
    from app.services import rounds

    user = supervisor_of(session, site)
    day = date(2026, 11, 23)
    with time_machine.travel(local(site, 2026, 11, 23, 9, 40), tick=False):
        planned = morning(session, site, day)
        session.commit()
        with db.engine.begin() as other:  # the other phone's request, committed first
            other.execute(Round.__table__.insert().values(
                site_id=site.id, route_id=planned.route_id, schedule_id=planned.schedule_id, date=day,
                slot="morning", window_start=planned.window_start, window_end=planned.window_end,
                tolerance_minutes=15, started_at=local(site, 2026, 11, 23, 9, 35), supervisor_id=user.id))
        got = rounds.start_round(session, planned, user)
    assert got is not planned and got.id is not None
    assert got.started_at == local(site, 2026, 11, 23, 9, 35)  # their start stands
    assert session.scalar(select(func.count(Round.id))) == 1


def test_a_round_of_a_future_day_cannot_be_started(session, site, local):
    """Starting tomorrow's planned round is refused and saves nothing."""
    from app.services import rounds

    user = supervisor_of(session, site)
    with time_machine.travel(local(site, 2026, 11, 23, 9, 40), tick=False):
        with pytest.raises(rounds.RoundRefused):
            rounds.start_round(session, morning(session, site, date(2026, 11, 24)), user)
    session.rollback()
    assert session.scalar(select(func.count(Round.id))) == 0


def test_no_round_on_a_day_without_a_schedule(session, site):
    """A Monday-to-Friday schedule gives no round on Saturday."""
    sch = session.scalar(select(Schedule))
    sch.weekdays = "12345"
    session.commit()
    assert schedule.rounds_for_day(session, site, date(2026, 11, 28)) == []  # a Saturday
    assert len(schedule.rounds_for_day(session, site, date(2026, 11, 27))) == 1  # a Friday


def test_site_in_another_zone(session):
    """A site in New York gets its windows in New York time."""
    from app.models import Area

    s = create_site(session, "ny", "纽约", "New York", tz="America/New_York")
    session.add(Area(site=s, code="common_grounds", name_zh="大区", name_en="Grounds"))
    session.flush()
    session.refresh(s)
    create_route(session, s, "m", ("上午", "Morning"), [("common_grounds", "patrol_greenery")],
                 load_templates(session), "morning", time(9, 30), time(11, 0))
    session.commit()
    rnd = schedule.rounds_for_day(session, s, date(2026, 11, 23))[0]
    assert (rnd.window_start.hour, rnd.window_start.minute) == (14, 30)  # EST = UTC-5


def test_start_after_window_counts_late_with_frozen_clock(session, site, local):
    """Starting at 14:00 is allowed (for the demo) and the round is late."""
    from app.models import User
    from app.services import rounds

    user = User(username="u", display_name="U", role="supervisor", password_hash="x")
    user.sites.append(site)
    session.add(user)
    rnd = morning(session, site, date(2026, 11, 23))
    with time_machine.travel(local(site, 2026, 11, 23, 14, 0), tick=False):
        rounds.start_round(session, rnd, user)
        rounds.finish_round(session, rnd, user)
        assert schedule.round_status(rnd) == "late"
