"""Patrol compliance: every scheduled round in a date range, its status and timing, rates by slot,
supervisor and site, checkpoint timing and check-ins (proof of presence)."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.models import Answer, CheckIn, Checkpoint, ChecklistItem, Round, RoundStop, Site, User
from app.models.types import utcnow
from app.services import policy, schedule
from app.services.errors import Refused

MAX_DAYS = 92
# A checkpoint whose answers all came within this many seconds per item was not really walked.
FAST_SECONDS_PER_ITEM = 3
FAST_ROUND_MINUTES = 15


@dataclass
class CheckpointTiming:
    checkpoint: Checkpoint
    items: int
    answered: int
    first: datetime | None
    last: datetime | None
    check_in: datetime | None
    scanned_by: User | None = None

    @property
    def fast(self) -> bool:
        """Answered faster than anyone could look: every item within a few seconds of each other."""
        if self.answered < 3 or self.first is None:
            return False
        return (self.last - self.first).total_seconds() < FAST_SECONDS_PER_ITEM * self.answered


@dataclass
class RoundRow:
    round: Round
    status: str
    supervisor: User | None
    items: int
    answered: int
    minutes: int | None
    checkpoints: list[CheckpointTiming] = field(default_factory=list)

    @property
    def scanned(self) -> int:
        return sum(1 for c in self.checkpoints if c.check_in)

    @property
    def fast(self) -> bool:
        """Finished with most items answered in under a quarter of an hour, or a checkpoint rushed."""
        quick = self.minutes is not None and self.minutes < FAST_ROUND_MINUTES and self.answered >= 30
        return quick or any(c.fast for c in self.checkpoints)


def round_rows(session, site: Site, start: date, end: date, now: datetime | None = None) -> list[RoundRow]:
    """Every scheduled round of the site from `start` to `end` (inclusive) up to today: the saved ones
    and, computed from the schedules without writing, those never started (missed, late or to come)."""
    now = now or utcnow()
    if end < start or (end - start).days >= MAX_DAYS:
        raise ValueError("date range")
    today = schedule.site_today(site, now)
    if start > min(end, today):
        return []
    rounds = schedule.rounds_between(session, site, start, min(end, today))
    ids = [r.id for r in rounds if r.id is not None]
    # Items per stop (frozen versions) and answers per checkpoint: two aggregate queries.
    items = dict(session.execute(
        select(RoundStop.id, func.count(ChecklistItem.id)).join(
            ChecklistItem, ChecklistItem.version_id == RoundStop.version_id)
        .where(RoundStop.round_id.in_(ids)).group_by(RoundStop.id)).all())
    stops = session.scalars(select(RoundStop).where(RoundStop.round_id.in_(ids))
                            .order_by(RoundStop.round_id, RoundStop.position)).all()
    answers = {(r, s): (n, first, last) for r, s, n, first, last in session.execute(
        select(Answer.round_id, Answer.stop_id, func.count(Answer.result), func.min(Answer.answered_at),
               func.max(Answer.answered_at)).where(Answer.round_id.in_(ids), Answer.result.is_not(None))
        .group_by(Answer.round_id, Answer.stop_id)).all()}
    checkins = {(c.round_id, c.checkpoint_id): (c.at, who) for c, who in session.execute(
        select(CheckIn, User).join(User, CheckIn.user_id == User.id).where(CheckIn.round_id.in_(ids)))}
    by_round: dict[int, dict[int, CheckpointTiming]] = defaultdict(dict)
    for stop in stops:
        n, first, last = answers.get((stop.round_id, stop.id), (0, None, None))
        cps = by_round[stop.round_id]
        t = cps.get(stop.checkpoint_id)
        if t is None:
            at, who = checkins.get((stop.round_id, stop.checkpoint_id), (None, None))
            t = cps[stop.checkpoint_id] = CheckpointTiming(stop.checkpoint, 0, 0, None, None, at, who)
        t.items += items.get(stop.id, 0)
        t.answered += n
        t.first = min(x for x in (t.first, first) if x) if (t.first or first) else None
        t.last = max(x for x in (t.last, last) if x) if (t.last or last) else None
    rows = []
    for rnd in rounds:
        cps = list(by_round.get(rnd.id, {}).values())
        minutes = (round((rnd.finished_at - rnd.started_at).total_seconds() / 60)
                   if rnd.started_at and rnd.finished_at else None)
        rows.append(RoundRow(rnd, schedule.round_status(rnd, now), rnd.supervisor,
                             sum(c.items for c in cps), sum(c.answered for c in cps), minutes, cps))
    return rows


@dataclass
class Rate:
    on_time: int = 0
    early: int = 0
    late: int = 0
    missed: int = 0

    @property
    def counted(self) -> int:
        return self.on_time + self.early + self.late + self.missed

    @property
    def percent(self) -> int | None:
        return round(100 * self.on_time / self.counted) if self.counted else None


def rates(rows: list[RoundRow]) -> dict[str, dict]:
    """On-time rate per slot and per supervisor: a round walked outside its window, early or late, or
    missed counts against it; rounds still open or to come are not counted."""
    out = {"slot": defaultdict(Rate), "supervisor": defaultdict(Rate), "site": Rate()}
    for row in rows:
        key = {"done": "on_time", "early": "early", "late": "late", "missed": "missed"}.get(row.status)
        if key is None:
            continue
        for rate in (out["slot"][row.round.slot], out["site"],
                     out["supervisor"][row.supervisor.display_name if row.supervisor else "—"]):
            setattr(rate, key, getattr(rate, key) + 1)
    return out


class ScanRefused(Refused):
    """A scan that records nothing; `reason` is a code for the view, `message` is shown to the user."""

    STATUS = {"unknown": 404, "other_site": 403, "role": 403}  # any other reason: 409

    def __init__(self, reason: str, message, checkpoint: Checkpoint | None = None):
        super().__init__(message, self.STATUS.get(reason, 409))
        self.reason = reason
        self.checkpoint = checkpoint


@dataclass(frozen=True)
class Scan:
    """A scan that checked in: the scanner's own round, the checkpoint, and the (first) check-in."""

    round: Round
    checkpoint: Checkpoint
    check_in: CheckIn
    first: bool  # False: this checkpoint was already checked in on this round; nothing changed


def scan(session, user: User, token: str, now: datetime | None = None) -> Scan:
    """A checkpoint's QR code scanned: check in on the scanner's own round in progress on that route.

    Only the walker who started the round checks in on it (the policy's `check_in`); anyone else's
    scan records nothing and says why. One check-in per round and checkpoint: scanning again, or two
    requests at once, keeps the first. Flushes; the request commits.
    """
    now = now or utcnow()
    cp = session.scalar(select(Checkpoint).where(Checkpoint.qr_token == token)) if token else None
    if cp is None:
        raise ScanRefused("unknown", _l("This QR code is not one of ours, or it was replaced."))
    site = cp.route.site
    if not policy.sees_site(user, site.id):
        raise ScanRefused("other_site", _l("This checkpoint belongs to another estate."))
    if not policy.can(user, "walk_rounds", site):
        raise ScanRefused("role", _l("Your role does not walk rounds: only the supervisor walking a round "
                                     "checks in at its checkpoints."), cp)
    open_rounds = session.scalars(select(Round).where(
        Round.route_id == cp.route_id, Round.date == schedule.site_today(site, now),
        Round.started_at.is_not(None), Round.finished_at.is_(None)).order_by(Round.started_at)).all()
    rnd = next((r for r in open_rounds if policy.can(user, "check_in", r)), None)
    if rnd is None:
        other = next((r for r in open_rounds if r.supervisor is not None), None)
        if other is not None:
            raise ScanRefused("not_yours", _l(
                "You have no round in progress here. The round in progress on this route is "
                "%(name)s's; only they can check in on it.", name=other.supervisor.display_name), cp)
        raise ScanRefused("no_round", _l("You have no round in progress here. Start your round on "
                                         "Today, then scan again."), cp)
    if not any(stop.checkpoint_id == cp.id for stop in rnd.stops):
        # Taken off the route before the round started: the round never had this stop.
        raise ScanRefused("not_on_round", _l("This checkpoint has been taken off the route, so it is not "
                                             "on your round."), cp)
    existing = session.scalar(select(CheckIn).where(CheckIn.round_id == rnd.id, CheckIn.checkpoint_id == cp.id))
    if existing is not None:
        return Scan(rnd, cp, existing, first=False)
    check_in = CheckIn(round_id=rnd.id, checkpoint_id=cp.id, user_id=user.id, at=now)
    try:
        # Savepoint: the camera app and the browser may both open the link at once.
        with session.begin_nested():
            session.add(check_in)
    except IntegrityError:
        existing = session.scalar(select(CheckIn).where(CheckIn.round_id == rnd.id,
                                                        CheckIn.checkpoint_id == cp.id))
        return Scan(rnd, cp, existing, first=False)
    return Scan(rnd, cp, check_in, first=True)
