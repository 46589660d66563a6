"""Login, throttling, sessions, CSRF, language choice."""
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
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


def login_from(client, address, username="supervisor", password="rounds-demo", lang="en"):
    """Log in through the form as if from `address` (the peer address the app sees)."""
    env = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=env)
    return client.post("/login", environ_base=env, headers={"Accept-Language": lang},
                       data={"username": username, "password": password,
                             "csrf_token": csrf_from(page.get_data(as_text=True))})


def shift_failures(session, seconds):
    """Move every recorded failure `seconds` into the past (time passing, without waiting)."""
    from datetime import timedelta

    from app.models import LoginFailure

    for row in session.scalars(select(LoginFailure)):
        row.at -= timedelta(seconds=seconds)
    session.commit()


def test_five_failures_pause_that_address_with_the_username_kept(client, demo):
    """Five failures from one address pause its tries at that username: 429, a message, the name kept."""
    for _ in range(5):
        assert login_from(client, "10.0.0.66", password="bad").status_code == 401
    resp = login_from(client, "10.0.0.66")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) <= 30
    assert "Too many failed attempts. Try again in 1 minute." in html
    assert re.search(r'<input[^>]*id="username"[^>]*value="supervisor"', html)
    assert client.get("/today").status_code == 302  # still not logged in
    zh = login_from(client, "10.0.0.66", lang="zh-CN").get_data(as_text=True)
    assert "失败次数过多" in zh and 'value="supervisor"' in zh


def test_attacker_cannot_lock_the_owner_out(client, demo):
    """Failures from another address never stop the owner's right password from theirs."""
    for _ in range(12):
        login_from(client, "203.0.113.9", password="guess")
    assert login_from(client, "203.0.113.9").status_code == 429
    resp = login_from(client, "10.1.2.3")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_pauses_back_off_and_end(client, demo, session):
    """30 s after the fifth failure, 60 s after the sixth; once over, the right password works."""
    for _ in range(5):
        login_from(client, "10.0.0.7", password="bad")
    shift_failures(session, 31)
    assert login_from(client, "10.0.0.7", password="bad").status_code == 401  # checked: the sixth failure
    assert login_from(client, "10.0.0.7").status_code == 429
    shift_failures(session, 31)
    assert login_from(client, "10.0.0.7").status_code == 429  # 60 s now
    shift_failures(session, 30)
    assert login_from(client, "10.0.0.7").status_code == 302


def test_success_clears_the_pair(client, auth, demo, session):
    """A successful login forgets that username's failures from that address."""
    from app.models import LoginFailure

    for _ in range(4):
        login_from(client, "10.0.0.8", password="bad")
    assert login_from(client, "10.0.0.8").status_code == 302
    assert session.scalar(select(func.count(LoginFailure.id))) == 0
    client.post("/logout", data={"csrf_token": auth.token()})
    for _ in range(4):
        assert login_from(client, "10.0.0.8", password="bad").status_code == 401
    assert login_from(client, "10.0.0.8").status_code == 302


def test_twenty_failures_pause_the_address_for_every_username(client, demo):
    """Guessing across usernames from one address pauses that address, and only that one."""
    for i in range(20):
        login_from(client, "198.51.100.4", username=f"nobody{i}", password="x")
    assert login_from(client, "198.51.100.4").status_code == 429
    assert login_from(client, "198.51.100.5").status_code == 302


def test_unknown_username_costs_the_same_hash(client, demo, monkeypatch):
    """An unknown username is checked against a dummy hash of the same method: no timing tell."""
    import app.models.user as user_model

    checked = []
    real = user_model.check_password_hash

    def spy(pwhash, password):
        checked.append(pwhash.split("$")[0])
        return real(pwhash, password)

    monkeypatch.setattr(user_model, "check_password_hash", spy)
    assert login_from(client, "10.0.0.9", username="no.such.user", password="whatever").status_code == 401
    assert login_from(client, "10.0.0.9", username="supervisor", password="whatever").status_code == 401
    method = demo.users["supervisor"].password_hash.split("$")[0]
    assert checked == [method, method]
    demo.users["supervisor2"].active = False
    db.session.commit()
    assert login_from(client, "10.0.0.9", username="supervisor2").status_code == 401
    assert len(checked) == 3  # a deactivated account costs the same too


def test_parallel_wrong_passwords_are_all_counted(app, demo, monkeypatch):
    """Ten wrong passwords at once: at most five are checked, and every check is recorded."""
    import threading
    import time

    import app.models.user as user_model
    from tests.conftest import FreshGlobalsClient

    checks, lock = [], threading.Lock()
    real = user_model.check_password_hash

    def slow(pwhash, password):
        with lock:
            checks.append(1)
        time.sleep(0.3)  # a real scrypt check takes about this long: the requests overlap
        return real(pwhash, password)

    monkeypatch.setattr(user_model, "check_password_hash", slow)
    app.test_client_class = FreshGlobalsClient
    clients = [app.test_client() for _ in range(10)]
    tokens = [csrf_from(c.get("/login").get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(10)
    statuses = []

    def attempt(c, token):
        barrier.wait()
        resp = c.post("/login", data={"username": "supervisor", "password": "wrong", "csrf_token": token})
        with lock:
            statuses.append(resp.status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert set(statuses) <= {401, 429} and len(statuses) == 10
    assert 1 <= len(checks) <= 5  # the others were refused without a check
    from app.models import LoginFailure

    db.session.remove()
    recorded = db.session.scalar(select(func.count(LoginFailure.id)))
    assert recorded == len(checks) == statuses.count(401)


def test_client_address_comes_through_trusted_proxies(app, demo):
    """With ROUNDS_TRUSTED_PROXIES=1 users behind the proxy are told apart; without, the header is ignored."""
    from app import create_app
    from tests.conftest import FreshGlobalsClient

    config = type("ProxiedConfig", (), {**{k: v for k, v in app.config.items() if k.isupper()},
                                        "TRUSTED_PROXIES": 1})
    proxied = create_app(config)
    proxied.test_client_class = FreshGlobalsClient
    try:
        behind = proxied.test_client()
        behind.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

        def via_proxy(client, forwarded, username, password):
            headers = {"X-Forwarded-For": forwarded}
            token = csrf_from(client.get("/login", headers=headers).get_data(as_text=True))
            return client.post("/login", headers=headers, data={"username": username, "password": password,
                                                                 "csrf_token": token})

        for i in range(20):
            via_proxy(behind, "198.51.100.20", f"nobody{i}", "x")
        assert via_proxy(behind, "198.51.100.20", "supervisor", "rounds-demo").status_code == 429
        assert via_proxy(behind, "198.51.100.21", "supervisor", "rounds-demo").status_code == 302
    finally:
        with proxied.app_context():
            db.engine.dispose()
    direct = app.test_client()
    token = csrf_from(direct.get("/login").get_data(as_text=True))
    direct.post("/login", headers={"X-Forwarded-For": "192.0.2.1"},
                data={"username": "supervisor", "password": "bad", "csrf_token": token})
    from app.models import LoginFailure

    assert db.session.scalar(select(LoginFailure.address).where(LoginFailure.username == "supervisor")) \
        == "127.0.0.1"


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


def test_a_shift_logging_in_at_once_from_one_network_is_not_paused(app, client, demo, session):
    """Twenty-five logins from the office network still being checked (rows not yet decided) do not
    pause a correct login from it; twenty-five decided failures do."""
    from app.models import LoginFailure
    from app.models.types import utcnow

    office = "203.0.113.7"
    session.add_all([LoginFailure(username=f"staff{i}", address=office, at=utcnow()) for i in range(25)])
    session.commit()
    assert login_from(client, office).status_code == 302
    session.execute(LoginFailure.__table__.update().where(LoginFailure.address == office)
                    .values(decided=True))
    session.commit()
    another_phone = app.test_client()
    assert login_from(another_phone, office, username="manager").status_code == 429


def test_a_burst_of_guesses_from_one_address_is_paused_before_any_is_decided(client, demo, session):
    """Forty-one attempts in flight from one address (more than twice the limit): the next one waits."""
    from app.models import LoginFailure
    from app.models.types import utcnow

    session.add_all([LoginFailure(username=f"guess{i}", address="198.51.100.9", at=utcnow())
                     for i in range(41)])
    session.commit()
    assert login_from(client, "198.51.100.9").status_code == 429
