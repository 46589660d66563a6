"""Printable PDF reports (an inspection with its defects, photos and signatures), Chinese included.

fpdf2 writes the PDF in pure Python and embeds a subset of a CJK font (Noto Sans CJK from the OS
package fonts-noto-cjk, or the file named by ROUNDS_CJK_FONT), so Chinese renders on any viewer.
"""
import io
import os
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import pgettext
from fpdf import FPDF

from app.labels import (ORDER_STATUS_LABELS, SEVERITY_LABELS, SLOT_LABELS, STATUS_LABELS, UNIT_STATUS_LABELS,
                        room_label)
from app.models import Inspection
from app.services import handover
from app.services.storage import PhotoStore

FONT_CANDIDATES = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2: Simplified Chinese
    ("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
]


class FontMissing(Exception):
    """No font that can write Chinese is installed."""


def cjk_font() -> tuple[str, int]:
    configured = os.environ.get("ROUNDS_CJK_FONT")
    for path, index in ([(configured, 0)] if configured else []) + FONT_CANDIDATES:
        if path and Path(path).exists():
            return path, index
    raise FontMissing("install fonts-noto-cjk or set ROUNDS_CJK_FONT")


class Report(FPDF):
    def __init__(self, title: str):
        super().__init__(format="A4")
        path, index = cjk_font()
        self.add_font("cjk", "", path, collection_font_number=index)
        self.set_font("cjk", size=11)
        self.title_text = title
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(title)

    def footer(self):
        self.set_y(-12)
        self.set_font("cjk", size=8)
        self.cell(0, 6, f"{self.title_text} · {self.page_no()}/{{nb}}", align="C")


def inspection_pdf(insp: Inspection, session, store: PhotoStore, locale: str) -> bytes:
    """The inspection (or re-inspection) report in the chosen language."""
    with force_locale(locale):
        unit = insp.unit
        tz = unit.site.tz
        kind = _("Re-inspection") if insp.kind == "reinspection" else _("Inspection")
        title = f"{kind} {unit.label}"
        pdf = Report(title)
        pdf.alias_nb_pages()
        pdf.add_page()
        pdf.set_font("cjk", size=18)
        pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=11)
        facts = [
            (_("Site"), unit.site.name_en if locale == "en" else unit.site.name_zh),
            (_("Owner"), unit.owner_name or "—"),
            (_("Owner present (name)"), insp.owner_present),
            (_("Engineer"), insp.engineer.display_name),
            (_("Started"), insp.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")),
            (_("Signed"), insp.signed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if insp.signed_at else "—"),
            (_("Status"), str(_unit_status_label(session, unit))),
        ]
        for label, value in facts:
            pdf.set_x(pdf.l_margin)
            pdf.cell(45, 7, str(label))
            pdf.multi_cell(0, 7, str(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        defects = (handover.recorded_defects(session, insp) if insp.kind == "initial"
                   else [c.defect for c in insp.checks])
        verdicts = {c.defect_id: c for c in insp.checks}
        _plan(pdf, session, store, unit, defects)
        pdf.set_font("cjk", size=14)
        pdf.multi_cell(0, 9, _("Defects (%(n)d)", n=len(defects)), new_x="LMARGIN", new_y="NEXT")
        for n, d in enumerate(defects, start=1):
            _defect(pdf, session, store, n, d, verdicts.get(d.id), locale, tz)
        if not defects:
            pdf.set_font("cjk", size=11)
            pdf.multi_cell(0, 7, _("No defects were found."), new_x="LMARGIN", new_y="NEXT")
        _signatures(pdf, store, insp, tz)
        return bytes(pdf.output())


def _plan(pdf: Report, session, store: PhotoStore, unit, defects) -> None:
    """The unit's floor plan with the report's defects pinned, numbered as in the list below and
    coloured by status (open, overdue, repaired, accepted)."""
    from app.services import plans

    layout = unit.layout
    if layout is None or not layout.has_plan:
        return
    by_id = {p.defect.id: p for p in plans.unit_pins(session, unit)}
    pins = [plans.Pin(n, by_id[d.id].x, by_id[d.id].y, by_id[d.id].status, d, by_id[d.id].room)
            for n, d in enumerate(defects, start=1) if d.id in by_id]
    if not pins:
        return
    try:
        png = plans.pins_png(store, layout, pins)
    except KeyError:
        return
    width = pdf.epw
    height = width * layout.plan_height / layout.plan_width
    if height > 150:
        width, height = width * 150 / height, 150
    if pdf.will_page_break(height + 20):
        pdf.add_page()
    pdf.set_font("cjk", size=14)
    pdf.multi_cell(0, 9, _("Floor plan (layout %(name)s)", name=layout.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    legend = " · ".join(f"{label}" for label in (
        _("Orange: open"), _("Red: overdue"), _("Blue: repaired"), _("Green: accepted by the owner")))
    pdf.multi_cell(0, 5, _("The numbers are the defects' numbers below.") + " " + legend,
                   new_x="LMARGIN", new_y="NEXT")
    y = pdf.get_y() + 1
    pdf.image(io.BytesIO(png), x=pdf.l_margin, y=y, w=width, h=height)
    pdf.set_y(y + height + 4)


def _unit_status_label(session, unit):
    return UNIT_STATUS_LABELS[handover.unit_status(session, unit)]


def _defect(pdf: Report, session, store, n, d, check, locale, tz):
    if pdf.will_page_break(40):
        pdf.add_page()
    text = (d.item.text_en if locale == "en" else d.item.text_zh) if d.item else d.description
    pdf.set_font("cjk", size=11)
    pdf.multi_cell(0, 7, f"{n}. {room_label(d.room_key)} · {text}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    bits = [str(SEVERITY_LABELS[d.severity])]
    if d.owner_concern:
        bits.append(_("Owner's concern"))
    if d.location:
        bits.append(d.location)
    if d.item and d.description:
        bits.append(d.description)
    if d.work_order is not None:
        o = d.work_order
        order_no = _("Work order #%(id)d", id=o.id)
        due = _("Due %(time)s", time=o.due_at.astimezone(tz).strftime("%Y-%m-%d"))
        team = o.team.name_en if locale == "en" else o.team.name_zh
        bits.append(f"{order_no} · {team} · {ORDER_STATUS_LABELS[o.status]} · {due}")
    if check is not None:
        bits.append((_("Fix accepted") if check.verdict == "accepted" else _("Fix not accepted"))
                    + (f": {check.reason}" if check.reason else ""))
    pdf.multi_cell(0, 5, " · ".join(bits), new_x="LMARGIN", new_y="NEXT")
    photos = list(d.photos) + (list(d.work_order.after_photos) if d.work_order is not None else [])
    if photos:
        x, y = pdf.l_margin, pdf.get_y() + 1
        if pdf.will_page_break(36):
            pdf.add_page()
            y = pdf.get_y()
        for p in photos[:6]:
            try:
                pdf.image(io.BytesIO(store.get(p.thumb_sha256)), x=x, y=y, h=30)
            except KeyError:
                continue
            x += 30 * p.width / max(p.height, 1) + 3 if p.height else 33
        pdf.set_y(y + 32)
    pdf.ln(2)


def _signatures(pdf: Report, store, insp: Inspection, tz):
    if not insp.signed:
        pdf.multi_cell(0, 7, _("Not signed yet."), new_x="LMARGIN", new_y="NEXT")
        return
    if pdf.will_page_break(60):
        pdf.add_page()
    pdf.set_font("cjk", size=14)
    pdf.multi_cell(0, 9, _("Signatures"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    y = pdf.get_y()
    when = insp.signed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    for i, (label, name, key) in enumerate(((_("Engineer"), insp.engineer_signed_name, insp.engineer_signature),
                                           (_("Owner"), insp.owner_signed_name, insp.owner_signature))):
        x = pdf.l_margin + i * 95
        pdf.image(io.BytesIO(store.get(key)), x=x, y=y, w=80)
        pdf.set_xy(x, y + 34)
        pdf.cell(85, 6, f"{label}: {name} · {when}")
    pdf.set_y(y + 42)


def _heading(pdf: Report, text: str, size: int = 14) -> None:
    if pdf.will_page_break(20):
        pdf.add_page()
    pdf.set_font("cjk", size=size)
    pdf.multi_cell(0, size * 0.65, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)


def _line(pdf: Report, text: str, size: int = 10) -> None:
    pdf.set_font("cjk", size=size)
    pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")


def _photos(pdf: Report, store: PhotoStore, photos) -> None:
    if not photos:
        return
    if pdf.will_page_break(34):
        pdf.add_page()
    x, y = pdf.l_margin, pdf.get_y() + 1
    for p in photos[:6]:
        try:
            pdf.image(io.BytesIO(store.get(p.thumb_sha256)), x=x, y=y, h=28)
        except KeyError:
            continue
        x += 28 * p.width / max(p.height, 1) + 3
    pdf.set_y(y + 30)


def round_pdf(rnd, session, store: PhotoStore, locale: str) -> bytes:
    """A round report: window and timing, every failed or n.a. item with notes and photos, the orders."""
    from app.services import rounds, schedule

    with force_locale(locale):
        tz = rnd.site.tz
        title = f"{SLOT_LABELS[rnd.slot]} {rnd.date.isoformat()}"
        pdf = Report(title)
        pdf.alias_nb_pages()
        pdf.add_page()
        _heading(pdf, title, 18)
        site = rnd.site.name_en if locale == "en" else rnd.site.name_zh
        progress = rounds.progress(session, rnd)
        fmt = "%H:%M"
        window = (f"{rnd.window_start.astimezone(tz).strftime(fmt)}–"
                  f"{rnd.window_end.astimezone(tz).strftime(fmt)}")
        started = rnd.started_at.astimezone(tz).strftime(fmt) if rnd.started_at else "—"
        finished = rnd.finished_at.astimezone(tz).strftime(fmt) if rnd.finished_at else "—"
        who = rnd.supervisor.display_name if rnd.supervisor else "—"
        facts = [(_("Site"), site), (_("Window"), window),
                 (_("Status"), str(STATUS_LABELS[schedule.round_status(rnd)])),
                 (_("Started"), started), (_("Finished"), finished), (_("Supervisor"), who)]
        for label, value in facts:
            _line(pdf, f"{label}: {value}")
        _line(pdf, _("%(answered)d of %(total)d answered, %(failed)d failed", answered=progress.answered,
                     total=progress.total, failed=progress.failed))
        answers = rounds.answers_for(session, rnd, rnd.stops)
        for group in rounds.stops_by_checkpoint(rnd):
            cp = group[0].checkpoint
            _heading(pdf, cp.name_en if locale == "en" else cp.name_zh, 13)
            shown = 0
            for stop in group:
                for item in stop.version.items:
                    a = answers.get((stop.id, item.id))
                    if a is None or a.result not in ("fail", "na"):
                        continue
                    shown += 1
                    text = item.text_en if locale == "en" else item.text_zh
                    mark = _("Fail") if a.result == "fail" else _("N/A")
                    _line(pdf, f"[{mark}] {text}" + (f" — {a.note}" if a.note else ""))
                    _photos(pdf, store, list(a.photos))
            if not shown:
                _line(pdf, _("Every item answered here passed, or was not answered."), 9)
        orders = rounds.orders_raised(session, rnd)
        _heading(pdf, _("Work orders raised"), 13)
        for o in orders:
            team = o.team.name_en if locale == "en" else o.team.name_zh
            _line(pdf, f"#{o.id} {o.title('en' if locale == 'en' else 'zh')} · {team} · {ORDER_STATUS_LABELS[o.status]}")
        if not orders:
            _line(pdf, _("None: nothing failed."))
        return bytes(pdf.output())


def duty_log_pdf(site, day, session, locale: str) -> bytes:
    """A day's duty log: the compiled figures, the supervisor's remarks and the manager's comments."""
    from app.services import dutylog

    with force_locale(locale):
        data = dutylog.compile_day(session, site, day)
        entry = dutylog.entry_for(session, site, day)
        title = _("Duty log %(day)s", day=day.isoformat())
        pdf = Report(title)
        pdf.alias_nb_pages()
        pdf.add_page()
        _heading(pdf, f"{title} · {site.name_en if locale == 'en' else site.name_zh}", 16)
        _heading(pdf, pgettext("patrol walks", "Rounds"), 13)
        for row in data["rounds"]:
            who = row.supervisor.display_name if row.supervisor else "—"
            _line(pdf, f"{SLOT_LABELS[row.round.slot]} · {STATUS_LABELS[row.status]} · {who} · "
                       f"{row.answered}/{row.items}")
        for key, label in (("raised", _("Failures raised")), ("closed", _("Orders closed")),
                           ("carried", _("Still open, carried over")), ("callbacks", _("Callbacks due"))):
            _heading(pdf, f"{label} ({len(data[key])})", 13)
            for o in data[key][:60]:
                _line(pdf, f"#{o.id} {o.title('en' if locale == 'en' else 'zh')} · {ORDER_STATUS_LABELS[o.status]}", 9)
        _heading(pdf, _("Duty supervisor's remarks"), 13)
        _line(pdf, entry.remarks or _("None."))
        _heading(pdf, _("Manager's comments (批阅)"), 13)
        _line(pdf, entry.comment or _("Not read yet."))
        return bytes(pdf.output())
