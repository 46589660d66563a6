"""Site administration: name and zone, areas and teams added or renamed, never deleted."""
from sqlalchemy import select

from app.models import Area, SlaRule, Team


def test_manager_edits_site_adds_area_and_contractor(client, auth, demo, session):
    auth.login("manager")
    url = f"/manage/sites/{demo.site.id}"
    token = auth.token(url)
    resp = client.post(f"{url}/details", data={"csrf_token": token, "name_zh": "翠湖花园", "name_en": "Jade Lake",
                                               "timezone": "Mars/Olympus"})
    assert "Unknown time zone" in client.get(resp.headers["Location"]).get_data(as_text=True)
    client.post(f"{url}/details", data={"csrf_token": token, "name_zh": "翠湖花园", "name_en": "Jade Lake",
                                        "timezone": "Asia/Shanghai"})
    client.post(f"{url}/areas/new", data={"csrf_token": token, "code": "sample_unit_b", "name_zh": "样板房B",
                                      "name_en": "Sample unit B"})
    client.post(f"{url}/teams/new", data={"csrf_token": token, "code": "contractor_lixin", "name_zh": "立信装饰",
                                      "name_en": "Lixin Fit-out", "contractor": "y"})
    resp = client.post(f"{url}/areas/new", data={"csrf_token": token, "code": "sample_unit_b", "name_zh": "x",
                                             "name_en": "x"})
    assert "already has sample_unit_b" in client.get(resp.headers["Location"]).get_data(as_text=True)
    session.refresh(demo.site)
    assert demo.site.name_en == "Jade Lake"
    assert session.scalar(select(Area).where(Area.code == "sample_unit_b")).name_en == "Sample unit B"
    team = session.scalar(select(Team).where(Team.code == "contractor_lixin"))
    assert team.is_contractor and len(session.scalars(select(SlaRule).where(SlaRule.team_id == team.id)).all()) == 3


def test_supervisor_cannot_edit_sites(client, auth, demo):
    auth.login("supervisor")
    assert client.get(f"/manage/sites/{demo.site.id}").status_code == 404


def test_rename_an_area_of_another_site_is_404(client, auth, demo, session):
    from tests.web.helpers import other_site

    other = other_site()
    area = session.scalar(select(Area).where(Area.site_id == other.id))
    auth.login("manager")
    token = auth.token(f"/manage/sites/{demo.site.id}")
    resp = client.post(f"/manage/sites/{demo.site.id}/areas/{area.id}",
                       data={"csrf_token": token, "name_zh": "x", "name_en": "x"})
    assert resp.status_code == 404
