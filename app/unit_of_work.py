"""One unit of work: a request, a CLI command or a background job commits once at its end, or rolls back.

Services change and flush; they never commit. The request's unit is kept in app/web.py (commit
below 400, roll back otherwise); CLI commands, the sweep and the webhook sender use `unit_of_work`.
"""
from contextlib import contextmanager

from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.services.errors import Conflict

# What a commit raises when someone else got there first: a version that moved on (StaleDataError)
# or a unique key taken at the same moment (IntegrityError). Both are the user's 409, never a 500.
CONFLICTS = (IntegrityError, StaleDataError)
CONFLICT_MESSAGE = _l("Someone changed this at the same moment, so nothing was saved. "
                      "Reload the page and try again.")


@contextmanager
def unit_of_work(session):
    """Commit what the block changed, or roll all of it back if the block (or the commit) raises.

    A commit that finds someone else's change first raises `Conflict` (nothing is kept)."""
    try:
        yield session
        session.commit()
    except CONFLICTS as exc:
        session.rollback()
        raise Conflict(CONFLICT_MESSAGE) from exc
    except BaseException:
        session.rollback()
        raise


def _begin_before_a_first_savepoint(conn, name) -> None:
    """SQLite through pysqlite: a SAVEPOINT that opens the transaction (pysqlite only says BEGIN before
    INSERT, UPDATE and DELETE) makes its RELEASE a commit, so a unit whose first write sits in a
    savepoint (a double-tap guard) would be kept half-way. Say BEGIN first: the unit stays one."""
    if conn.dialect.name == "sqlite":
        dbapi = conn.connection.dbapi_connection
        if not dbapi.in_transaction:
            dbapi.execute("BEGIN")


def keep_savepoints_inside_the_unit() -> None:
    """Register the SQLite savepoint fix once (see _begin_before_a_first_savepoint)."""
    if not event.contains(Engine, "savepoint", _begin_before_a_first_savepoint):
        event.listen(Engine, "savepoint", _begin_before_a_first_savepoint)
