"""Patrol routes in manage: order, add and take off checkpoints, schedules; started rounds keep theirs."""
from sqlalchemy import select

from app.models import Area, ChecklistTemplate, Schedule
from app.services.patrols import active_checkpoints
from tests.web.helpers import started_morning


def test_reorder_add_remove_and_started_rounds_keep_theirs(client, auth, demo, session):
    route = demo.routes["morning"]
    rnd = started_morning(demo)  # frozen with 10 checkpoints
    auth.login("manager")
    token = auth.token(f"/manage/routes/{route.id}")
    first, second = active_checkpoints(route)[:2]
    client.post(f"/manage/routes/{route.id}/checkpoints/{second.id}/up", data={"csrf_token": token})
    session.refresh(route)
    assert active_checkpoints(route)[:2] == [second, first]
    area = session.scalar(select(Area).where(Area.code == "street_shops"))
    tpl = session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "patrol_street_shops"))
    client.post(f"/manage/routes/{route.id}/checkpoints/add",
                data={"csrf_token": token, "area": area.id, "template": tpl.id})
    client.post(f"/manage/routes/{route.id}/checkpoints/{first.id}/remove", data={"csrf_token": token})
    session.refresh(route)
    names = [c.area.code for c in active_checkpoints(route)]
    assert names[0] == "central_garden" and names[-1] == "street_shops" and "common_grounds" not in names
    assert first.active is False  # kept for the rounds that walked it
    assert len({s.checkpoint_id for s in rnd.stops}) == 10 and rnd.stops[0].checkpoint_id == first.id


def test_schedule_edit_validates(client, auth, demo, session):
    route = demo.routes["morning"]
    sch = session.scalar(select(Schedule).where(Schedule.route_id == route.id))
    auth.login("manager")
    token = auth.token(f"/manage/routes/{route.id}")
    url = f"/manage/routes/{route.id}/schedules/{sch.id}"
    resp = client.post(url, data={"csrf_token": token, "start": "11:00", "end": "09:30", "tolerance": "15",
                                  "weekday": ["1"], "active": "y"})
    assert "must end after it starts" in client.get(resp.headers["Location"]).get_data(as_text=True)
    client.post(url, data={"csrf_token": token, "start": "09:00", "end": "10:30", "tolerance": "10",
                           "weekday": ["1", "2", "3", "4", "5"], "active": "y"})
    session.refresh(sch)
    assert (sch.start_time.strftime("%H:%M"), sch.tolerance_minutes, sch.weekdays) == ("09:00", 10, "12345")


def test_route_admin_is_for_managers_of_the_site(client, auth, demo):
    auth.login("supervisor")
    assert client.get(f"/manage/routes/{demo.routes['morning'].id}").status_code == 404


def test_checklists_at_a_checkpoint(client, auth, demo, session):
    route = demo.routes["morning"]
    cp = active_checkpoints(route)[1]  # central garden: greenery
    washrooms = session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "patrol_washrooms"))
    greenery = cp.templates[0]
    auth.login("manager")
    token = auth.token(f"/manage/routes/{route.id}")
    url = f"/manage/routes/{route.id}/checkpoints/{cp.id}/templates"
    resp = client.post(url, data={"csrf_token": token})
    assert "needs at least one checklist" in client.get(resp.headers["Location"]).get_data(as_text=True)
    client.post(url, data={"csrf_token": token, "template": [str(greenery.id), str(washrooms.id)]})
    session.refresh(cp)
    assert {t.code for t in cp.templates} == {"patrol_greenery", "patrol_washrooms"}
    rnd = started_morning(demo)
    assert sum(1 for s in rnd.stops if s.checkpoint_id == cp.id) == 2
