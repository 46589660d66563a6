"""People administration: managers add and change users of their sites, reset passwords, deactivate."""
import re

from sqlalchemy import select

from app.models import User
from tests.conftest import csrf_from
from tests.web.helpers import other_site


def test_manager_adds_a_crew_member_who_can_log_in(client, auth, demo, session):
    auth.login("manager")
    page = client.get("/manage/people/new").get_data(as_text=True)
    token = csrf_from(page)
    data = {"csrf_token": token, "username": "crew.new", "display_name": "钱新 Qian", "role": "crew",
            "sites": [demo.site.id], "teams": [], "active": "y"}
    resp = client.post("/manage/people/new", data=data)
    assert resp.status_code == 422 and "needs at least one team" in resp.get_data(as_text=True)
    resp = client.post("/manage/people/new", data={**data, "teams": [demo.teams["cleaning"].id]})
    html = resp.get_data(as_text=True)
    password = re.search(r'id="pw" type="text" readonly value="([^"]+)"', html).group(1)
    client.post("/logout", data={"csrf_token": token})
    assert auth.login("crew.new", password).headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/orders"


def test_manager_cannot_make_admins_or_reach_other_sites(client, auth, demo, session):
    other = other_site()
    auth.login("manager")
    token = auth.token("/manage/people/new")
    resp = client.post("/manage/people/new", data={"csrf_token": token, "username": "boss", "display_name": "B",
                                                   "role": "admin", "sites": [demo.site.id], "active": "y"})
    assert resp.status_code == 422 and session.scalar(select(User).where(User.username == "boss")) is None
    resp = client.post("/manage/people/new", data={"csrf_token": token, "username": "x", "display_name": "X",
                                                   "role": "supervisor", "sites": [other.id], "active": "y"})
    assert resp.status_code == 422
    stranger = session.scalar(select(User).where(User.username == "sup.other"))
    assert client.get(f"/manage/people/{stranger.id}").status_code == 404
    assert "sup.other" not in client.get("/manage/people").get_data(as_text=True)


def test_deactivated_user_keeps_history_and_cannot_log_in(client, auth, demo, session):
    sup = demo.users["supervisor2"]
    auth.login("manager")
    token = auth.token(f"/manage/people/{sup.id}")
    resp = client.post(f"/manage/people/{sup.id}", data={
        "csrf_token": token, "username": sup.username, "display_name": sup.display_name, "role": "supervisor",
        "sites": [demo.site.id]})  # active unticked
    assert resp.status_code == 302
    session.refresh(sup)
    assert sup.active is False and session.get(User, sup.id) is not None
    assert "Deactivated" in client.get("/manage/people").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token})
    assert auth.login("supervisor2").status_code == 401


def test_supervisors_have_no_people_admin(client, auth, demo):
    auth.login("supervisor")
    assert client.get("/manage/people").status_code == 404


def test_manager_edits_a_checklist_item_and_supervisor_cannot(client, auth, demo, session):
    from app.models import ChecklistTemplate

    tpl = session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "patrol_greenery"))
    item = tpl.current_version.items[0]
    auth.login("supervisor")
    assert client.get(f"/manage/templates/{tpl.id}").status_code == 404
    client.post("/logout", data={"csrf_token": auth.token()})
    auth.login("manager")
    url = f"/manage/sites/{demo.site.id}/templates/{tpl.id}/items/{item.code}"
    token = auth.token(url)
    base = {"csrf_token": token, "text_zh": item.text_zh, "category": item.category, "team_code": "greenery",
            "severity": "major", "points": "0"}
    resp = client.post(url, data={**base, "text_en": ""})
    assert resp.status_code == 422 and "Both the Chinese and the English text" in resp.get_data(as_text=True)
    assert client.post(url, data={**base, "text_en": "Lawns cut", "photo_required_on_fail": "y"}).status_code == 302
    from app.services.checklists import for_site

    edited = for_site(session, "patrol_greenery", demo.site.id).current_version.items[0]
    assert (edited.text_en, edited.severity) == ("Lawns cut", "major")
    exported = client.get("/manage/templates.yaml").get_data(as_text=True)
    assert "Lawns cut" in exported
