"""CSV exports of answers, rounds and work orders for a site and date range, streamed row by row:
`yield_per` keeps a year of data from being built in memory. Every CSV the app sends goes through
`csv_lines` (formula cells neutralised) and `app.web.csv_download` (private, never cached)."""
import csv
import io
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.models import Answer, Round, RoundStop, Site, WorkOrder
from app.services import schedule

BATCH = 1000
# A spreadsheet runs a cell starting with one of these as a formula (=HYPERLINK(...) leaks the sheet,
# +cmd|... runs a program): such text gets a leading apostrophe, which shows it as plain text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value as a spreadsheet will show it and never run it."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def stream(session, query, scalars: bool = True, batch: int = BATCH):
    """A query's rows fetched `batch` at a time, lazily; the cursor is closed even if a download stops."""
    result = session.execute(query.execution_options(yield_per=batch))
    if scalars:
        result = result.scalars()
    try:
        yield from result
    finally:
        result.close()


def csv_lines(header: list[str], records):
    """Yield CSV text: a BOM (Excel then reads the Chinese as UTF-8) with the header, then one line per record."""
    buf = io.StringIO()
    writer = csv.writer(buf)

    def line(values) -> str:
        buf.seek(0)
        buf.truncate()
        writer.writerow([safe_cell(v) for v in values])
        return buf.getvalue()

    try:
        yield "\ufeff" + line(header)
        for record in records:
            yield line(record)
    finally:
        close = getattr(records, "close", None)
        if close is not None:  # a download stopped half way: the query's cursor closes now
            close()


def rows(session, what: str, site: Site, start: date, end: date):
    """Yield CSV text for `what` (rounds, answers or orders): a BOM and header, then one line per record."""
    header, records = _records(session, what, site, start, end)
    return csv_lines(header, records)


def _by_date(saved, planned: list):
    """Saved rounds (streamed in date order) with each date's planned rounds after them."""
    i = 0
    try:
        for rnd in saved:
            while i < len(planned) and planned[i].date < rnd.date:
                yield planned[i]
                i += 1
            yield rnd
        yield from planned[i:]
    finally:
        saved.close()


def _records(session, what: str, site: Site, start: date, end: date):
    """The header and a generator of rows for one export."""
    tz = site.tz

    def local(dt: datetime | None) -> str:
        return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if dt else ""

    if what == "rounds":
        query = (select(Round).where(Round.site_id == site.id, Round.date >= start, Round.date <= end)
                 .options(joinedload(Round.route), joinedload(Round.supervisor)).order_by(Round.date, Round.id))
        # A round never started has no row (reading writes nothing): the schedules plan it, up to today.
        last = min(end, schedule.site_today(site))
        planned = schedule.planned_between(session, site, start, last) if start <= last else []
        return (["round", "date", "slot", "route", "window_start", "window_end", "started", "finished",
                 "status", "supervisor"],
                ([r.id or "", r.date.isoformat(), r.slot, r.route.code, local(r.window_start), local(r.window_end),
                  local(r.started_at), local(r.finished_at), schedule.round_status(r),
                  r.supervisor.username if r.supervisor else ""]
                 for r in _by_date(stream(session, query), planned)))
    if what == "answers":
        query = (select(Answer, Round, RoundStop).join(Round, Answer.round_id == Round.id)
                 .join(RoundStop, Answer.stop_id == RoundStop.id)
                 .where(Round.site_id == site.id, Round.date >= start, Round.date <= end)
                 .options(joinedload(Answer.item), joinedload(RoundStop.checkpoint))
                 .order_by(Round.date, Round.id, RoundStop.position, Answer.id))
        return (["answer", "round", "date", "slot", "checkpoint", "item", "text_zh", "result", "note",
                 "answered_by", "answered_at"],
                ([a.id, r.id, r.date.isoformat(), r.slot, stop.checkpoint.name_zh, a.item.code, a.item.text_zh,
                  a.result or "", a.note, a.answered_by_id or "", local(a.answered_at)]
                 for a, r, stop in stream(session, query, scalars=False)))
    lo = datetime.combine(start, time(0), tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
    query = (select(WorkOrder).where(WorkOrder.site_id == site.id, WorkOrder.created_at >= lo,
                                     WorkOrder.created_at < hi)
             .options(joinedload(WorkOrder.team), joinedload(WorkOrder.area), joinedload(WorkOrder.assignee))
             .order_by(WorkOrder.created_at, WorkOrder.id))
    return (["order", "source", "team", "area", "title_zh", "title_en", "severity", "status", "raised",
             "due", "resolved", "closed", "reopened", "assignee"],
            ([o.id, o.source, o.team.code, o.area.code if o.area else "", o.title_zh, o.title_en, o.severity,
              o.status, local(o.created_at), local(o.due_at), local(o.resolved_at), local(o.closed_at),
              o.reopen_count, o.assignee.username if o.assignee else ""]
             for o in stream(session, query)))
