"""A page's SQL statements do not grow with its rows: measured at N and 3N rows."""
import uuid
from datetime import datetime, timezone

import pytest

from app.extensions import db
from app.models import Photo
from app.services import workorders as wo
from tests.statements import count_statements


def add_orders(demo, n: int, start: int = 0) -> None:
    """n cleaning orders raised by hand, a third with a before photo, every other one resolved with an
    after photo (a row without a before photo shows its after photo)."""
    sup, crew = demo.users["supervisor"], demo.users["crew.cleaning"]
    team, area = demo.teams["cleaning"], demo.site.areas[0]
    for i in range(start, start + n):
        before = Photo(site_id=demo.site.id, sha256=f"b{i:063x}", thumb_sha256=f"c{i:063x}", width=1,
                       height=1, size_bytes=1)
        after = Photo(site_id=demo.site.id, sha256=f"a{i:063x}", thumb_sha256=f"d{i:063x}", width=1,
                      height=1, size_bytes=1)
        db.session.add_all([before, after])
        db.session.flush()
        order = wo.raise_by_hand(db.session, site=demo.site, team=team, area=area, severity="major",
                                 description=f"Spill {i} by the lift", user=sup,
                                 photos=[before] if i % 3 == 0 else [])
        if i % 2:
            wo.act(db.session, order, crew, "resolve", note="mopped", photos=[after])
    db.session.commit()


def statements_at(client, demo, url: str, n: int) -> tuple[int, int]:
    """Statements of one GET with n rows, then with 3n rows."""
    counts = []
    added = 0
    for total in (n, 3 * n):
        add_orders(demo, total - added, start=added)
        added = total
        client.get(url)  # warm: the sweep and the session's first loads
        with count_statements(db.engine) as seen:
            assert client.get(url).status_code == 200
        counts.append(len(seen))
    return counts[0], counts[1]


@pytest.mark.parametrize("user, url", [
    ("supervisor", "/orders?status=all"),
    ("crew.cleaning", "/orders"),
    ("supervisor", "/orders/verify"),
    ("supervisor", "/teams/1/orders"),
])
def test_order_lists_cost_the_same_at_n_and_3n_rows(client, auth, demo, user, url):
    auth.login(user)
    few, many = statements_at(client, demo, url, 4)
    assert few == many, (few, many)
    assert many <= 12, many


def add_units(demo, n: int, start: int) -> None:
    """n more units in a building of their own, one in three inspected and signed with a defect."""
    from app.models import Building, Defect, Inspection, Unit

    building = Building(site_id=demo.site.id, code=f"T{start}")
    db.session.add(building)
    for i in range(n):
        unit = Unit(site_id=demo.site.id, building=building, unit_no="1", floor=1, room=f"{start + i:04d}")
        db.session.add(unit)
        if i % 3 == 0:
            db.session.flush()
            insp = Inspection(site_id=demo.site.id, unit_id=unit.id, engineer_id=demo.users["engineer"].id,
                              version_id=1, status="signed", kind="initial", owner_present="张伟")
            db.session.add(insp)
            db.session.flush()
            db.session.add(Defect(inspection_id=insp.id, unit_id=unit.id, room_key="kitchen", severity="minor"))
    db.session.commit()


@pytest.mark.parametrize("url", ["/handover/", "/handover/project"])
def test_handover_pages_cost_the_same_at_n_and_3n_units(client, auth, demo, url):
    auth.login("engineer")
    counts = []
    for n, start in ((6, 0), (12, 100)):  # 6 units, then 18
        add_units(demo, n, start)
        client.get(url)
        with count_statements(db.engine) as seen:
            assert client.get(url).status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


def fake_photo(demo, key: str) -> "Photo":
    """A stored-photo row (no file: the page only links to it)."""
    photo = Photo(site_id=demo.site.id, sha256=key.ljust(64, "0"), thumb_sha256=key.ljust(64, "1"), width=1,
                  height=1, size_bytes=1)
    db.session.add(photo)
    db.session.flush()
    return photo


def test_checkpoint_page_costs_the_same_at_n_and_3n_answered_items(client, auth, demo):
    """The first checkpoint with 3, then 9 of its 13 items failed, each with two photos and its work order
    (and the rest passed): its answers, photos and orders are loaded for all items at once."""
    from app.services import rounds
    from tests.web.helpers import started_morning

    rnd = started_morning(demo)
    stop = rounds.stops_by_checkpoint(rnd)[0][0]
    items = list(stop.version.items)
    sup = demo.users["supervisor"]
    auth.login("supervisor")
    url = f"/rounds/{rnd.id}/checkpoints/1"
    counts, done = [], 0
    for n in (3, 9):
        for i in range(done, n):
            rounds.answer_item(db.session, rnd, stop, items[i], sup, result="fail", note=f"broken {i}",
                               photos=[fake_photo(demo, f"f{i}a"), fake_photo(demo, f"f{i}b")])
        rounds.answer_item(db.session, rnd, stop, items[-1 - n // 3], sup, result="pass")
        done = n
        db.session.commit()
        client.get(url)
        with count_statements(db.engine) as seen:
            html = client.get(url).get_data(as_text=True)
        assert html.count("Work order #") == n
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 12, counts


def add_walked_sites(demo, n: int, start: int) -> None:
    """n more estates on the supervisor's and the manager's lists, each with a morning route whose round
    today is started with one item failed (raising its order) and one passed (and an afternoon round
    not started)."""
    from datetime import time

    from app.models import Area
    from app.services import rounds, schedule
    from app.services.seed import AREAS, MORNING_ROUTE, create_route, create_site, load_templates

    sup = demo.users["supervisor"]
    templates = load_templates(db.session)
    for i in range(start, start + n):
        site = create_site(db.session, f"s{i}", f"小区{i}", f"Estate {i}")
        for code, (zh, en) in AREAS.items():
            db.session.add(Area(site=site, code=code, name_zh=zh, name_en=en))
        db.session.flush()
        db.session.refresh(site)
        for slot, at in (("morning", time(9, 30)), ("afternoon", time(15, 0))):
            create_route(db.session, site, slot, (slot, slot), MORNING_ROUTE, templates, slot, at,
                         time(at.hour + 1, 30))
        sup.sites.append(site)
        demo.users["manager"].sites.append(site)
        rnd = next(r for r in schedule.rounds_for_day(db.session, site, schedule.site_today(site))
                   if r.slot == "morning")
        rnd = rounds.start_round(db.session, rnd, sup)
        stop = rnd.stops[0]
        for item, result in zip(stop.version.items, ("fail", "pass")):
            rounds.answer_item(db.session, rnd, stop, item, sup, result=result,
                               photos=[fake_photo(demo, f"s{i}{item.id}")])
    db.session.commit()


def test_today_costs_the_same_at_n_and_3n_sites(client, auth, demo):
    """Today for a supervisor of 2, then 6 more estates, each with a round started and partly answered:
    the rounds of every site are planned and their progress counted in a fixed number of statements."""
    auth.login("supervisor")
    counts = []
    for n, start in ((2, 0), (4, 2)):  # 2 estates, then 6
        add_walked_sites(demo, n, start)
        client.get("/today")
        with count_statements(db.engine) as seen:
            html = client.get("/today").get_data(as_text=True)
        assert html.count("items not answered") == start + n  # every walked round says how many are left
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 10, counts


def test_dashboard_of_all_sites_costs_the_same_at_n_and_3n_sites(client, auth, demo):
    """The manager's dashboard of every site, 3 then 7 estates: a line per site (its rounds, orders and
    failures) in a fixed number of statements, and no site's heat table."""
    auth.login("manager")
    counts = []
    for n, start in ((2, 0), (4, 2)):  # with the demo's: 3 estates, then 7
        add_walked_sites(demo, n, start)
        client.get("/manage/dashboard?site=all")
        with count_statements(db.engine) as seen:
            html = client.get("/manage/dashboard?site=all").get_data(as_text=True)
        assert html.count('<tr><th scope="row"><a href="/manage/dashboard?site=') == start + n + 1
        assert 'class="figures heat"' not in html
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 14, counts


def test_large_project_is_shown_a_building_at_a_time(client, auth, demo):
    """Past 200 units the handover index lists one building (a picker names them all with their
    units) in at most 200 tiles a page: 3 buildings of 90 units, then 9, in the same statements."""
    auth.login("engineer")
    counts = []
    for buildings, start in ((3, 0), (6, 3)):
        for b in range(start, start + buildings):
            add_units(demo, 90, 1000 * (b + 1))
        client.get("/handover/")
        with count_statements(db.engine) as seen:
            html = client.get("/handover/").get_data(as_text=True)
        counts.append(len(seen))
        assert 0 < html.count('class="unit-tile') <= 90  # the first building's units only (the demo's)
        assert html.count("(90)</small>") == start + buildings  # every building in the picker
    assert counts[0] == counts[1], counts

    add_units(demo, 250, 90000)  # one building of 250 units: two pages
    from app.models import Building

    big = db.session.scalar(db.select(Building).where(Building.code == "T90000"))
    html = client.get(f"/handover/?building={big.id}").get_data(as_text=True)
    assert html.count('class="unit-tile') == 200 and "Units 1–200 of 250" in html
    assert f'href="/handover/?building={big.id}&amp;page=2"' in html
    rest = client.get(f"/handover/?building={big.id}&page=2").get_data(as_text=True)
    assert rest.count('class="unit-tile') == 50 and "Units 201–250 of 250" in rest
    inspected = client.get(f"/handover/?building={big.id}&status=not_inspected").get_data(as_text=True)
    assert inspected.count('class="unit-tile') == 166  # two in three were never inspected


def test_a_long_list_says_it_shows_only_the_first_orders(client, auth, demo, monkeypatch):
    """Past the limit the list says so and how to see the rest, instead of dropping rows silently."""
    monkeypatch.setattr(wo, "QUEUE_LIMIT", 4)
    add_orders(demo, 4)
    auth.login("supervisor")
    page = client.get("/orders?status=all").get_data(as_text=True)
    assert page.count('class="card order-row') == 4 and "Showing the first" not in page
    add_orders(demo, 1, start=4)
    page = client.get("/orders?status=all").get_data(as_text=True)
    assert page.count('class="card order-row') == 4
    assert "Showing the first 4 orders. Choose a status, area or team to see the rest." in page


def test_an_answer_tap_costs_a_few_statements_however_many_are_stored(app, client, auth, demo, monkeypatch):
    """The tap path as the phone sends it (with its op id and times): an update is 5 statements and a
    new pass 7 (each records its change in the item's history), with 3 or 30 items answered before.
    The once-a-minute sweep (two or three more), which tests otherwise run on every request, is not
    the tap's."""
    from tests.web.helpers import started_morning

    monkeypatch.setitem(app.config, "SWEEP_INTERVAL_SECONDS", 3600)

    auth.login()
    rnd = started_morning(demo)
    db.session.commit()
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    pairs = [(s.id, i.id) for s in rnd.stops for i in s.version.items if not i.photo_required_on_fail]
    hx = {"HX-Request": "true"}

    def tap(stop_id, item_id, result="pass"):
        now = datetime.now(timezone.utc).isoformat()
        return client.post(f"/rounds/{rnd.id}/stops/{stop_id}/items/{item_id}", headers=hx,
                           data={"csrf_token": token, "result": result, "note": "", "op": str(uuid.uuid4()),
                                 "answered_at": now, "sent_at": now})

    counts = []
    for answered in (3, 30):
        for stop_id, item_id in pairs[:answered]:
            assert tap(stop_id, item_id).status_code == 200
        with count_statements(db.engine) as update:
            assert tap(*pairs[0], result="na").status_code == 200
        with count_statements(db.engine) as new:
            assert tap(*pairs[answered]).status_code == 200
        counts.append((len(update), len(new)))
    assert counts[0] == counts[1], counts
    assert counts[0][0] <= 5 and counts[0][1] <= 7, counts  # 7 and 9 with the sweep counted
