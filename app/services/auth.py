"""Password login with throttling per username and per client address."""
from datetime import timedelta

from sqlalchemy import func, select

from app.models import LoginThrottle, User
from app.models.types import utcnow


def _keys(username: str, address: str | None) -> list[str]:
    return [f"user:{username.strip().lower()}", f"addr:{address or '-'}"]


def locked(session, username: str, address: str | None) -> bool:
    """True while either the username or the address is locked out."""
    now = utcnow()
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(_keys(username, address))))
    return any(r.locked_until and r.locked_until > now for r in rows)


def authenticate(session, username: str, password: str, address: str | None, *,
                 max_failures: int, lock_minutes: int) -> User | None:
    """The active user with these credentials, or None (and the failure is counted)."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is not None and user.active and user.check_password(password):
        for row in session.scalars(select(LoginThrottle).where(
                LoginThrottle.key == _keys(username, address)[0])):
            session.delete(row)
        session.commit()
        return user
    now = utcnow()
    window = timedelta(minutes=lock_minutes)
    for key in _keys(username, address):
        row = session.get(LoginThrottle, key)
        if row is None or now - row.first_failure_at > window:
            if row is None:
                row = LoginThrottle(key=key)
                session.add(row)
            row.failures, row.first_failure_at, row.locked_until = 0, now, None
        row.failures += 1
        # The address gets more slack than one username: a site office shares one address.
        limit = max_failures if key.startswith("user:") else max_failures * 4
        if row.failures >= limit:
            row.locked_until = now + window
    session.commit()
    return None
