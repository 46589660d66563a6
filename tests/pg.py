"""A throwaway PostgreSQL cluster for the test run: initdb in a temp dir, a free port, gone after."""
import os
import shutil
import subprocess
import tempfile
import time

from app.pg import pg_tool
from tests.ports import free_port


class Cluster:
    """Start with .start(), get .url(dbname), stop with .stop()."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rounds-pg-")
        self.port = free_port()
        # PostgreSQL refuses to run as root: run its tools as the postgres user.
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.prefix:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run(self.prefix + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)

    def start(self) -> "Cluster":
        data = os.path.join(self.dir, "data")
        self._run(pg_tool("initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-locale", "--no-sync")
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        self._run(pg_tool("pg_ctl"), "-D", data, "-o", opts, "-l", os.path.join(self.dir, "log"),
                  "-w", "start")
        return self

    def create_db(self, name: str) -> str:
        import psycopg

        for _ in range(50):
            try:
                with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                                     autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run(pg_tool("pg_ctl"), "-D", os.path.join(self.dir, "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
