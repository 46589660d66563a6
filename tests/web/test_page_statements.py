"""A page's SQL statements do not grow with its rows: measured at N and 3N rows."""
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
