"""Managers edit the SLA table and team webhooks; new orders use the new hours, old ones keep theirs."""
from datetime import timedelta

from sqlalchemy import select

from app.models import SlaRule, WorkOrder
from tests.web.helpers import item_url, started_morning


def form_data(demo, token, **overrides):
    data = {"csrf_token": token, "rectification_days": "15", "owner_link_days": "90"}
    for team in demo.site.teams:
        for sev, hours in (("critical", 2), ("major", 8), ("minor", 48)):
            data[f"t{team.id}_{sev}"] = str(hours)
        data[f"t{team.id}_webhook"] = ""
        data[f"t{team.id}_format"] = "generic"
    data.update(overrides)
    return data


def test_only_managers_see_settings(client, auth, demo):
    auth.login("supervisor")
    assert client.get(f"/manage/sites/{demo.site.id}/teams").status_code == 404
    client.post("/logout", data={"csrf_token": auth.token()})
    auth.login("manager")
    html = client.get(f"/manage/sites/{demo.site.id}/teams").get_data(as_text=True)
    assert "Teams and SLA" in html and 'value="24"' in html


def test_new_hours_apply_to_new_orders_only(client, auth, demo, session):
    auth.login("supervisor")
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/3")
    url, _, _ = item_url(rnd, "patrol_parking", "car_gate_guard_conduct")  # security, minor: 24 h
    client.post(url, headers={"HX-Request": "true"}, data={"result": "fail", "csrf_token": token})
    client.post("/logout", data={"csrf_token": token})
    auth.login("manager")
    token = auth.token(f"/manage/sites/{demo.site.id}/teams")
    sec = demo.teams["security"].id
    resp = client.post(f"/manage/sites/{demo.site.id}/teams", data=form_data(demo, token))
    assert resp.status_code == 302
    assert session.scalar(select(SlaRule.hours).where(SlaRule.team_id == sec, SlaRule.severity == "minor")) == 48
    old = session.scalar(select(WorkOrder))
    assert old.due_at - old.created_at == timedelta(hours=24)
    url2, _, _ = item_url(rnd, "patrol_parking", "parking_signage_intact")  # security, minor, photo
    from app.services import rounds
    from app.models import Photo

    p = Photo(site_id=demo.site.id, sha256="c" * 64, thumb_sha256="d" * 64, width=1, height=1, size_bytes=1)
    session.add(p)
    stop = next(s for s in rnd.stops if s.version.template.code == "patrol_parking")
    item = next(i for i in stop.version.items if i.code == "parking_signage_intact")
    rounds.answer_item(session, rnd, stop, item, demo.users["supervisor"], result="fail", photos=[p])
    new = session.scalars(select(WorkOrder).order_by(WorkOrder.id)).all()[-1]
    assert new.due_at - new.created_at == timedelta(hours=48)


def test_bad_values_are_refused_with_messages_and_nothing_saved(client, auth, demo, session):
    auth.login("manager")
    token = auth.token(f"/manage/sites/{demo.site.id}/teams")
    sec = demo.teams["security"].id
    resp = client.post(f"/manage/sites/{demo.site.id}/teams", data=form_data(
        demo, token, **{f"t{sec}_minor": "0", f"t{sec}_webhook": "ftp://nope"}))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Number must be between 1 and 2160" in html and "Enter an http(s) address." in html
    assert session.scalar(select(SlaRule.hours).where(SlaRule.team_id == sec, SlaRule.severity == "minor")) == 24


def test_manager_of_another_site_gets_404(client, auth, demo):
    from tests.web.helpers import other_site

    other = other_site()
    auth.login("manager")
    assert client.get(f"/manage/sites/{other.id}/teams").status_code == 404


def test_handover_days_per_site(client, auth, demo, session):
    auth.login("manager")
    token = auth.token(f"/manage/sites/{demo.site.id}/teams")
    resp = client.post(f"/manage/sites/{demo.site.id}/teams",
                       data=form_data(demo, token, rectification_days="10", owner_link_days="0"))
    assert resp.status_code == 422 and demo.site.rectification_days == 15
    resp = client.post(f"/manage/sites/{demo.site.id}/teams",
                       data=form_data(demo, token, rectification_days="10", owner_link_days="60"))
    assert resp.status_code == 302
    session.refresh(demo.site)
    assert (demo.site.rectification_days, demo.site.owner_link_days) == (10, 60)
