"""Reading a page changes nothing: a day's rounds are planned from the schedules and saved when one is
started; a duty log is compiled on read and saved by the first remarks or comments."""
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.models import DutyLog, Round
from app.services import schedule
from tests.conftest import at_local, csrf_from
from tests.statements import count_statements
from tests.web.helpers import other_site, row_counts, started_morning

START_FORM = re.compile(r'<form method="post" action="(/rounds/planned/\d+/[\d-]+/start)">')


def today(demo):
    return schedule.site_today(demo.site)


def urls(demo) -> dict[str, str]:
    day, site = today(demo), demo.site.id
    return {
        "today": "/today",
        "briefing": "/briefing",
        "log": f"/log/{site}/{day.isoformat()}",
        "log of yesterday": f"/log/{site}/{(day - timedelta(days=1)).isoformat()}",
        "compliance": "/manage/compliance",
        "compliance of a month": f"/manage/compliance?from={(day - timedelta(days=30)).isoformat()}",
        "dashboard": "/manage/dashboard",
    }


@pytest.mark.parametrize("user, page", [
    ("supervisor", "today"), ("supervisor", "briefing"), ("supervisor", "log"),
    ("supervisor", "log of yesterday"), ("manager", "today"), ("manager", "briefing"), ("manager", "log"),
    ("manager", "compliance"), ("manager", "compliance of a month"), ("manager", "dashboard"),
])
def test_a_page_read_leaves_every_table_alone(client, auth, demo, user, page):
    """GET as the page's user: the row count of every table is what it was."""
    auth.login(user)
    before = row_counts()
    resp = client.get(urls(demo)[page])
    assert resp.status_code == 200
    assert row_counts() == before


def test_a_read_after_a_round_was_walked_writes_nothing_either(client, auth, demo, session):
    """With one round started and the other only planned, every page reads both and writes nothing."""
    started_morning(demo)
    session.commit()
    auth.login("manager")
    before = row_counts()
    for url in urls(demo).values():
        assert client.get(url).status_code == 200, url
    assert row_counts() == before


def test_starting_a_planned_round_saves_it_once(client, auth, demo, session):
    """Today's Start button names the schedule and day; a double tap and a second supervisor make one round."""
    auth.login("supervisor")
    html = client.get("/today").get_data(as_text=True)
    action = START_FORM.findall(html)[0]  # the morning round, first by its window
    token = csrf_from(html)
    first = client.post(action, data={"csrf_token": token})
    assert first.status_code == 302 and re.fullmatch(r"/rounds/\d+/checkpoints/1", first.headers["Location"])
    again = client.post(action, data={"csrf_token": token})  # the double tap
    assert again.headers["Location"] == first.headers["Location"]
    client.post("/logout", data={"csrf_token": token})
    auth.login("supervisor2")
    other = client.post(action, data={"csrf_token": auth.token()})
    assert other.headers["Location"] == first.headers["Location"]
    rnd = session.scalar(select(Round))
    assert session.scalar(select(func.count(Round.id))) == 1
    assert rnd.slot == "morning" and rnd.supervisor.username == "supervisor"  # the first start stands
    page = client.get("/today").get_data(as_text=True)
    assert f'id="round-{rnd.id}"' in page and "Continue round" in page
    assert len(START_FORM.findall(page)) == 1  # the afternoon round is still only planned
    # A saved round keeps its own start URL.
    assert client.post(f"/rounds/{rnd.id}/start", data={"csrf_token": auth.token()}).status_code == 302


def test_a_planned_round_is_started_only_by_its_site_on_its_day(client, auth, demo, session):
    """Another estate, crew, a forged day, a day without the schedule, tomorrow, yesterday: refused, nothing saved."""
    sch = demo.routes["morning"].schedules[0]
    day = today(demo)
    other_site()
    auth.login("sup.other")
    assert client.post(f"/rounds/planned/{sch.id}/{day}/start", data={"csrf_token": auth.token()}).status_code == 404
    client.post("/logout", data={"csrf_token": auth.token()})
    auth.login("crew.cleaning")
    token = auth.token("/orders")
    assert client.post(f"/rounds/planned/{sch.id}/{day}/start", data={"csrf_token": token}).status_code == 404
    client.post("/logout", data={"csrf_token": token})
    auth.login("supervisor")
    token = auth.token()
    assert client.post(f"/rounds/planned/{sch.id}/{day}/start").status_code == 400  # no CSRF token
    assert client.post(f"/rounds/planned/{sch.id}/not-a-day/start", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/rounds/planned/999999/{day}/start", data={"csrf_token": token}).status_code == 404
    tomorrow = client.post(f"/rounds/planned/{sch.id}/{day + timedelta(days=1)}/start", data={"csrf_token": token})
    assert tomorrow.status_code == 409 and "not due yet" in tomorrow.get_data(as_text=True)
    yesterday = client.post(f"/rounds/planned/{sch.id}/{day - timedelta(days=1)}/start", data={"csrf_token": token})
    assert yesterday.status_code == 409 and "day is over" in yesterday.get_data(as_text=True)
    sch.weekdays = "".join(d for d in "1234567" if d != str(day.isoweekday()))
    session.commit()
    assert client.post(f"/rounds/planned/{sch.id}/{day}/start", data={"csrf_token": token}).status_code == 404
    assert session.scalar(select(func.count(Round.id))) == 0


def test_missed_rounds_still_count_without_rows(client, auth, demo, session):
    """Never started: late on Today in the evening, missed the day after in compliance and the duty log."""
    site = demo.site
    with time_machine.travel(at_local(site, 2026, 11, 25, 20, 0), tick=True):
        auth.login("supervisor")
        html = client.get("/today").get_data(as_text=True)
        assert html.count("badge badge-late") == 2 and len(START_FORM.findall(html)) == 2
        assert "Start now, outside the window" in html
        client.post("/logout", data={"csrf_token": csrf_from(html)})
    with time_machine.travel(at_local(site, 2026, 11, 26, 8, 0), tick=True):
        auth.login("manager")
        before = row_counts()
        report = client.get("/manage/compliance?from=2026-11-25&to=2026-11-25").get_data(as_text=True)
        assert report.count("badge badge-missed") == 2 and "0 of 2 on time" in report
        log = client.get(f"/log/{site.id}/2026-11-25").get_data(as_text=True)
        assert log.count("badge badge-missed") == 2
        dashboard = client.get("/manage/dashboard").get_data(as_text=True)
        assert dashboard.count("badge badge-upcoming") == 2  # today's two rounds, planned
        assert row_counts() == before


def test_duty_log_compiles_the_day_and_is_saved_by_the_first_remarks(client, auth, demo, session):
    """The log reads the day's rounds with no row of its own; the first remarks save one row, once."""
    rnd = started_morning(demo)
    session.commit()
    auth.login("supervisor")
    url = f"/log/{demo.site.id}/{rnd.date.isoformat()}"
    page = client.get(url).get_data(as_text=True)
    assert "badge badge-in_progress" in page and "Afternoon round" in page
    assert session.scalar(select(func.count(DutyLog.id))) == 0
    token = csrf_from(page)
    for _ in range(2):  # resent
        assert client.post(f"{url}/remarks", data={"csrf_token": token, "text": "Gate 2 quiet"}).status_code == 302
    assert session.scalar(select(func.count(DutyLog.id))) == 1
    assert session.scalar(select(DutyLog.remarks)) == "Gate 2 quiet"


def test_compliance_costs_the_same_statements_for_a_week_or_a_month(client, auth, demo):
    """Rounds of a range are two queries, whatever its length (no query per day)."""
    auth.login("manager")
    day = today(demo)
    counts = []
    for days in (7, 28):
        url = f"/manage/compliance?from={(day - timedelta(days=days - 1)).isoformat()}&to={day.isoformat()}"
        client.get(url)  # warm
        with count_statements(client.application.extensions["sqlalchemy"].engine) as seen:
            assert client.get(url).status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
