"""Printable PDF reports (an inspection with its defects, photos and signatures), Chinese included.

fpdf2 writes the PDF in pure Python and embeds a subset of a CJK font (Noto Sans CJK from the OS
package fonts-noto-cjk, or the file named by ROUNDS_CJK_FONT), so Chinese renders on any viewer.
"""
import io
import os
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF

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
        pdf.set_font("cjk", size=14)
        pdf.multi_cell(0, 9, _("Defects (%(n)d)", n=len(defects)), new_x="LMARGIN", new_y="NEXT")
        for n, d in enumerate(defects, start=1):
            _defect(pdf, session, store, n, d, verdicts.get(d.id), locale, tz)
        if not defects:
            pdf.set_font("cjk", size=11)
            pdf.multi_cell(0, 7, _("No defects were found."), new_x="LMARGIN", new_y="NEXT")
        _signatures(pdf, store, insp, tz)
        return bytes(pdf.output())


def _unit_status_label(session, unit):
    from app.template_helpers import UNIT_STATUS_LABELS

    return UNIT_STATUS_LABELS[handover.unit_status(session, unit)]


def _defect(pdf: Report, session, store, n, d, check, locale, tz):
    from app.template_helpers import ORDER_STATUS_LABELS, SEVERITY_LABELS, room_label

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
