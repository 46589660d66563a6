"""Password login throttled per (username, address) and per address, with backoff; session epochs.

Every attempt inserts a row before the password is checked and counts the rows already there, so
parallel attempts are all counted (no read-modify-write of a counter) and at most the allowed number
are checked. A success deletes its (username, address) pair; a refusal deletes its own row, so
waiting out a pause is enough. A username alone is never locked: its owner, from an address that
has not been failing, always gets in with the right password.

The attempts are the one write a service commits itself (through `unit_of_work`, as its own units):
an attempt must be visible to parallel requests before the password is checked, and a refused
login answers 401 or 429, which rolls the request's own unit back.
"""
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select, update

from app.models import LoginFailure, User
from app.models.types import utcnow
from app.models.user import check_dummy_password
from app.unit_of_work import unit_of_work


@dataclass(frozen=True)
class Limits:
    """How many failures before a pause, how long the first pause is, the longest, how long they count."""

    per_pair: int = 5
    per_address: int = 20
    first_pause: timedelta = timedelta(seconds=30)
    longest_pause: timedelta = timedelta(minutes=15)
    memory: timedelta = timedelta(hours=1)

    @classmethod
    def from_config(cls, cfg) -> "Limits":
        return cls(per_pair=cfg["LOGIN_MAX_FAILURES"], per_address=cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"],
                   first_pause=timedelta(seconds=cfg["LOGIN_FIRST_PAUSE_SECONDS"]),
                   longest_pause=timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"]),
                   memory=timedelta(minutes=cfg["LOGIN_FAILURE_MEMORY_MINUTES"]))

    def pause(self, failures: int, limit: int) -> timedelta:
        """Backoff: the first pause at `limit` failures, doubling with each further one, capped."""
        if failures < limit:
            return timedelta(0)
        return min(self.first_pause * 2 ** min(failures - limit, 30), self.longest_pause)


@dataclass
class Outcome:
    """The user on success; else `wait` (a pause still running, the password not checked) or a failure."""

    user: User | None = None
    wait: timedelta | None = None

    @property
    def wait_minutes(self) -> int:
        return max(1, math.ceil(self.wait.total_seconds() / 60)) if self.wait else 0


def _norm(username: str) -> str:
    return username.strip().lower()[:64]


def _wait(session, now: datetime, where, attempt_id: int, limit: int, limits: Limits,
          in_flight_allowed: int | None = None) -> timedelta:
    """How long the rows matching `where` recorded before this attempt still pause logins.

    Only earlier attempts count (ids grow with each insert): in a burst of parallel tries the first
    ones are checked and the rest wait, rather than every try seeing the others and none being checked.
    With `in_flight_allowed`, attempts still being checked count only beyond that many: a shift logging
    in at once from one office network is not a burst of failures."""
    count, in_flight, last = session.execute(
        select(func.count(LoginFailure.id), func.sum(case((LoginFailure.decided, 0), else_=1)),
               func.max(LoginFailure.at))
        .where(*where, LoginFailure.at > now - limits.memory, LoginFailure.id < attempt_id)).one()
    if in_flight_allowed is not None and in_flight:
        count -= min(in_flight, in_flight_allowed)
    if not count or last is None:
        return timedelta(0)
    return max(timedelta(0), last + limits.pause(count, limit) - now)


def authenticate(session, username: str, password: str, address: str | None, limits: Limits) -> Outcome:
    """Check a password unless a pause is running for this (username, address) or this address.

    Two units of work of its own (see the module's docstring): the attempt, committed before the
    password is checked, then its outcome, kept whatever the request answers."""
    name, addr, now = _norm(username), (address or "-")[:64], utcnow()
    attempt = LoginFailure(username=name, address=addr, at=now)
    with unit_of_work(session):
        session.add(attempt)
    with unit_of_work(session):
        return _outcome(session, attempt.id, name, addr, password, now, limits)


def _outcome(session, attempt_id: int, name: str, addr: str, password: str, now: datetime,
             limits: Limits) -> Outcome:
    """Count the attempts already there, check the password unless paused, and keep the record."""
    pair = (LoginFailure.username == name, LoginFailure.address == addr)
    # Per (username, address) every earlier attempt counts, checked or not: no parallel guessing of
    # one account. Per address, up to `per_address` logins may be in flight at once.
    wait = max(_wait(session, now, pair, attempt_id, limits.per_pair, limits),
               _wait(session, now, (LoginFailure.address == addr,), attempt_id, limits.per_address, limits,
                     in_flight_allowed=limits.per_address))
    if wait:
        session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))
        return Outcome(wait=wait)
    user = session.scalar(select(User).where(func.lower(User.username) == name))
    # An unknown username costs the same hash as a known one: the answer's timing tells nothing.
    ok = user.check_password(password) if user is not None else check_dummy_password(password)
    if ok and user.active:
        session.execute(delete(LoginFailure).where(*pair))
        return Outcome(user=user)
    # The attempt's row stays as the failure; forget failures nobody counts any more.
    session.execute(update(LoginFailure).where(LoginFailure.id == attempt_id).values(decided=True))
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - limits.memory))
    return Outcome()


def end_sessions(session, user: User) -> None:
    """End every session of the user (each cookie carries the epoch it was issued under)."""
    session.execute(update(User).where(User.id == user.id)
                    .values(session_epoch=User.session_epoch + 1).execution_options(synchronize_session=False))
    session.refresh(user, ["session_epoch"])


def change_password(session, user: User, new_password: str) -> None:
    """Set a new password and end the user's other sessions (the caller logs this one in again)."""
    user.set_password(new_password)
    end_sessions(session, user)
