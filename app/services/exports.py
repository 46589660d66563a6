"""CSV exports of answers, rounds and work orders for a site and date range, streamed row by row:
`yield_per` keeps a year of data from being built in memory."""
import csv
import io
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.models import Answer, Round, RoundStop, Site, WorkOrder
from app.services import schedule

BATCH = 1000


def _writer():
    buf = io.StringIO()
    return buf, csv.writer(buf)


def _flush(buf) -> str:
    out = buf.getvalue()
    buf.seek(0)
    buf.truncate()
    return out


def rows(session, what: str, site: Site, start: date, end: date):
    """Yield CSV text: a BOM and header, then one line per record."""
    buf, w = _writer()
    tz = site.tz

    def local(dt: datetime | None) -> str:
        return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if dt else ""

    yield "\ufeff"  # Excel reads the Chinese text as UTF-8
    if what == "rounds":
        w.writerow(["round", "date", "slot", "route", "window_start", "window_end", "started", "finished",
                    "status", "supervisor"])
        query = (select(Round).where(Round.site_id == site.id, Round.date >= start, Round.date <= end)
                 .options(joinedload(Round.route), joinedload(Round.supervisor)).order_by(Round.date, Round.id))
        for r in session.scalars(query.execution_options(yield_per=BATCH)):
            w.writerow([r.id, r.date.isoformat(), r.slot, r.route.code, local(r.window_start),
                        local(r.window_end), local(r.started_at), local(r.finished_at),
                        schedule.round_status(r), r.supervisor.username if r.supervisor else ""])
            yield _flush(buf)
    elif what == "answers":
        w.writerow(["answer", "round", "date", "slot", "checkpoint", "item", "text_zh", "result", "note",
                    "answered_by", "answered_at"])
        query = (select(Answer, Round, RoundStop).join(Round, Answer.round_id == Round.id)
                 .join(RoundStop, Answer.stop_id == RoundStop.id)
                 .where(Round.site_id == site.id, Round.date >= start, Round.date <= end)
                 .options(joinedload(Answer.item), joinedload(RoundStop.checkpoint))
                 .order_by(Round.date, Round.id, RoundStop.position, Answer.id))
        for a, r, stop in session.execute(query.execution_options(yield_per=BATCH)):
            w.writerow([a.id, r.id, r.date.isoformat(), r.slot, stop.checkpoint.name_zh, a.item.code,
                        a.item.text_zh, a.result or "", a.note, a.answered_by_id or "", local(a.answered_at)])
            yield _flush(buf)
    else:
        w.writerow(["order", "source", "team", "area", "title_zh", "title_en", "severity", "status", "raised",
                    "due", "resolved", "closed", "reopened", "assignee"])
        lo = datetime.combine(start, time(0), tzinfo=tz)
        hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
        query = (select(WorkOrder).where(WorkOrder.site_id == site.id, WorkOrder.created_at >= lo,
                                         WorkOrder.created_at < hi)
                 .options(joinedload(WorkOrder.team), joinedload(WorkOrder.area), joinedload(WorkOrder.assignee))
                 .order_by(WorkOrder.created_at, WorkOrder.id))
        for o in session.scalars(query.execution_options(yield_per=BATCH)):
            w.writerow([o.id, o.source, o.team.code, o.area.code if o.area else "", o.title_zh, o.title_en,
                        o.severity, o.status, local(o.created_at), local(o.due_at), local(o.resolved_at),
                        local(o.closed_at), o.reopen_count, o.assignee.username if o.assignee else ""])
            yield _flush(buf)
