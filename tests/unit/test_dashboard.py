"""Dashboard figures equal hand-counted figures on a small fixed data set."""
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from app.models import WorkOrder
from app.services import dashboard, rounds, schedule
from app.services import workorders as wo

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai


def find(rnd, template_code, item_code, nth=0):
    return [(s, i) for s in rnd.stops for i in s.version.items
            if s.version.template.code == template_code and i.code == item_code][nth]


@pytest.fixture
def data(session, demo):
    """Three days ago: morning round fails 3 items (2 cleaning, 1 security); one cleaning order is
    closed in time, one closed late after a reopen; the security order stays open and is overdue."""
    sup = demo.users["supervisor"]
    day = date(2026, 11, 20)
    start = datetime(2026, 11, 20, 1, 40, tzinfo=timezone.utc)  # 09:40 Shanghai
    with time_machine.travel(start, tick=False) as t:
        rnd = next(r for r in schedule.rounds_for_day(session, demo.site, day) if r.slot == "morning")
        rounds.start_round(session, rnd, sup)
        from app.models import Photo

        p = Photo(site_id=demo.site.id, sha256="9" * 64, thumb_sha256="8" * 64, width=1, height=1, size_bytes=1)
        session.add(p)
        for tpl, code in (("patrol_residential_common", "roads_clean"),
                          ("patrol_residential_common", "lobbies_stairs_clean"),
                          ("patrol_parking", "car_gate_guard_conduct")):
            stop, item = find(rnd, tpl, code)
            rounds.answer_item(session, rnd, stop, item, sup, result="fail", photos=[p])
        orders = {o.item.code: o for o in session.scalars(select(WorkOrder))}
        roads, lobby = orders["roads_clean"], orders["lobbies_stairs_clean"]  # both minor: 24 h
        t.shift(timedelta(hours=2))
        wo.act(session, roads, sup, "resolve", note="done", photos=[p])
        wo.act(session, roads, sup, "verify")
        t.shift(timedelta(hours=30))  # past lobby's due time
        wo.act(session, lobby, sup, "resolve", note="done", photos=[p])
        wo.act(session, lobby, sup, "reopen", note="still dusty")
        wo.act(session, lobby, sup, "resolve", note="done again", photos=[p])
        wo.act(session, lobby, sup, "verify")
    return demo


def test_figures_match_hand_counts(session, data):
    d = dashboard.build(session, [data.site], now=NOW)
    lines = {line.team.code: line for line in d["teams"]}
    assert (lines["security"].open, lines["security"].overdue) == (1, 1)
    assert (lines["cleaning"].open, lines["cleaning"].overdue) == (0, 0)
    assert (lines["cleaning"].hit7, lines["cleaning"].hit30, lines["cleaning"].closed30) == (50, 50, 2)
    assert lines["security"].hit30 is None
    assert (d["closed30"], d["reopened30"], d["reopen_pct"]) == (2, 1, 50)
    cells = {(a.code, c): d["heat"][(a.id, c)] for a in d["heat_areas"] for c in d["heat_categories"]
             if (a.id, c) in d["heat"]}
    assert cells == {("common_grounds", "cleanliness"): 2, ("surface_parking", "staff_conduct"): 1}
    assert [(code, n) for code, _, _, n in d["top"]] == [
        ("car_gate_guard_conduct", 1), ("lobbies_stairs_clean", 1), ("roads_clean", 1)]
    trend = {day: (raised, closed) for day, raised, closed in d["trend"]}
    assert trend[date(2026, 11, 20)] == (3, 1)  # roads closed the same day
    assert trend[date(2026, 11, 21)] == (0, 1)  # lobby closed the next day
    assert sum(r for r, _ in trend.values()) == 3 and len(d["trend"]) == 30


def test_dashboard_page_links_each_figure(client, auth, data):
    with time_machine.travel(NOW, tick=False):
        auth.login("manager")
        html = client.get("/manage/dashboard").get_data(as_text=True)
    sec = data.teams["security"].id
    assert f'href="/orders?team={sec}&amp;status=overdue" class="late">1</a>' in html
    assert "category=cleanliness" in html and "item=roads_clean" in html
    assert "<svg class=\"chart\"" in html


def test_several_sites_are_summarised_a_line_each(session, data):
    """With a second (quiet) estate, each site gets a line of hand-counted figures; the reopen rate,
    trend and top items cover both; no heat table or team lines (they are a site's own page)."""
    from tests.web.helpers import other_site

    other = other_site()
    with time_machine.travel(NOW, tick=False):
        d = dashboard.build(session, [data.site, other], now=NOW)
    lines = {line.site.code: line for line in d["sites"]}
    demo_line = lines["demo"]
    # 12:00: the morning round (09:30–11:00) was never started, so it is late; the afternoon one is upcoming.
    assert (demo_line.rounds, demo_line.walked, demo_line.behind) == (2, 0, 1)
    assert (demo_line.open, demo_line.overdue, demo_line.hit30, demo_line.failed30) == (1, 1, 50, 3)
    quiet = lines["other"]
    assert (quiet.rounds, quiet.walked, quiet.behind) == (1, 0, 1)
    assert (quiet.open, quiet.overdue, quiet.hit30, quiet.failed30) == (0, 0, None, 0)
    assert (d["closed30"], d["reopened30"], d["reopen_pct"]) == (2, 1, 50)
    assert [(code, n) for code, _, _, n in d["top"]] == [
        ("car_gate_guard_conduct", 1), ("lobbies_stairs_clean", 1), ("roads_clean", 1)]
    assert sum(r for _, r, _ in d["trend"]) == 3
    assert d["heat"] == {} and d["teams"] == [] and d["rounds"] == []
    one = dashboard.build(session, [data.site], now=NOW)
    assert one["sites"] is None and len(one["rounds"]) == 2


def test_all_sites_page_links_each_site_to_its_own_dashboard(session, client, auth, data):
    """The all-sites page names each site with its figures and opens the site's detailed page."""
    from tests.web.helpers import other_site

    other = other_site()
    manager = data.users["manager"]
    manager.sites.append(other)
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login("manager")
        html = client.get("/manage/dashboard?site=all").get_data(as_text=True)
        detail = client.get(f"/manage/dashboard?site={data.site.id}").get_data(as_text=True)
    assert f'<a href="/manage/dashboard?site={other.id}">Second Estate</a>' in html
    assert f'<a href="/manage/dashboard?site={data.site.id}">' in html
    assert "0/2<br><small class=\"late\">1 late or missed</small>" in html  # the morning round, unwalked at noon
    assert 'class="figures heat"' not in html
    assert 'class="figures heat"' in detail and "category=cleanliness" in detail
