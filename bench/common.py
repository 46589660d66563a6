"""What the benchmarks share: the app on a throwaway database, a statement counter, login, percentiles.

Import after the script has put the project root on sys.path and set ROUNDS_SECRET_KEY.
"""
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

from sqlalchemy import event

from app import create_app
from app.config import Config, TestConfig

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
PASSWORD = "rounds-demo"
BACKENDS = ("sqlite", "postgresql")


class QueryCounter:
    """Counts statements and the time the driver spends on them between reset() calls; with
    reset(capture=True) it also keeps (sql, parameters, ms) of each."""

    def __init__(self):
        self.n = 0
        self.seconds = 0.0
        self.capture: list[tuple] | None = None
        self._t0 = 0.0

    def reset(self, capture: bool = False):
        self.n, self.seconds = 0, 0.0
        self.capture = [] if capture else None

    def attach(self, engine):
        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):
            self.n += 1
            self._t0 = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):
            elapsed = time.perf_counter() - self._t0
            self.seconds += elapsed
            if self.capture is not None:
                self.capture.append((statement, parameters, elapsed * 1000))


def one_line(sql: str, width: int = 160) -> str:
    return " ".join(sql.split())[:width]


def make_app(url: str, photo_dir: str, **settings):
    """The real app on `url`, configured as in production where it matters to a measurement."""
    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        # The production engine options (pool_pre_ping), not the test suite's empty ones.
        SQLALCHEMY_ENGINE_OPTIONS = dict(Config.SQLALCHEMY_ENGINE_OPTIONS)
        PHOTO_DIR = photo_dir
        SWEEP_INTERVAL_SECONDS = Config.SWEEP_INTERVAL_SECONDS  # as in production, not every request
        WTF_CSRF_ENABLED = True  # the real path: tokens are fetched from the pages

    for key, value in settings.items():
        setattr(BenchConfig, key, value)
    return create_app(BenchConfig)


class Databases:
    """Throwaway databases of one backend (a PostgreSQL cluster started on loopback when needed);
    everything is removed by the cleanup list."""

    def __init__(self, backend: str, cleanup: list, prefix: str):
        self.backend = backend
        self.tmp = tempfile.mkdtemp(prefix=f"{prefix}-{backend}-")
        cleanup.append(lambda: shutil.rmtree(self.tmp, ignore_errors=True))
        self.cluster = None
        if backend == "postgresql":
            from tests.pg import Cluster

            self.cluster = Cluster().start()
            cleanup.append(self.cluster.stop)

    def url(self, name: str) -> str:
        return self.cluster.create_db(name) if self.cluster else f"sqlite:///{self.tmp}/{name}.db"

    def drop(self, name: str) -> None:
        """Remove a database made by url(name) (its engines disposed first), to free the disk."""
        if self.cluster is None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.remove(f"{self.tmp}/{name}.db{suffix}")
                except FileNotFoundError:
                    pass
            return
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.cluster.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def photo_dir(self, name: str) -> str:
        path = os.path.join(self.tmp, f"photos_{name}")
        os.makedirs(path, exist_ok=True)
        return path


def parse_backends(text: str) -> list[str]:
    backends = [b.strip() for b in text.split(",") if b.strip()]
    for b in backends:
        if b not in BACKENDS:
            raise SystemExit(f"unknown backend {b!r}")
    return backends


def run_each(backends: list[str], run) -> list:
    """run(backend, cleanup) for each backend; whatever happens, everything started is cleaned up."""
    results, cleanup = [], []
    try:
        for backend in backends:
            results.append(run(backend, cleanup))
    finally:
        for fn in reversed(cleanup):
            try:
                fn()
            except Exception as e:  # keep cleaning up the rest
                print(f"cleanup: {e}", file=sys.stderr)
    return results


def login(client, username: str, password: str = PASSWORD) -> str:
    """Log in through the real /login form (with its CSRF token); returns the token."""
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    if resp.status_code != 302:
        raise SystemExit(f"login as {username} failed: {resp.status_code}")
    return token


def demo_round():
    """Inside an app context: the schema by the real migrations, the demo seed, and today's morning
    round started by `supervisor` and committed. Returns the round."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Site, User
    from app.services import schedule
    from app.services.rounds import start_round
    from app.services.seed import seed_demo

    upgrade()
    seed_demo(db.session)
    site = db.session.scalar(select(Site).where(Site.code == "demo"))
    user = db.session.scalar(select(User).where(User.username == "supervisor"))
    rnd = next(r for r in schedule.rounds_for_day(db.session, site, schedule.site_today(site))
               if r.slot == "morning")
    start_round(db.session, rnd, user)
    db.session.commit()  # services flush; the setup is its own unit of work
    return rnd


def pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]
