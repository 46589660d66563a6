"""The proxy's health check, and request ids that tie a response to its log lines."""
import re

from flask.logging import default_handler

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
