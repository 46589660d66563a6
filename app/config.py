"""Configuration from the environment; TestConfig for the test suite."""
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _secret_key() -> str | None:
    """The secret key comes from the environment (the Makefile generates one for the demo)."""
    return os.environ.get("ROUNDS_SECRET_KEY") or os.environ.get("SECRET_KEY")


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'rounds.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    PHOTO_DIR = os.environ.get("ROUNDS_PHOTO_DIR", str(BASE_DIR / "instance" / "photos"))
    # Where photos live: "local" (PHOTO_DIR, the default) or "s3", an S3-compatible object store
    # (SeaweedFS, MinIO, AWS) shared by every app server. Credentials only from the environment.
    PHOTO_STORE = os.environ.get("ROUNDS_PHOTO_STORE", "local")
    S3_ENDPOINT = os.environ.get("ROUNDS_S3_ENDPOINT", "")  # e.g. http://127.0.0.1:8333; empty: AWS
    S3_REGION = os.environ.get("ROUNDS_S3_REGION", "us-east-1")
    S3_BUCKET = os.environ.get("ROUNDS_S3_BUCKET", "rounds-photos")
    S3_PREFIX = os.environ.get("ROUNDS_S3_PREFIX", "photos/")
    S3_ACCESS_KEY = os.environ.get("ROUNDS_S3_ACCESS_KEY", "")
    S3_SECRET_KEY = os.environ.get("ROUNDS_S3_SECRET_KEY", "")
    S3_TIMEOUT = float(os.environ.get("ROUNDS_S3_TIMEOUT", "5"))  # seconds to connect, and per read
    # Upload limits: a phone photo is 2-12 MB; HEIC smaller. 25 MB per file, a few per request.
    MAX_PHOTO_BYTES = 25 * 1024 * 1024
    MAX_CONTENT_LENGTH = 80 * 1024 * 1024
    MAX_PHOTO_PIXELS = 50_000_000  # 50 MP: above any phone camera, far below a bomb
    # Per request, counted from the image headers before anything is decoded: ten photos of a
    # 12 MP phone are 120 MP; thirty crafted 49 MP images cost a worker 15 s and 250 MB before.
    # A photo drawn on (static/markup.js) arrives with its original: one photo to the user and to this
    # count, two files whose pixels both count (ten 12 MP originals and their 1600 px marked copies are
    # 139 MP), so at most twenty files.
    MAX_PHOTOS_PER_REQUEST = 10
    MAX_PIXELS_PER_REQUEST = 140_000_000
    # Photos one answer, defect or order event may hold (already attached plus new).
    MAX_PHOTOS_PER_ITEM = 10
    PHOTO_LONG_EDGE = 1600
    THUMB_LONG_EDGE = 240
    # Sessions last the working day.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Behind TLS: cookies only over HTTPS, and Strict-Transport-Security on every response.
    SESSION_COOKIE_SECURE = os.environ.get("ROUNDS_SECURE_COOKIES", "0") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")
    LANGUAGES = ("zh_Hans", "en")
    # The app's public address, for links in outbound messages (webhooks).
    BASE_URL = os.environ.get("ROUNDS_BASE_URL", "http://127.0.0.1:5000")
    # Webhooks go only to public addresses; these comma-separated hosts and networks (CIDR) may be
    # reached anyway, e.g. "chat.corp.internal,10.8.0.0/16" for a chat server on a private network.
    WEBHOOK_ALLOW = os.environ.get("ROUNDS_WEBHOOK_ALLOW", "")
    # How background work runs (app/tasks.py): "inline" in the app's own processes (the embedded
    # default: no extra process), or "procrastinate", jobs in PostgreSQL run by `flask worker`
    # processes, for several app servers.
    TASKS = os.environ.get("ROUNDS_TASKS", "inline")
    # A worker says it is alive this often; one silent for longer than STALLED_AFTER has died and its
    # jobs run again elsewhere.
    TASK_HEARTBEAT_SECONDS = float(os.environ.get("ROUNDS_TASK_HEARTBEAT", "10"))
    TASK_STALLED_AFTER_SECONDS = float(os.environ.get("ROUNDS_TASK_STALLED_AFTER", "30"))
    # Inline only: how often a request may run the escalation sweep (seconds); `flask escalate`
    # runs it on demand.
    SWEEP_INTERVAL_SECONDS = int(os.environ.get("ROUNDS_SWEEP_INTERVAL", "60"))
    # Login throttling (in the database, so it holds across app servers): after 5 failures for one
    # (username, address), or 20 from one address, a pause of 30 s that doubles with each further
    # failure up to 15 minutes; failures count for an hour.
    LOGIN_MAX_FAILURES = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_FIRST_PAUSE_SECONDS = 30
    LOGIN_LOCK_MINUTES = 15
    LOGIN_FAILURE_MEMORY_MINUTES = 60
    # Residents' reports from a QR code (no account): at most this many an hour from one place's code and
    # from one address, counted in the database so every app server counts the same (services/throttle.py).
    RESIDENT_REPORTS_PER_PLACE_HOUR = int(os.environ.get("ROUNDS_RESIDENT_REPORTS_PER_PLACE_HOUR", "30"))
    RESIDENT_REPORTS_PER_ADDRESS_HOUR = int(os.environ.get("ROUNDS_RESIDENT_REPORTS_PER_ADDRESS_HOUR", "5"))
    PASSWORD_MIN_LENGTH = 10
    # Reverse proxies in front of the app whose X-Forwarded-For / -Proto are trusted (0: none, the
    # peer's address is the client's). Behind one nginx: 1. More than the real number lets clients
    # choose their own address.
    TRUSTED_PROXIES = int(os.environ.get("ROUNDS_TRUSTED_PROXIES", "0"))


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-only-key-not-for-production"  # tests only; never used by create_app() default
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SQLALCHEMY_ENGINE_OPTIONS = {}
    WTF_CSRF_ENABLED = True
    SWEEP_INTERVAL_SECONDS = 0  # every request sweeps, so tests see escalations at once
