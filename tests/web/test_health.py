"""The proxy's health check, and request ids that tie a response to its log lines."""
import re

from flask.logging import default_handler

from app.extensions import db
from app.services.storage import LocalPhotoStore


def test_health_says_ok_without_a_session(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"database": "ok", "photos": "ok"}
    assert "Set-Cookie" not in resp.headers and resp.headers["Cache-Control"] == "no-store"


def test_a_photo_store_that_cannot_be_written_is_reported_down(app, client, monkeypatch, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    monkeypatch.setitem(app.extensions, "photo_store", LocalPhotoStore(blocked))
    resp = client.get("/healthz")
    assert resp.status_code == 503 and resp.get_json() == {"database": "ok", "photos": "down"}


def test_a_database_that_does_not_answer_is_reported_down_and_logged_with_the_request_id(
        app, client, monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    from app.extensions import db

    def refuse(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", refuse)
    monkeypatch.setitem(app.config, "SWEEP_INTERVAL_SECONDS", 3600)  # the sweep reads the database too
    resp = client.get("/healthz", headers={"X-Request-Id": "proxy-id-0123456789"})
    assert resp.status_code == 503 and resp.get_json()["database"] == "down"
    assert resp.headers["X-Request-Id"] == "proxy-id-0123456789"
    [record] = [r for r in caplog.records if "database does not answer" in r.getMessage()]
    line = default_handler.formatter.format(record)  # as the app server's log shows it
    assert re.search(r"WARNING \[proxy-id-0123456789\] app: health: database does not answer", line)


def test_every_response_has_a_request_id_and_a_forged_one_is_replaced(client):
    ids = {client.get("/login").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    forged = client.get("/login", headers={"X-Request-Id": "abc;rm -rf /<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-Id"])


def _database_away(app, monkeypatch):
    """Every statement fails as while PostgreSQL restarts."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    def away(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setitem(app.config, "SWEEP_INTERVAL_SECONDS", 3600)
    monkeypatch.setattr(Session, "execute", away)


def test_a_page_while_the_database_is_away_says_try_again_in_the_users_language(
        app, client, auth, demo, monkeypatch):
    """Not gunicorn's bare "Internal Server Error": a 503 that asks the database nothing (not even who
    is logged in), in the browser's language, with when to try again."""
    auth.login()
    _database_away(app, monkeypatch)
    resp = client.get("/today", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"
    assert 'lang="zh-Hans"' in html and "未保存" in html and "几秒" in html
    assert "Internal Server Error" not in html


def test_a_tap_while_the_database_is_away_is_told_to_try_again_in_place(app, client, auth, demo, monkeypatch):
    from tests.web.helpers import item_url, started_morning

    auth.login()
    rnd = started_morning(demo)
    db.session.commit()
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    url, _, _ = item_url(rnd, "patrol_parking", "car_gate_guard_conduct")
    _database_away(app, monkeypatch)
    resp = client.post(url, headers={"HX-Request": "true"}, data={"result": "pass", "csrf_token": token})
    assert resp.status_code == 503
    assert resp.get_data(as_text=True).startswith('<p class="error" role="alert">Not saved: the server')
