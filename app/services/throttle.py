"""Rate limits counted in the database, so every app server counts the same requests.

The login throttle's approach (services/auth.py), for any bucket: each request inserts its hit
(committed at once, as its own unit of work, so parallel requests see it) and then counts the hits
already there within the window; only earlier hits count (ids grow with each insert), so in a burst the
first `count` go through and the rest wait. A refused request deletes its own hit: waiting is enough.

Flask-Limiter would need Redis or memcached to share its counts between app servers (its in-memory
store counts per process); this deployment runs neither, and the database is already shared.
"""
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from app.models import RateHit
from app.models.types import utcnow
from app.unit_of_work import unit_of_work


@dataclass(frozen=True)
class Limit:
    """At most `count` requests of `bucket` (e.g. "report-place:<code>") in any `window`."""

    bucket: str
    count: int
    window: timedelta


@dataclass
class Verdict:
    wait: timedelta = timedelta(0)

    @property
    def allowed(self) -> bool:
        return not self.wait

    @property
    def wait_minutes(self) -> int:
        return max(1, math.ceil(self.wait.total_seconds() / 60)) if self.wait else 0


def hit(session, limits: list[Limit], now: datetime | None = None) -> Verdict:
    """Count one request against every limit; refused (with how long to wait) if any is exceeded.

    Two units of work of its own (see the module's docstring): the hits, then the count and cleanup."""
    now = now or utcnow()
    rows = [RateHit(bucket=limit.bucket[:100], at=now) for limit in limits]
    with unit_of_work(session):
        session.add_all(rows)
    with unit_of_work(session):
        wait = timedelta(0)
        for limit, row in zip(limits, rows):
            first, count = session.execute(
                select(func.min(RateHit.at), func.count(RateHit.id))
                .where(RateHit.bucket == row.bucket, RateHit.at > now - limit.window, RateHit.id < row.id)).one()
            if count >= limit.count and first is not None:
                wait = max(wait, first + limit.window - now)
        if wait:
            session.execute(delete(RateHit).where(RateHit.id.in_([r.id for r in rows])))
        oldest = now - max(limit.window for limit in limits)
        session.execute(delete(RateHit).where(RateHit.bucket.in_([r.bucket for r in rows]), RateHit.at <= oldest))
    return Verdict(max(wait, timedelta(seconds=1)) if wait else timedelta(0))
