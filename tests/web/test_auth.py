"""Login, throttling, sessions, CSRF, language choice."""
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest

from tests.conftest import csrf_from


def test_login_page_has_labelled_fields(client, demo):
    html = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<label for="username">Username</label>' in html
    assert '<label for="password">Password</label>' in html


def test_login_success_goes_to_today_and_lasts_the_working_day(client, auth, demo):
    resp = auth.login()
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/today"
    cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    hours = (expires - datetime.now(timezone.utc)).total_seconds() / 3600
    assert 11.9 < hours <= 12.01


def test_wrong_password_is_refused_with_a_message(client, auth, demo):
    resp = auth.login(password="nope")
    assert resp.status_code == 401
    assert "Wrong username or password" in resp.get_data(as_text=True)


def test_login_is_throttled_after_repeated_failures(client, auth, demo):
    """Five failures lock the account: even the right password is refused for a while."""
    for _ in range(5):
        assert auth.login(password="bad").status_code == 401
    resp = auth.login()
    assert resp.status_code == 429
    assert "Too many failed attempts" in resp.get_data(as_text=True)
    assert client.get("/today").status_code == 302  # still not logged in


def test_next_only_goes_to_this_site(client, demo):
    page = client.get("/login?next=https://evil.example/x")
    token = csrf_from(page.get_data(as_text=True))
    resp = client.post("/login?next=https://evil.example/x",
                       data={"username": "supervisor", "password": "rounds-demo", "csrf_token": token})
    assert resp.headers["Location"] == "/"


def test_login_without_csrf_token_is_refused(client, demo):
    resp = client.post("/login", data={"username": "supervisor", "password": "rounds-demo"})
    assert resp.status_code == 400
    assert "This page has expired" in resp.get_data(as_text=True)
    assert client.get("/today").status_code == 302


def test_anonymous_page_redirects_to_login(client, demo):
    resp = client.get("/today")
    assert resp.status_code == 302 and "/login?next=/today" in resp.headers["Location"]


def test_expired_session_in_htmx_request_redirects_whole_page(client, demo):
    """An htmx request without a session gets HX-Redirect to the login page, not a login form fragment."""
    resp = client.post("/rounds/1/stops/1/items/1", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/rounds/1/checkpoints/2"})
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"] == "/login?next=/rounds/1/checkpoints/2"
    assert "<form" not in resp.get_data(as_text=True)


def test_deactivated_user_cannot_log_in(client, auth, demo, session):
    demo.users["supervisor"].active = False
    session.commit()
    assert auth.login().status_code == 401


def test_logout_needs_post_with_csrf(client, auth, demo):
    auth.login()
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    token = auth.token()
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/today").status_code == 302


@pytest.mark.parametrize("header,lang,word", [
    ("zh-CN,zh;q=0.9", 'lang="zh-Hans"', "登录"),
    ("en-GB,en;q=0.8", 'lang="en"', "Log in"),
    ("", 'lang="zh-Hans"', "登录"),
])
def test_language_follows_the_browser(client, demo, header, lang, word):
    html = client.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
    assert lang in html and word in html


def test_language_switch_is_remembered_for_the_user(client, auth, demo, session):
    auth.login()
    token = auth.token()
    resp = client.post("/language", data={"lang": "en", "next": "/today", "csrf_token": token},
                       headers={"Accept-Language": "zh-CN"})
    assert resp.headers["Location"] == "/today"
    html = client.get("/today", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'lang="en"' in html and "Morning round" in html
    assert demo.users["supervisor"].locale == "en"


def test_pages_carry_security_headers(client, demo):
    resp = client.get("/login")
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
