"""The production shape on loopback, for tests and benchmarks: gunicorn app servers (the README's
line, gunicorn.conf.py), `flask worker` processes and Debian's nginx in front (deploy/nginx.conf.template),
all sharing one PostgreSQL and one SeaweedFS that the caller started (tests/pg.py, tests/seaweed.py)."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def production_env(database_url: str, s3: dict | None = None, **extra: str) -> dict:
    """The environment of an app server or worker: PostgreSQL, the queue, photos in S3 when given."""
    env = dict(os.environ, DATABASE_URL=database_url, ROUNDS_SECRET_KEY="two-servers-test-key",
               ROUNDS_TASKS="procrastinate", ROUNDS_TRUSTED_PROXIES="1", FLASK_APP="wsgi.py")
    for key, value in (s3 or {}).items():
        env[f"ROUNDS_{key}"] = str(value)
    env.update(extra)
    return env


class Process:
    """A child process with its log in a file, stopped (and its children) by stop()."""

    def __init__(self, argv: list[str], env: dict, log: Path):
        self.log_path = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 15) -> None:
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait(5)


def wait_http(url: str, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > end:
            raise RuntimeError(f"{url} did not answer within {timeout} s")
        time.sleep(0.1)


class AppServer(Process):
    """One gunicorn instance with the production configuration, on its own port."""

    def __init__(self, env: dict, run_dir: Path, name: str, workers: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                          "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "wsgi:app"],
                         env, run_dir / f"{name}.log")
        wait_http(self.url + "/healthz")


class Worker(Process):
    def __init__(self, env: dict, run_dir: Path, name: str):
        super().__init__([sys.executable, "-m", "flask", "worker", "--concurrency", "2", "--name", name],
                         env, run_dir / f"{name}.log")


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(found):
        raise RuntimeError("nginx not found: install Debian's nginx (make test does)")
    return found


class Nginx(Process):
    """Debian's nginx with deploy/nginx.conf.template, in front of the given app servers."""

    def __init__(self, servers: list[AppServer], run_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        conf_dir = Path(tempfile.mkdtemp(prefix="nginx-", dir=run_dir))
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (conf_dir / sub).mkdir()
        upstreams = "\n        ".join(f"server 127.0.0.1:{s.port} max_fails=1 fail_timeout=10s;"
                                       for s in servers)
        conf = (ROOT / "deploy" / "nginx.conf.template").read_text()
        for key, value in {"RUN_DIR": str(conf_dir), "UPSTREAM_SERVERS": upstreams,
                           "LISTEN": f"127.0.0.1:{self.port}"}.items():
            conf = conf.replace("${" + key + "}", value)
        if os.geteuid() == 0:  # as root nginx's workers would become nobody, who cannot write here
            conf = "user root;\n" + conf
        (conf_dir / "nginx.conf").write_text(conf)
        super().__init__([nginx_binary(), "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf"),
                          "-g", "daemon off;"], dict(os.environ), run_dir / "nginx.log")
        wait_http(self.url + "/healthz")
