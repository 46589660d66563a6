"""Sessions end everywhere on logout, password change or reset, and deactivation; changing one's password."""
import re

import pytest
from sqlalchemy import select

from app.models import User
from tests.conftest import Auth, FreshGlobalsClient, csrf_from


@pytest.fixture
def other_device(app):
    """A second client: another phone, or an attacker holding a copied cookie."""
    app.test_client_class = FreshGlobalsClient
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


def copy_session(src, dst):
    """Put src's session cookie into dst, as someone who copied it would."""
    dst.set_cookie("session", src.get_cookie("session").value)


def test_copied_cookie_dies_at_logout(client, auth, demo, other_device):
    auth.login()
    copy_session(client, other_device)
    assert other_device.get("/today").status_code == 200
    client.post("/logout", data={"csrf_token": auth.token()})
    assert other_device.get("/today").status_code == 302


def test_logout_ends_the_users_other_sessions(client, auth, demo, other_device):
    """Logging out on one phone ends the user's other sessions too (a lost phone stays logged in no longer)."""
    auth.login()
    Auth(other_device).login()
    client.post("/logout", data={"csrf_token": auth.token()})
    resp = other_device.get("/today")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_password_reset_by_a_manager_ends_the_users_sessions(client, auth, demo, other_device):
    auth.login("supervisor")
    assert client.get("/today").status_code == 200
    manager = Auth(other_device)
    manager.login("manager")
    sup = demo.users["supervisor"]
    token = manager.token(f"/manage/people/{sup.id}")
    assert other_device.post(f"/manage/people/{sup.id}/password", data={"csrf_token": token}).status_code == 200
    assert client.get("/today").status_code == 302


def test_deactivation_ends_the_users_sessions(client, auth, demo, other_device, session):
    auth.login("supervisor2")
    assert client.get("/today").status_code == 200
    manager = Auth(other_device)
    manager.login("manager")
    sup = demo.users["supervisor2"]
    token = manager.token(f"/manage/people/{sup.id}")
    other_device.post(f"/manage/people/{sup.id}", data={
        "csrf_token": token, "username": sup.username, "display_name": sup.display_name, "role": "supervisor",
        "sites": [demo.site.id]})  # active unticked
    assert client.get("/today").status_code == 302
    # Reactivated, the old cookie still does not come back to life.
    session.refresh(sup)
    sup.active = True
    session.commit()
    assert client.get("/today").status_code == 302


@pytest.mark.parametrize("user", ["supervisor", "crew.cleaning", "engineer", "manager", "contractor"])
def test_every_role_reaches_the_password_page(client, auth, demo, user):
    auth.login(user)
    home = client.get(client.get("/").headers["Location"]).get_data(as_text=True)
    assert 'href="/account/password">Change password</a>' in home
    html = client.get("/account/password").get_data(as_text=True)
    for label in ("Current password", "New password", "New password again", "At least 10 characters."):
        assert label in html


def test_password_page_in_chinese(client, auth, demo):
    auth.login()
    html = client.get("/account/password", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "修改密码" in html and "当前密码" in html and "再次输入新密码" in html


@pytest.mark.parametrize("current,new,repeat,message", [
    ("wrong-password", "a-new-password", "a-new-password", "This is not your current password."),
    ("rounds-demo", "short", "short", "At least 10 characters."),
    ("rounds-demo", "a-new-password", "another-password", "The two new passwords differ."),
    ("rounds-demo", "rounds-demo", "rounds-demo", "Choose a password different from the current one."),
])
def test_password_change_refusals(client, auth, demo, session, current, new, repeat, message):
    auth.login()
    token = auth.token("/account/password")
    before = demo.users["supervisor"].password_hash
    resp = client.post("/account/password", data={"csrf_token": token, "current": current, "new": new,
                                                   "repeat": repeat})
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, demo.users["supervisor"].id).password_hash == before


def test_password_change_keeps_this_session_and_ends_the_others(client, auth, demo, other_device, app):
    auth.login()
    copy_session(client, other_device)
    token = auth.token("/account/password")
    resp = client.post("/account/password", data={"csrf_token": token, "current": "rounds-demo",
                                                   "new": "a-new-password", "repeat": "a-new-password"})
    assert resp.status_code == 302
    assert "Password changed." in client.get("/today").get_data(as_text=True)  # this phone carries on
    assert other_device.get("/today").status_code == 302  # the copied cookie is dead
    client.post("/logout", data={"csrf_token": auth.token()})
    assert auth.login(password="rounds-demo").status_code == 401
    assert auth.login(password="a-new-password").status_code == 302


def test_guessing_the_current_password_is_throttled(client, auth, demo):
    """Someone holding an open session cannot try current passwords without limit."""
    auth.login()
    token = auth.token("/account/password")
    data = {"csrf_token": token, "current": "guess", "new": "a-new-password", "repeat": "a-new-password"}
    for _ in range(5):
        assert client.post("/account/password", data=data).status_code == 422
    resp = client.post("/account/password", data={**data, "current": "rounds-demo"})
    assert resp.status_code == 429 and "Too many failed attempts" in resp.get_data(as_text=True)


def test_secure_cookies_and_hsts_behind_tls(client, auth, demo, app, monkeypatch):
    """ROUNDS_SECURE_COOKIES=1: the session cookie is Secure and every response carries HSTS."""
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    page = client.get("/login", base_url="https://localhost")
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    resp = client.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"}, data={
        "username": "supervisor", "password": "rounds-demo", "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 302
    cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "Secure" in cookie


def test_secure_cookies_setting_comes_from_the_environment(monkeypatch):
    import importlib

    import app.config as config_module

    monkeypatch.setenv("ROUNDS_SECURE_COOKIES", "1")
    monkeypatch.setenv("ROUNDS_TRUSTED_PROXIES", "2")
    try:
        reloaded = importlib.reload(config_module)
        assert reloaded.Config.SESSION_COOKIE_SECURE is True and reloaded.Config.TRUSTED_PROXIES == 2
    finally:
        monkeypatch.delenv("ROUNDS_SECURE_COOKIES")
        monkeypatch.delenv("ROUNDS_TRUSTED_PROXIES")
        importlib.reload(config_module)
