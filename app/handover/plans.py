"""Floor plans on the handover blueprint: layouts (户型), plan upload, rooms, pins in an inspection, the
project heat map. Registered on handover's blueprint (imported at the end of handover/routes.py)."""
from decimal import Decimal

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.forms import EmptyForm
from app.handover.plan_forms import (
    LayoutForm, PinForm, PinnedDefectForm, PlanUploadForm, RoomForm, UnitLayoutForm,
)
from app.handover.routes import _site_arg, bp
from app.labels import SEVERITY_LABELS, room_label
from app.models import ChecklistItem, Defect, Inspection, Layout, Unit
from app.services import handover as svc
from app.services import plans
from app.services.photos import PhotoRejected
from app.services.policy import can
from app.web import (download, load, refused, render, row_id, stored_image_response, uploaded_photos,
                     user_sites)


def _frac(value) -> float:
    """A percentage from a form as a fraction of the plan."""
    return float(Decimal(value) / 100)


# --------------------------------------------------------------------------- shared with owner and orders

def plan_response(layout: Layout, max_age: int = 3600):
    """A layout's plan image that has passed its access check (ETag, private cache, 503 if the store is
    away)."""
    if not layout or not layout.plan_key:
        abort(404)
    return stored_image_response(layout.plan_key, "image/png", max_age)


def plan_view(layout: Layout, src: str, pins, href) -> dict:
    """What templates/handover/_plan.html draws: the plan's size and image URL, and each pin with its
    number, position, status and link (`href(pin)`)."""
    return dict(layout=layout, src=src, w=layout.plan_width, h=layout.plan_height,
                pins=[dict(n=p.n, x=p.x * layout.plan_width, y=p.y * layout.plan_height, status=p.status,
                           href=href(p), title=f"{p.n}. {p.room} · {p.defect.what()}" if p.defect else p.room)
                      for p in pins])


def unit_plan(unit: Unit, src: str, href, defects=None) -> dict | None:
    """The plan of a unit's layout with its defects' pins, or None when it has no plan."""
    if unit.layout is None or not unit.layout.has_plan:
        return None
    return plan_view(unit.layout, src, plans.unit_pins(db.session, unit, defects), href)


# --------------------------------------------------------------------------- layouts

def _room_choices():
    return [("", _("Choose…"))] + [(k, room_label(k)) for k in plans.PLAN_ROOM_KEYS]


def layouts_context(site, form: LayoutForm | None = None) -> dict:
    """The layouts page: the site's layouts with their units counted, and the new-layout form."""
    return dict(site=site, sites=user_sites(), layouts=plans.site_layouts(db.session, [site.id]),
                counts=plans.layout_unit_counts(db.session, site.id), form=form or LayoutForm(formdata=None))


@bp.get("/layouts")
def layouts():
    """The site's layouts (户型): each with its plan, rooms and units; a new one by name."""
    return render("handover/layouts.html", **layouts_context(_site_arg()))


@bp.post("/layouts")
def new_layout():
    """A new layout of the site, by name."""
    site = _site_arg()
    if not can(current_user, "draw_plans"):
        abort(404)
    form = LayoutForm()
    if form.validate_on_submit():
        try:
            layout = plans.layout_named(db.session, site.id, form.name.data)
            return redirect(url_for("handover.layout", layout_id=layout.id))
        except plans.PlanRefused as e:
            form.name.errors = [refused(e)]
    return render("handover/layouts.html", status_code=422, **layouts_context(site, form))


def layout_context(layout: Layout, upload_form=None, room_form=None, error=None) -> dict:
    room_form = room_form or RoomForm(formdata=None)
    room_form.room_key.choices = _room_choices()
    view = plan_view(layout, url_for("handover.plan_image", layout_id=layout.id, v=layout.plan_key[:12]),
                     [], lambda p: "") if layout.has_plan else None
    return dict(layout=layout, plan=view, upload_form=upload_form or PlanUploadForm(formdata=None),
                room_form=room_form, form=EmptyForm(), error=error,
                may_draw=can(current_user, "draw_plans", layout))


@bp.get("/layouts/<int:layout_id>")
def layout(layout_id: int):
    """A layout: its plan, the rooms drawn on it, and (for engineers and managers) upload and drawing."""
    lay = load(Layout, layout_id)
    return render("handover/layout.html", **layout_context(lay))


@bp.get("/layouts/<int:layout_id>/plan.png")
def plan_image(layout_id: int):
    """The plan image, for people who may see the layout."""
    return plan_response(load(Layout, layout_id), max_age=31536000)


@bp.post("/layouts/<int:layout_id>/plan")
def upload_plan(layout_id: int):
    """Upload (or replace) the layout's plan: PNG, JPEG or a PDF's first page."""
    lay = load(Layout, layout_id, "draw_plans")
    form = PlanUploadForm()
    if form.validate_on_submit():
        try:
            plans.upload_plan(db.session, current_app.extensions["photo_store"], lay, current_user,
                              form.file.data.read(plans.MAX_PLAN_BYTES + 1))
            flash(_("The plan is saved. Now draw its rooms."), "info")
            return redirect(url_for("handover.layout", layout_id=lay.id) + "#rooms")
        except plans.PlanRefused as e:
            form.file.errors = [refused(e)]
    return render("handover/layout.html", status_code=422, **layout_context(lay, upload_form=form))


@bp.post("/layouts/<int:layout_id>/rooms")
def add_room(layout_id: int):
    """Name a rectangle of the plan as a room."""
    lay = load(Layout, layout_id, "draw_plans")
    form = RoomForm()
    form.room_key.choices = _room_choices()
    error = None
    if form.validate_on_submit():
        try:
            plans.add_room(db.session, lay, form.room_key.data, _frac(form.x0.data), _frac(form.y0.data),
                           _frac(form.x1.data), _frac(form.y1.data))
            flash(_("%(room)s is on the plan.", room=room_label(form.room_key.data)), "info")
            return redirect(url_for("handover.layout", layout_id=lay.id) + "#rooms")
        except plans.PlanRefused as e:
            error = refused(e)
    else:
        error = _("Choose the room, then drag across it on the plan (or tap two opposite corners).")
    return render("handover/layout.html", status_code=422, **layout_context(lay, room_form=form, error=error))


@bp.post("/layouts/<int:layout_id>/rooms/<int:room_id>/delete")
def remove_room(layout_id: int, room_id: int):
    """Take a room's rectangle off the plan."""
    lay = load(Layout, layout_id, "draw_plans")
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        plans.remove_room(db.session, lay, room_id)
    except LookupError:
        abort(404)
    return redirect(url_for("handover.layout", layout_id=lay.id) + "#rooms")


@bp.post("/units/<int:unit_id>/layout")
def unit_layout(unit_id: int):
    """Set the unit's layout by name (a new name makes a new layout); empty clears it."""
    u = load(Unit, unit_id, "inspect")
    form = UnitLayoutForm()
    if not form.validate_on_submit():
        flash(_("A layout name may be at most %(num)d characters long.", num=plans.LAYOUT_NAME_MAX), "error")
    else:
        try:
            plans.set_unit_layout(db.session, u, form.layout.data or "")
            flash(_("Layout saved."), "info")
        except plans.PlanRefused as e:
            flash(refused(e), "error")
    return redirect(url_for("handover.unit", unit_id=u.id))


# --------------------------------------------------------------------------- pins in an inspection

def _insp_defects(insp: Inspection) -> list[Defect]:
    return svc.recorded_defects(db.session, insp)


def inspection_plan_context(insp: Inspection, moving: Defect | None = None, error: str | None = None) -> dict:
    """The inspection's plan page: its defects' pins (numbered as on the unit), those not yet placed,
    and the one being placed or moved."""
    unit = insp.unit
    defects = _insp_defects(insp)
    view = None
    if unit.layout is not None and unit.layout.has_plan:
        pins = plans.inspection_pins(db.session, insp, defects)
        view = plan_view(unit.layout, url_for("handover.plan_image", layout_id=unit.layout.id,
                                              v=unit.layout.plan_key[:12]), pins,
                         lambda p: url_for("handover.inspection_plan", inspection_id=insp.id, move=p.defect.id)
                         + "#plan")
        numbers = plans.pin_numbers(pins)
    else:
        numbers = {}
    return dict(insp=insp, plan=view, defects=defects, numbers=numbers, moving=moving, form=PinForm(formdata=None),
                error=error)


def _defect_of(insp: Inspection, defect_id: int | None) -> Defect:
    """A defect recorded in this inspection, or 404 (another unit's or inspection's defect is not here)."""
    defect = db.session.get(Defect, defect_id or 0)
    if defect is None or defect.inspection_id != insp.id:
        abort(404)
    return defect


@bp.get("/inspections/<int:inspection_id>/plan")
def inspection_plan(inspection_id: int):
    """The unit's plan during the walk: tap to record a defect there; tap a pin to move it."""
    insp = load(Inspection, inspection_id, "inspect")
    moving = None
    if request.args.get("move", type=int):
        moving = _defect_of(insp, row_id(request.args["move"]))
    return render("handover/inspection_plan.html", **inspection_plan_context(insp, moving))


@bp.post("/inspections/<int:inspection_id>/defects/<int:defect_id>/pin")
def pin(inspection_id: int, defect_id: int):
    """Place or move a defect's pin (until the inspection is signed)."""
    insp = load(Inspection, inspection_id, "inspect")
    defect = _defect_of(insp, defect_id)
    form = PinForm()
    error, status = None, 422
    if form.validate_on_submit():
        try:
            room = plans.pin_defect(db.session, defect, _frac(form.x.data), _frac(form.y.data))
            flash(_("Pin placed in %(room)s.", room=room_label(room)) if room else _("Pin placed."), "info")
            return redirect(url_for("handover.inspection_plan", inspection_id=insp.id) + "#plan")
        except plans.PlanRefused as e:
            error, status = refused(e), e.status
    else:
        error = _("Tap the plan where the defect is.")
    return render("handover/inspection_plan.html", status_code=status,
                  **inspection_plan_context(insp, defect, error))


def _pinned_form(insp: Inspection, form: PinnedDefectForm, room_first: str | None = None) -> PinnedDefectForm:
    """The room choices (the unit's rooms) and the items grouped by room, the tapped room's first."""
    unit_rooms = svc.rooms(insp.unit, insp.version)
    form.room_key.choices = [(k, room_label(k)) for k, _t, _n in unit_rooms]
    groups: dict[str, list] = {"": [("", _("Something else: the owner's concern"))]}
    first = svc.room_type(room_first) if room_first else None
    for item in sorted(insp.version.items, key=lambda i: (i.room != first, i.position)):
        groups.setdefault(str(room_label(item.room)), []).append((str(item.id), item.t("text")))
    form.item.choices = groups
    form.severity.choices = [(k, str(v)) for k, v in SEVERITY_LABELS.items()]
    return form


@bp.route("/inspections/<int:inspection_id>/plan/new", methods=["GET", "POST"])
def pinned_defect(inspection_id: int):
    """A defect recorded where the plan was tapped: the room comes from the spot (and can be changed),
    then the item or the owner's concern, details and photos."""
    insp = load(Inspection, inspection_id, "inspect")
    unit = insp.unit
    if unit.layout is None or not unit.layout.has_plan:
        abort(404)
    form = PinnedDefectForm() if request.method == "POST" else PinnedDefectForm(request.args)
    room_here = None
    try:
        x, y = _frac(form.x.data), _frac(form.y.data)
        room_here = plans.room_at(unit.layout.rooms, x, y)
    except (TypeError, ArithmeticError, ValueError):
        x = y = None
    form = _pinned_form(insp, form, form.room_key.data or room_here)
    error = None
    if request.method == "GET":
        if x is None or not (0 <= x <= 1 and 0 <= y <= 1):
            return redirect(url_for("handover.inspection_plan", inspection_id=insp.id))
        valid = {c[0] for c in form.room_key.choices}
        form.room_key.data = room_here if room_here in valid else None
        form.severity.data = "major"
    elif form.validate_on_submit():
        item = None
        if form.item.data:
            item = db.session.get(ChecklistItem, row_id(form.item.data)) if row_id(form.item.data) else None
            if item is None or item.version_id != insp.version_id:
                abort(404)
        try:
            photos = uploaded_photos(form.photos.data, unit.site)
            d = plans.pinned_defect(db.session, insp, current_user, x, y, room_key=form.room_key.data, item=item,
                                    description=form.description.data or "", severity=form.severity.data or None,
                                    photos=photos)
            flash(_("Defect %(room)s recorded and pinned.", room=room_label(d.room_key)), "info")
            return redirect(url_for("handover.inspection_plan", inspection_id=insp.id) + "#plan")
        except LookupError:
            abort(404)
        except (PhotoRejected, plans.PlanRefused, svc.HandoverRefused) as e:
            error = refused(e)
    else:
        error = _("Check the form and try again.")
    view = plan_view(unit.layout, url_for("handover.plan_image", layout_id=unit.layout.id,
                                          v=unit.layout.plan_key[:12]),
                     [plans.Pin(0, x, y, "open", None, _("Where the defect is"))] if x is not None else [],
                     lambda p: "#plan-new")
    return render("handover/pinned_defect.html", insp=insp, form=form, plan=view, error=error,
                  room_here=room_label(room_here) if room_here else None,
                  status_code=422 if error else 200)


# --------------------------------------------------------------------------- project heat map

def _heat_filters(site) -> dict:
    f = {}
    category = request.args.get("category", "")
    if category and category.isprintable():  # a NUL byte is refused by PostgreSQL
        f["category"] = category[:40]
    team = request.args.get("team", type=int)
    if team and any(t.id == team for t in site.teams):
        f["team"] = str(team)
    return f


def heat_context(lay: Layout) -> dict:
    site = lay.site
    filters = _heat_filters(site)
    heat = plans.heatmap(db.session, lay, filters)
    for c in heat["cells"]:  # each cluster links to its defects
        c["href"] = url_for("handover.defects", site=site.id, layout=lay.id, cell=c["key"], **filters)
    return dict(layout=lay, heat=heat, filters=filters, categories=plans.heat_categories(db.session, lay),
                teams=site.teams,
                plan=plan_view(lay, url_for("handover.plan_image", layout_id=lay.id, v=lay.plan_key[:12]), [],
                               lambda p: ""))


@bp.get("/layouts/<int:layout_id>/heatmap")
def heatmap(layout_id: int):
    """Where the layout's defects cluster across all its units, by category and contractor."""
    lay = load(Layout, layout_id)
    if not lay.has_plan:
        abort(404)
    return render("handover/heatmap.html", **heat_context(lay))


@bp.get("/layouts/<int:layout_id>/heatmap.png")
def heatmap_png(layout_id: int):
    """The heat map as an image, for design and construction feedback (缺陷反馈)."""
    lay = load(Layout, layout_id)
    if not lay.has_plan:
        abort(404)
    filters = _heat_filters(lay.site)
    heat = plans.heatmap(db.session, lay, filters)
    title = _("%(site)s · layout %(layout)s · %(num)d defects", site=lay.site.t(), layout=lay.name,
              num=heat["total"])
    data = plans.heatmap_png(current_app.extensions["photo_store"], lay, heat, title)
    return download(data, "image/png", f"heatmap-layout-{lay.id}.png")


def cell_filters(site_id: int) -> dict:
    """The defects list's heat-map cell (?layout=&cell=col-row) as bounds for filter_defects."""
    lay = db.session.get(Layout, row_id(request.args.get("layout")) or 0)
    if lay is None or lay.site_id != site_id or not lay.has_plan:
        return {}
    bounds = plans.cell_bounds(lay, request.args.get("cell", ""))
    return {"bounds": bounds} if bounds else {}



def order_plan(order) -> dict | None:
    """The unit's plan with the pin of this order's defect (numbered as on the unit's page)."""
    unit = order.unit
    if unit is None or unit.layout is None or not unit.layout.has_plan:
        return None
    pins = [p for p in plans.unit_pins(db.session, unit) if p.defect.work_order_id == order.id]
    if not pins:
        return None
    return plan_view(unit.layout, url_for("workorders.order_plan_image", order_id=order.id,
                                          v=unit.layout.plan_key[:12]), pins, lambda p: "#plan")
