"""Private links: a long unguessable token shown once, stored only as its hash, expiring and revocable.

The owner's link to their unit (services/handover.py) and a resident's link to their report
(services/residents.py) both use these: a row with `token_hash`, `expires_at` and `revoked_at`."""
import base64
import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select

from app.models.types import utcnow

MAX_TOKEN_LENGTH = 100  # a longer "token" is not ours: refused before hashing


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def urlsafe(digest: bytes) -> str:
    """Bytes as a token's characters (those of secrets.token_urlsafe)."""
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_token() -> tuple[str, str]:
    """A new token (for the link, shown once) and its hash (for the row)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def find_live(session, model, token: str, now: datetime | None = None):
    """The live row of `model` for a token, or None (unknown, altered, revoked or expired)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = session.scalar(select(model).where(model.token_hash == token_hash(token)))
    now = now or utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row
