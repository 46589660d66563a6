"""Hostile input on every route that takes a redirect target or a file: a clear answer, never a 500,
nothing stored, nothing already saved lost."""
import io
import os
import struct
import zlib
from functools import lru_cache

import pytest
from sqlalchemy import func, select

from app.models import Answer, Defect, Inspection, Photo, Unit, WorkOrder, WorkOrderEvent
from app.services import photos as photo_svc
from tests.web.helpers import item_url, jpeg_bytes, started_morning

HX = {"HX-Request": "true", "Accept-Language": "en"}

# What a hostile `next` looks like; every one must send the user to the route's own default page.
HOSTILE_NEXT = [
    "/\r\nSet-Cookie: x=1",        # CR/LF: a header break
    "/\nX",
    "/%0d%0aX",                     # encoded CR/LF (decoded once more by anything downstream)
    "/%250d%250aX",
    "/\t/evil.example",             # browsers drop the tab: //evil.example
    "/\x00/evil.example",
    "/\x7f",
    "\\evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "//evil.example",
    "///evil.example",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    " /today",
    "today",
    "/\u2028/evil.example",
]


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def stored_files(app) -> int:
    return sum(len(files) for _, _, files in os.walk(app.config["PHOTO_DIR"]))


# ---- redirect targets ---------------------------------------------------------------------------

@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_next_goes_home_when_hostile(client, auth, demo, target):
    """Logging in with a hostile `next`, and visiting /login with one while logged in, goes home."""
    resp = auth.client.get("/login", query_string={"next": target})
    assert resp.status_code == 200
    from tests.conftest import csrf_from

    token = csrf_from(resp.get_data(as_text=True))
    resp = client.post("/login", query_string={"next": target},
                       data={"username": "supervisor", "password": "rounds-demo", "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    resp = client.get("/login", query_string={"next": target})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_login_keeps_a_same_site_next(client, auth, demo):
    """The guard does not break the ordinary case: back to the page (query kept, Chinese encoded)."""
    auth.login()
    for target, expected in (("/orders?status=mine", "/orders?status=mine"),
                             ("/today", "/today"), ("/handover?q=卧室", "/handover?q=%E5%8D%A7%E5%AE%A4")):
        resp = client.get("/login", query_string={"next": target})
        assert resp.headers["Location"] == expected


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_language_switch_next_goes_home_when_hostile(client, auth, demo, session, target):
    """The header's language button with a hostile `next`: the language changes, the redirect stays home."""
    auth.login()
    token = auth.token()
    resp = client.post("/language", data={"lang": "en", "next": target, "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert demo.users["supervisor"].locale == "en"


@pytest.mark.parametrize("referrer", ["https://evil.example//evil.example/x", "http://x/\\evil", "javascript:x"])
def test_language_switch_without_next_ignores_a_hostile_referrer(client, auth, demo, referrer):
    auth.login()
    token = auth.token()
    resp = client.post("/language", data={"lang": "zh_Hans", "csrf_token": token}, headers={"Referer": referrer})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    resp = client.post("/language", data={"lang": "en", "csrf_token": token},
                       headers={"Referer": "http://localhost/orders?status=mine"})
    assert resp.headers["Location"] == "/orders?status=mine"


@pytest.fixture
def order(client, auth, demo, session):
    """A cleaning order raised by a failed item; the supervisor stays logged in."""
    auth.login()
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    client.post(url, headers=HX, content_type="multipart/form-data", data={
        "result": "fail", "note": "litter", "csrf_token": token,
        "photos": (io.BytesIO(jpeg_bytes()), "before.jpg")})
    return session.scalar(select(WorkOrder))


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_comment_with_hostile_next_is_saved_once_and_lands_on_the_order(client, auth, order, session, target):
    """The comment is recorded (once) and the user lands on the order: no 500 after the commit."""
    token = auth.token(f"/orders/{order.id}")
    before = count(session, WorkOrderEvent)
    resp = client.post(f"/orders/{order.id}/comment", content_type="multipart/form-data", data={
        "csrf_token": token, "version": str(order.version), "note": "checked again", "next": target})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/orders/{order.id}"
    assert count(session, WorkOrderEvent) == before + 1
    assert session.scalar(select(WorkOrderEvent.kind).order_by(WorkOrderEvent.id.desc())) == "commented"


def test_comment_keeps_a_same_site_next(client, auth, order):
    token = auth.token(f"/orders/{order.id}")
    resp = client.post(f"/orders/{order.id}/comment", content_type="multipart/form-data", data={
        "csrf_token": token, "version": str(order.version), "note": "ok", "next": "/orders/verify"})
    assert resp.headers["Location"] == "/orders/verify"


def test_safe_next_rules():
    """The one helper: same-site paths pass (non-ASCII encoded), everything else is the default."""
    from app.web import safe_next

    for bad in HOSTILE_NEXT + [None, "", "/" + "a" * 3000]:
        assert safe_next(bad, "/d") == "/d", bad
    assert safe_next("/orders/3?x=1#h", "/d") == "/orders/3?x=1#h"
    assert safe_next("/房间", "/d") == "/%E6%88%BF%E9%97%B4"
