"""Shared fixtures: the app on SQLite or a throwaway PostgreSQL, clients, the demo estate."""
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from jinja2 import StrictUndefined
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.config import TestConfig
from app.extensions import db as _db


def pytest_addoption(parser):
    parser.addoption("--db", default="sqlite", choices=("sqlite", "postgresql"),
                     help="database backend for the whole run")


def pytest_collection_modifyitems(config, items):
    """Tests of what exists only on PostgreSQL (the task queue, the two-server setup) run in the
    PostgreSQL pass of `make test`; the SQLite pass leaves them out (deselected, not skipped)."""
    if config.getoption("--db") == "postgresql":
        return
    left_out = [item for item in items if item.get_closest_marker("postgresql_only")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql_only")]


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    """A file SQLite database (threads share it in browser tests) or a fresh PostgreSQL cluster."""
    if request.config.getoption("--db") == "postgresql":
        from tests.pg import Cluster

        cluster = Cluster().start()
        request.addfinalizer(cluster.stop)
        return cluster.create_db("rounds_test")
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def seaweed():
    """A SeaweedFS S3 server on loopback with one bucket, started only by the tests that ask for it."""
    from tests.seaweed import SeaweedS3

    server = SeaweedS3().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    """The app with its schema built by the real migrations."""
    from flask_migrate import upgrade

    import app.models.user as user_model

    user_model.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # cheap hashes: tests log in a lot

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        PHOTO_DIR = str(tmp_path_factory.mktemp("photos"))

    app = create_app(Config)
    app.jinja_env.undefined = StrictUndefined
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()  # close pooled connections before the PostgreSQL cluster stops


@pytest.fixture(autouse=True)
def _clean(app):
    """Each test starts with empty tables and an empty photo store."""
    ctx = app.app_context()
    ctx.push()
    yield
    _db.session.remove()
    _empty_tables()
    import shutil

    shutil.rmtree(app.config["PHOTO_DIR"], ignore_errors=True)
    Path(app.config["PHOTO_DIR"]).mkdir(parents=True, exist_ok=True)
    ctx.pop()


def _empty_tables(tries: int = 5) -> None:
    """Empty every table. On PostgreSQL a request a browser test left running can hold a lock that
    TRUNCATE needs; it then waits at most two seconds (or loses a deadlock) and tries again."""
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    for attempt in range(tries):
        try:
            with _db.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                    conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                      + " RESTART IDENTITY CASCADE"))
                else:
                    for t in tables:
                        conn.execute(text(f'DELETE FROM "{t}"'))
            return
        except OperationalError:
            if attempt == tries - 1:
                raise
            time.sleep(0.2)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def session(app):
    return _db.session


@pytest.fixture
def demo(app):
    """The demo estate: site, teams, users (password 'rounds-demo'), routes and templates."""
    from app.models import Route, Site, Team, User
    from app.services.seed import seed_demo

    seed_demo(_db.session)
    _db.session.commit()  # the fixture's own unit: tests that roll back keep the estate
    site = _db.session.scalar(select(Site).where(Site.code == "demo"))
    users = {u.username: u for u in _db.session.scalars(select(User))}
    teams = {t.code: t for t in _db.session.scalars(select(Team).where(Team.site_id == site.id))}
    routes = {r.code: r for r in _db.session.scalars(select(Route).where(Route.site_id == site.id))}
    return SimpleNamespace(site=site, users=users, teams=teams, routes=routes)


class FreshGlobalsClient(FlaskClient):
    """Each request gets a fresh `g`, as in production, and finds what the test wrote committed.

    Tests keep an app context pushed (for the database), and Flask reuses it for requests:
    without this, Flask-Login's cached user and Flask-WTF's CSRF token would leak between requests.
    The request shares the test's session and is one unit of work (a refused request rolls back), so
    what the test set up through services (which only flush) is committed first, as another
    client's work would be.
    """

    def open(self, *args, **kwargs):
        ctx = _cv_app.get(None)
        if ctx is not None:  # (a thread of its own has no test session to commit)
            _db.session.commit()
        saved = ctx.g if ctx is not None else None
        if ctx is not None:
            ctx.g = ctx.app.app_ctx_globals_class()
        try:
            resp = super().open(*args, **kwargs)
        finally:
            if ctx is not None:
                ctx.g = saved
        # A large multipart body is encoded into a temporary file that werkzeug's client leaves open
        # (a ResourceWarning, an error under this suite's filters, whenever it is collected).
        body = resp.request.environ.get("wsgi.input") if getattr(resp, "request", None) else None
        if body is not None and hasattr(body, "close"):
            body.close()
        return resp


@pytest.fixture
def client(app):
    app.test_client_class = FreshGlobalsClient
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # tests read English unless they ask for zh
    return client


CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_RE.search(html) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Auth:
    """Log a test client in and out through the real login form."""

    def __init__(self, client):
        self.client = client

    def login(self, username="supervisor", password="rounds-demo"):
        page = self.client.get("/login")
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": token})

    def token(self, path="/today"):
        return csrf_from(self.client.get(path).get_data(as_text=True))


@pytest.fixture
def auth(client):
    return Auth(client)


def at_local(site, y, m, d, hh, mm):
    """A site-local wall-clock time as an aware UTC datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=site.tz).astimezone(timezone.utc)


@pytest.fixture
def local():
    return at_local
