"""Walking a round: start, answer items (idempotently), finish, progress."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload, with_expression

from app.models import Answer, AnswerChange, ChecklistItem, Photo, Round, RoundStop, Site, TemplateVersion, User, WorkOrder
from app.models.round import RESULTS
from app.models.types import utcnow
from app.services import schedule, workorders
from app.services.photos import check_room
from app.services.errors import Refused


class RoundRefused(Refused):
    """An action the round's state does not allow; `message` is shown to the user."""


@dataclass(frozen=True)
class Progress:
    total: int
    answered: int
    failed: int


def start_round(session, rnd: Round, user: User) -> Round:
    """Start the round (a second tap is harmless) and freeze its checkpoints and template versions.

    A planned round (not saved yet) is inserted now, its first write; returns the round's row.
    """
    if rnd.started_at is not None:
        return rnd
    if not schedule.can_start(rnd):
        raise RoundRefused(_l("This round's day is over; it can no longer be started."))
    if rnd.date > schedule.site_today(rnd.site):
        raise RoundRefused(_l("This round is not due yet: it can be started on its own day."))
    rnd = schedule.materialise(session, rnd)
    if rnd.started_at is not None:  # another request inserted and started it a moment ago
        return rnd
    key = (rnd.schedule_id, rnd.date)
    try:
        # Savepoint: two supervisors tapping Start at once insert the same stops; the other one's start stands.
        with session.begin_nested():
            position = 0
            for cp in (c for c in rnd.route.checkpoints if c.active):
                for tpl in cp.templates:
                    session.add(RoundStop(round=rnd, checkpoint_id=cp.id, area_id=cp.area_id,
                                          version_id=tpl.current_version.id, position=position))
                    position += 1
            rnd.started_at = utcnow()
            rnd.supervisor_id = user.id
    except IntegrityError:
        rnd = session.scalar(select(Round).where(Round.schedule_id == key[0], Round.date == key[1])
                             .execution_options(populate_existing=True)) or rnd
    return rnd


def ensure_answerable(rnd: Round) -> None:
    """Refuse early (before any photo work) when the round cannot take answers."""
    if rnd.finished_at is not None:
        raise RoundRefused(_l("This round is finished and can no longer be changed."))
    if rnd.started_at is None:
        raise RoundRefused(_l("Start the round before answering."))


def stops_by_checkpoint(rnd: Round) -> list[list[RoundStop]]:
    """The round's stops grouped by checkpoint, in route order."""
    groups: list[list[RoundStop]] = []
    for stop in rnd.stops:
        if groups and groups[-1][0].checkpoint_id == stop.checkpoint_id:
            groups[-1].append(stop)
        else:
            groups.append([stop])
    return groups


def progress(session, rnd: Round) -> Progress:
    """Items in the round, how many are answered, how many failed — one query."""
    total = (
        select(func.count(ChecklistItem.id))
        .select_from(RoundStop)
        .join(ChecklistItem, ChecklistItem.version_id == RoundStop.version_id)
        .where(RoundStop.round_id == rnd.id)
        .scalar_subquery()
    )
    total, answered, failed = session.execute(
        select(
            total,
            func.count(Answer.result),
            func.coalesce(func.sum(case((Answer.result == "fail", 1), else_=0)), 0),
        ).where(Answer.round_id == rnd.id)
    ).one()
    return Progress(total or 0, answered or 0, failed or 0)


def progress_of(session, rnds: list[Round]) -> dict[int, Progress]:
    """Progress of many rounds, by round id, in one statement (a round not saved yet has none)."""
    ids = [r.id for r in rnds if r.id is not None]
    if not ids:
        return {}
    total = (select(func.count(ChecklistItem.id)).select_from(RoundStop)
             .join(ChecklistItem, ChecklistItem.version_id == RoundStop.version_id)
             .where(RoundStop.round_id == Round.id).correlate(Round).scalar_subquery())
    answered = (select(func.count(Answer.result)).where(Answer.round_id == Round.id)
                .correlate(Round).scalar_subquery())
    failed = (select(func.count(Answer.id)).where(Answer.round_id == Round.id, Answer.result == "fail")
              .correlate(Round).scalar_subquery())
    rows = session.execute(select(Round.id, total, answered, failed).where(Round.id.in_(ids)))
    return {rid: Progress(t or 0, a or 0, f or 0) for rid, t, a, f in rows}


class TodaySite(NamedTuple):
    """One of the user's sites on Today: its local date and its rounds."""

    site: Site
    day: date
    rounds: list[Round]


def today_page(session, sites: list[Site], now: datetime | None = None) -> dict:
    """Everything Today shows for the user's sites: each site's rounds on its own date and, per started
    round, how many items are still unanswered — four statements, whatever the number of sites."""
    days = [(site, schedule.site_today(site, now)) for site in sites]
    by_site = schedule.rounds_on_days(session, days)
    listed = [TodaySite(site, day, by_site[site.id]) for site, day in days]
    progress = progress_of(session, [r for s in listed for r in s.rounds if r.started_at is not None])
    return dict(sites=listed, unanswered={rid: p.total - p.answered for rid, p in progress.items()})


# Loads Answer.change_count in the answer's own statement (the item links to its history when > 1).
WITH_CHANGE_COUNT = with_expression(
    Answer.change_count,
    select(func.count(AnswerChange.id)).where(AnswerChange.answer_id == Answer.id).correlate(Answer).scalar_subquery())


def answers_for(session, rnd: Round, stops: list[RoundStop]) -> dict[tuple[int, int], Answer]:
    """Existing answers for the given stops, keyed by (stop id, item id)."""
    ids = [s.id for s in stops]
    rows = session.scalars(select(Answer).where(Answer.round_id == rnd.id, Answer.stop_id.in_(ids)))
    return {(a.stop_id, a.item_id): a for a in rows}


@dataclass(frozen=True)
class ItemRow:
    """One item of a checkpoint as its page shows it: the answer (photos loaded) and its work order."""

    stop: RoundStop
    item: ChecklistItem
    answer: Answer | None
    order: WorkOrder | None


def checkpoint_rows(session, rnd: Round, stops: list[RoundStop]) -> list[ItemRow]:
    """The stops' items in order with their answers, the answers' photos and their work orders (with
    team): the same five statements however many items are answered, failed or photographed."""
    version_ids = {s.version_id for s in stops}
    session.scalars(select(TemplateVersion).where(TemplateVersion.id.in_(version_ids))
                    .options(joinedload(TemplateVersion.template), selectinload(TemplateVersion.items))).all()
    answers = {(a.stop_id, a.item_id): a for a in session.scalars(
        select(Answer).where(Answer.round_id == rnd.id, Answer.stop_id.in_([s.id for s in stops]))
        .options(selectinload(Answer.photos), WITH_CHANGE_COUNT))}
    ids = [a.id for a in answers.values()]
    orders = {o.answer_id: o for o in session.scalars(
        select(WorkOrder).where(WorkOrder.answer_id.in_(ids)).options(joinedload(WorkOrder.team)))} if ids else {}
    rows = []
    for stop in stops:
        for item in stop.version.items:
            answer = answers.get((stop.id, item.id))
            rows.append(ItemRow(stop, item, answer, orders.get(answer.id) if answer is not None else None))
    return rows


def _create_answer(session, rnd: Round, stop: RoundStop, item: ChecklistItem, user: User,
                   result: str | None = None, note: str = "", photos=(), *, at: datetime | None = None,
                   op: str | None = None) -> Answer | None:
    """Insert a new answer and its first change; None if a concurrent request inserted the same
    (stop, item) first, or the same change (`op`) was stored a moment ago."""
    at = at or utcnow()
    answer = Answer(round_id=rnd.id, stop_id=stop.id, item_id=item.id, result=result, note=note,
                    answered_by_id=user.id, answered_at=at, photos=list(photos), work_order=None)
    try:
        # Savepoint: a resent request may insert the same (stop, item) at the same moment.
        with session.begin_nested():
            session.add(answer)
            session.add(_change(answer, user, op, at, kept=True))
        return answer
    except IntegrityError:
        return None


def _change(answer: Answer, user: User, op: str | None, at: datetime, *, kept: bool,
            result: str | None = None, note: str | None = None, photo_count: int | None = None) -> AnswerChange:
    """The history row of one change (by default: the answer as it now stands)."""
    return AnswerChange(answer=answer, op=op, by_id=user.id, answered_at=at, received_at=utcnow(), kept=kept,
                        result=answer.result if result is None and kept else result,
                        note=answer.note if note is None else note,
                        photo_count=len(answer.photos) if photo_count is None else photo_count)


# A phone's clock may be off, and a change may wait hours on the phone: its time is when it was
# answered by the phone's clock, moved by how far that clock is from ours (its own send time against
# our receive time), and never before the round started or after now.
def answered_time(rnd: Round, answered_at: datetime | None, sent_at: datetime | None,
                  now: datetime | None = None) -> datetime:
    """When a change was made, in server time, from the phone's answered-at and sent-at times."""
    now = now or utcnow()
    if answered_at is None:
        return now
    skew = (now - sent_at) if sent_at is not None else timedelta(0)
    if abs(skew) < CLOCK_TOLERANCE:  # mostly the upload's own time (a photo on a slow line), not the clock
        skew = timedelta(0)
    return max(min(answered_at + skew, now), rnd.started_at or now)


# A phone clock within this of ours is taken as right: below it, "skew" is the time the request took.
CLOCK_TOLERANCE = timedelta(minutes=2)


def stop_and_item(session, rnd: Round, stop_id: int, item_id: int) -> tuple[RoundStop, ChecklistItem] | None:
    """A stop of the round and an item of the checklist walked there, in one statement (None: no such pair)."""
    row = session.execute(
        select(RoundStop, ChecklistItem)
        .join(ChecklistItem, ChecklistItem.version_id == RoundStop.version_id)
        .where(RoundStop.id == stop_id, RoundStop.round_id == rnd.id, ChecklistItem.id == item_id)
        .options(joinedload(ChecklistItem.version).joinedload(TemplateVersion.template))
    ).first()
    return (row[0], row[1]) if row else None


def find_answer(session, stop: RoundStop, item: ChecklistItem) -> Answer | None:
    """The item's answer with its photos and its work order, in one statement (the tap path)."""
    return tap_lookup(session, stop, item, None)[0]


def tap_lookup(session, stop: RoundStop, item: ChecklistItem, op: str | None) -> tuple[Answer | None, bool]:
    """The item's answer (as find_answer) and whether the change `op` was already applied to it —
    a tap sent again after its reply was lost — in the same one statement."""
    seen = (select(AnswerChange.id).where(AnswerChange.answer_id == Answer.id, AnswerChange.op == op)
            .correlate(Answer).exists()) if op else literal(False)
    row = session.execute(
        select(Answer, seen).where(Answer.stop_id == stop.id, Answer.item_id == item.id)
        .options(joinedload(Answer.photos), joinedload(Answer.work_order).joinedload(WorkOrder.team),
                 WITH_CHANGE_COUNT)
    ).unique().first()
    return (row[0], bool(row[1])) if row else (None, False)


def _record_change(session, answer: Answer, user: User, op: str | None, at: datetime, *, kept: bool,
                   result: str | None, note: str, photo_count: int) -> bool:
    """Add a change to an existing answer's history; False if a change with this `op` is stored
    already (the same change sent twice at once). One INSERT … ON CONFLICT DO NOTHING: no savepoint."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(AnswerChange)
    stored = session.execute(
        insert.values(answer_id=answer.id, op=op, result=result, note=note, photo_count=photo_count,
                      by_id=user.id, answered_at=at, received_at=utcnow(), kept=kept)
        .on_conflict_do_nothing(index_elements=["op"]).returning(AnswerChange.id)
    ).first()
    return stored is not None


_LOOK_UP = object()


@dataclass(frozen=True)
class Answered:
    """What one change did. `outcome`: "saved"; "repeat" — this change (its op) was stored before, so
    nothing is stored twice; "superseded" — a later answer is already stored, so this one is kept in
    the item's history only (its photos are added: evidence is never dropped)."""

    answer: Answer | None
    outcome: str = "saved"
    changes: int | None = None  # how many changes the answer has had, this one included (None: unknown)


def answer_item(session, rnd: Round, stop: RoundStop, item: ChecklistItem, user: User, *,
                result: str | None, note: str | None = None, photos: list[Photo] = (),
                max_photos: int = 10, existing=_LOOK_UP, op: str | None = None,
                at: datetime | None = None) -> Answered:
    """Record an answer; failing raises the item's work order, un-failing cancels it.

    `result=None` keeps the current result (a note or photos only). An answer holds at most
    `max_photos` photos (PhotoRejected beyond). Nothing is written when refused. `existing` is the
    answer from find_answer when the caller has it (None: unanswered), so it is not looked up twice.
    `op` is the phone's id of this change (applied once, however often it is sent); `at` when it
    was answered (answered_time; default now): the later answer of an item wins.
    """
    ensure_answerable(rnd)
    if result is not None and result not in RESULTS:
        raise RoundRefused(_l("Choose pass, fail or n.a."))
    if stop.round_id != rnd.id or item.version_id != stop.version_id:
        raise LookupError("item not in this round")

    if existing is _LOOK_UP:
        existing = find_answer(session, stop, item)
    have = list(existing.photos) if existing else []
    check_room(len(have), len([p for p in dict.fromkeys(photos) if p not in have]), max_photos)
    final = result if result is not None else (existing.result if existing else None)
    has_photo = bool(photos) or bool(existing and existing.photos)
    if final == "fail" and item.photo_required_on_fail and not has_photo:
        raise RoundRefused(_l("A photo is required to fail this item. Take a photo, then tap Fail again."))

    at = at or utcnow()
    clean_note = note.strip()[:2000] if note is not None else None
    answer = None if existing else _create_answer(session, rnd, stop, item, user, final,
                                                  clean_note or "", photos, at=at, op=op)
    before, changes = None, 1
    if answer is None:  # an update, or a resent request that lost the race to insert
        answer = existing or find_answer(session, stop, item)
        if answer is None:  # the insert collided on this very op, whose answer is not ours to see
            raise RoundRefused(_l("This change was already saved."))
        # Only a result competes with a result: a note or photo alone is added whenever it arrives.
        later = result is not None and answer.result is not None and at < answer.answered_at
        # First, so a change sent twice at once collides before it changes anything.
        if not _record_change(session, answer, user, op, at, kept=not later, result=final,
                              note=clean_note if clean_note is not None else answer.note,
                              photo_count=len(set(have) | set(photos))):
            return Answered(answer, "repeat", answer.change_count)
        for photo in photos:
            if photo not in answer.photos:
                answer.photos.append(photo)
        changes = answer.change_count + 1 if answer.change_count is not None else None
        if later:
            session.flush()
            return Answered(answer, "superseded", changes)
        before = answer.result
        if clean_note is not None:
            answer.note = clean_note
        if result is not None:  # the answer's time is its result's: a later note does not move it
            answer.result, answer.answered_by_id, answer.answered_at = final, user.id, at
        session.flush()

    raises_orders = item.version.template.on_fail == "work_order"
    if raises_orders and final == "fail":
        workorders.raise_for_answer(session, answer, user)
    elif raises_orders and before == "fail" and final in ("pass", "na"):
        workorders.cancel_for_answer(session, answer, user)
    return Answered(answer, "saved", changes)


def history(session, stop: RoundStop, item: ChecklistItem) -> list[AnswerChange]:
    """An item's changes in this round, oldest first, with who made them."""
    return list(session.scalars(
        select(AnswerChange).join(Answer, AnswerChange.answer_id == Answer.id)
        .where(Answer.stop_id == stop.id, Answer.item_id == item.id)
        .options(joinedload(AnswerChange.by)).order_by(AnswerChange.answered_at, AnswerChange.id)))


def pass_remaining(session, rnd: Round, stops: list[RoundStop], user: User) -> int:
    """Answer pass to every item of these stops that has no result yet; returns how many."""
    ensure_answerable(rnd)
    existing = answers_for(session, rnd, stops)
    count = 0
    for stop in stops:
        for item in stop.version.items:
            answer = existing.get((stop.id, item.id))
            if answer is not None and answer.result is not None:
                continue
            if answer is None:
                if _create_answer(session, rnd, stop, item, user, "pass") is None:
                    continue  # answered by a concurrent request just now: leave it
            else:
                answer.result, answer.answered_by_id, answer.answered_at = "pass", user.id, utcnow()
                session.add(_change(answer, user, None, answer.answered_at, kept=True))
            count += 1
    return count


def remove_photo(session, rnd: Round, answer: Answer, photo: Photo) -> Answer:
    """Take a photo off an answer (the stored file stays: other answers may share it)."""
    ensure_answerable(rnd)
    if photo not in answer.photos:
        return answer
    if (answer.result == "fail" and answer.item.photo_required_on_fail and len(answer.photos) == 1):
        raise RoundRefused(_l("A failed item needs at least one photo. Add another before removing this one."))
    answer.photos.remove(photo)
    return answer


def unanswered(session, rnd: Round) -> list[tuple[RoundStop, ChecklistItem]]:
    """Items of the round without a result, in route order."""
    done = {(a.stop_id, a.item_id) for a in session.scalars(
        select(Answer).where(Answer.round_id == rnd.id, Answer.result.is_not(None)))}
    return [(stop, item) for stop in rnd.stops for item in stop.version.items
            if (stop.id, item.id) not in done]


def finish_round(session, rnd: Round, user: User) -> Round:
    """Finish the round; afterwards it is read-only. Finishing twice is harmless."""
    if rnd.started_at is None:
        raise RoundRefused(_l("Start the round before finishing it."))
    if rnd.finished_at is None:
        rnd.finished_at = utcnow()
    return rnd


def orders_raised(session, rnd: Round) -> list[WorkOrder]:
    """Work orders raised by this round's answers (cancelled ones included), in route order."""
    return list(session.scalars(
        select(WorkOrder).join(Answer, WorkOrder.answer_id == Answer.id)
        .join(RoundStop, Answer.stop_id == RoundStop.id)
        .where(Answer.round_id == rnd.id)
        .order_by(RoundStop.position, WorkOrder.id)
    ))
