"""Administration and the manager's desk: supervisors and crew get 404; a manager sees only their sites."""
import pytest

from tests.web.helpers import other_site

ADMIN_PAGES = ["/manage/dashboard", "/manage/compliance", "/manage/people", "/manage/templates",
               "/manage/routes", "/manage/templates.yaml", "/manage/export/orders.csv", "/manage/teams"]


@pytest.mark.parametrize("who", ["supervisor", "crew.cleaning", "engineer"])
def test_non_managers_cannot_reach_administration(client, auth, demo, who):
    auth.login(who)
    for path in ADMIN_PAGES + [f"/manage/sites/{demo.site.id}", f"/manage/routes/{demo.routes['morning'].id}"]:
        assert client.get(path).status_code == 404, path


def test_manager_of_one_site_sees_nothing_of_another(client, auth, demo, session):
    other = other_site()
    from sqlalchemy import select

    from app.models import Route

    route = session.scalar(select(Route).where(Route.site_id == other.id))
    auth.login("manager")
    for path in (f"/manage/sites/{other.id}", f"/manage/sites/{other.id}/teams", f"/manage/routes/{route.id}",
                 f"/manage/routes/{route.id}/qr", f"/log/{other.id}/2026-11-20"):
        assert client.get(path).status_code == 404, path
    dash = client.get(f"/manage/dashboard?site={other.id}").get_data(as_text=True)
    assert "Second Estate" not in dash
    assert "Second Estate" not in client.get("/manage/compliance").get_data(as_text=True)
