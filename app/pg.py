"""PostgreSQL's own tools and connection strings, for the commands and the task queue that talk to it
outside SQLAlchemy (pg_dump, pg_restore, procrastinate's psycopg pool)."""
import glob
import shutil

from sqlalchemy.engine import URL, make_url


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL program (on PATH, or Debian's /usr/lib/postgresql/<version>/bin)."""
    found = shutil.which(name)
    if found:
        return found
    for path in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return path
    raise FileNotFoundError(f"{name} not found: install PostgreSQL's client tools")


def libpq_url(url: str | URL) -> str:
    """postgresql+psycopg://… as libpq reads it (password included: never log it)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
