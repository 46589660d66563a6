"""Nobody sees another site's rounds, orders or photos; crews see only their teams; photos are cached safely."""
import io

import pytest
from sqlalchemy import select

from app.models import Photo, WorkOrder
from tests.web.helpers import item_url, jpeg_bytes, other_site, started_morning

HX = {"HX-Request": "true", "Accept-Language": "en"}


@pytest.fixture
def failed(client, auth, demo, session):
    """The demo supervisor fails a cleaning item with a photo; returns (round, url, order, photo)."""
    auth.login()
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    resp = client.post(url, headers=HX, content_type="multipart/form-data", data={
        "result": "fail", "csrf_token": token, "photos": (io.BytesIO(jpeg_bytes()), "x.jpg")})
    assert resp.status_code == 200
    order = session.scalar(select(WorkOrder))
    photo = session.scalar(select(Photo))
    client.post("/logout", data={"csrf_token": token})
    return rnd, url, order, photo


def test_photo_served_with_etag_and_private_cache(client, auth, failed):
    _, _, _, photo = failed
    auth.login()
    resp = client.get(f"/photos/{photo.id}/thumb.jpg")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    assert resp.headers["ETag"] == f'"{photo.thumb_sha256}"'
    assert "private" in resp.headers["Cache-Control"]
    again = client.get(f"/photos/{photo.id}/thumb.jpg", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    full = client.get(f"/photos/{photo.id}/full.jpg")
    assert full.status_code == 200 and len(full.data) > len(resp.data)


def test_anonymous_cannot_fetch_a_photo(client, failed):
    _, _, _, photo = failed
    resp = client.get(f"/photos/{photo.id}/full.jpg")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_other_site_user_gets_404_everywhere(client, auth, failed, demo):
    """A supervisor of another estate guessing URLs sees nothing and changes nothing."""
    rnd, url, order, photo = failed
    other_site()
    auth.login("sup.other")
    token = auth.token()
    for path in (f"/rounds/{rnd.id}", f"/rounds/{rnd.id}/checkpoints/1", f"/rounds/{rnd.id}/finish",
                 f"/orders/{order.id}", f"/teams/{order.team_id}/orders",
                 f"/photos/{photo.id}/full.jpg", f"/photos/{photo.id}/thumb.jpg"):
        assert client.get(path).status_code == 404, path
    assert client.post(url, headers=HX, data={"result": "pass", "csrf_token": token}).status_code == 404
    assert client.post(f"/rounds/{rnd.id}/finish", data={"csrf_token": token}).status_code == 404
    html = client.get("/today", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Jade Lake Gardens" not in html and "Second Estate" in html


def test_crew_sees_own_team_order_and_photo_only(client, auth, failed, demo):
    _, url, order, photo = failed
    auth.login("crew.cleaning")
    assert client.get("/").headers["Location"] == "/orders"
    assert client.get(f"/orders/{order.id}").status_code == 200
    assert client.get(f"/photos/{photo.id}/thumb.jpg").status_code == 200
    client.post("/logout", data={"csrf_token": auth.token(f"/orders/{order.id}")})

    auth.login("crew.engineering")
    assert client.get(f"/orders/{order.id}").status_code == 404
    assert client.get(f"/photos/{photo.id}/thumb.jpg").status_code == 404
    assert client.get(f"/teams/{demo.teams['cleaning'].id}/orders").status_code == 404
    token = auth.token(f"/teams/{demo.teams['engineering'].id}/orders")
    assert client.post(url, headers=HX, data={"result": "pass", "csrf_token": token}).status_code == 404


def test_crew_cannot_walk_rounds(client, auth, demo):
    auth.login("crew.cleaning")
    rnd = started_morning(demo)
    assert client.get("/today").status_code == 302
    assert client.get(f"/rounds/{rnd.id}/checkpoints/1").status_code == 404


def test_photo_of_unlinked_upload_is_not_reachable_by_other_site(client, auth, failed):
    """Photo ids are sequential; the check is on the photo's site, not on knowing the URL."""
    _, _, _, photo = failed
    other_site()
    auth.login("crew.other")
    assert client.get(f"/photos/{photo.id}/full.jpg").status_code == 404


def test_manager_of_the_site_sees_order_and_history(client, auth, failed):
    _, _, order, _ = failed
    auth.login("manager")
    html = client.get(f"/orders/{order.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Roads and footpaths clean" in html and "Raised" in html and "Cleaning" in html
