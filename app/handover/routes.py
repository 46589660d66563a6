"""Units, the mock-inspection walk, signatures, owner links and re-inspection."""
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.forms import EmptyForm
from app.handover.forms import (
    CheckForm, ConcernForm, DefectForm, ImportForm, SignForm, StartForm, UnitForm,
)
from app.models import ChecklistItem, Defect, DefectCheck, Inspection, InspectionAnswer, Site, Team, Unit
from app.services import handover as svc
from app.services.photos import PhotoRejected
from app.services.policy import can
from app.services.signatures import SignatureRefused
from app.web import (csv_download, is_partial, load, pdf_response, refused, render, row_id, uploaded_photos,
                     user_sites)

bp = Blueprint("handover", __name__, url_prefix="/handover")


@bp.before_request
@login_required
def inspectors_only():
    """Engineers, supervisors and managers; nobody else sees the handover pages."""
    if not can(current_user, "inspect"):
        abort(404)


@bp.get("/")
def index():
    """The units of the user's sites, by building, with where they stand (?status= narrows it); a large
    project one building at a time (?building=, ?page=)."""
    sites = user_sites()
    wanted = request.args.get("status") if request.args.get("status") in svc.UNIT_STATUSES else None
    return render("handover/index.html", sites=sites,
                  **svc.index_page(db.session, [s.id for s in sites], wanted=wanted,
                                   building_id=request.args.get("building", type=int),
                                   page=request.args.get("page", 1, type=int)))


def _site_arg() -> Site:
    sites = user_sites()
    site = next((s for s in sites if str(s.id) == request.args.get("site", "")), sites[0] if sites else None)
    if site is None:
        abort(404)
    return site


def _defect_filters() -> dict:
    filters = {k: request.args[k] for k in svc.DEFECT_FILTERS if request.args.get(k)
               and (request.args[k].isprintable() if k in ("category", "room", "order", "cell")
                    else row_id(request.args[k]))}  # no NUL for PostgreSQL, no id beyond the column
    if filters.get("cell"):  # a heat-map cluster: its bounds on the layout's plan
        from app.handover.plans import cell_filters

        filters.pop("cell")
        bounds = cell_filters(_site_arg().id)
        if bounds and filters.get("layout"):
            filters["cell"] = request.args["cell"]
            filters.update(bounds)
    return filters


@bp.get("/project")
def project():
    """Feedback to design and construction: units by status, defects by category, room, team, item."""
    site = _site_arg()
    return render("handover/project.html", site=site, sites=user_sites(),
                  figures=svc.project_figures(db.session, site))


@bp.get("/defects")
def defects():
    """The defects behind a figure of the project view."""
    from app.models.types import utcnow

    site = _site_arg()
    filters = _defect_filters()
    rows = db.session.scalars(svc.filter_defects(svc.signed_defects(site.id), filters, utcnow())
                              .order_by(Defect.id).limit(500)).all()
    return render("handover/defects.html", site=site, rows=rows,
                  filters={k: v for k, v in filters.items() if k in svc.DEFECT_FILTERS})


@bp.get("/defects.csv")
def defects_csv():
    """The same list as CSV, streamed row by row."""
    from app.models.types import utcnow
    from app.services.exports import csv_lines, stream

    site = _site_arg()
    query = svc.filter_defects(svc.signed_defects(site.id), _defect_filters(), utcnow()).order_by(Defect.id)
    tz = site.tz

    def records():
        for d in stream(db.session, query, batch=500):
            o = d.work_order
            yield [d.id, d.unit.label, d.room_key, d.item.text_zh if d.item else "",
                   d.item.category if d.item else "owner_concern", d.severity, d.location,
                   d.description, "yes" if d.owner_concern else "", d.team.code if d.team else "",
                   o.id if o else "", o.status if o else "",
                   o.due_at.astimezone(tz).strftime("%Y-%m-%d") if o else "",
                   d.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")]

    header = ["defect", "unit", "room", "item", "category", "severity", "location", "description",
              "owner_concern", "team", "work_order", "status", "due", "recorded"]
    return csv_download(csv_lines(header, records()), f"defects-{site.code}.csv")


@bp.route("/import", methods=["GET", "POST"])
def import_units():
    """Import units from a CSV file: a per-row report, and nothing imported if any row is wrong."""
    sites = user_sites()
    site = next((s for s in sites if str(s.id) == request.values.get("site", "")), sites[0] if sites else None)
    if site is None:
        abort(404)
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        report = svc.import_units(db.session, site, form.file.data.read(svc.MAX_CSV_BYTES + 1))
        if not report.problems:
            flash(_("%(n)d units imported.", n=report.created), "info")
            return redirect(url_for("handover.index"))
    return render("handover/import.html", form=form, report=report, site=site, sites=sites,
                  columns=svc.CSV_COLUMNS, status_code=422 if report and report.problems else 200)


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
def edit_unit(unit_id: int | None = None):
    """Add a unit, or correct one (building, unit, floor, room, owner, rooms)."""
    unit = load(Unit, unit_id, "inspect") if unit_id else None
    site = unit.site if unit else (user_sites() or [None])[0]
    if site is None:
        abort(404)
    form = UnitForm(obj=unit) if unit else UnitForm()
    if unit and request.method == "GET":
        form.building.data = unit.building.code
    if form.validate_on_submit():
        try:
            unit = svc.save_unit(db.session, site, unit, building=form.building.data, unit_no=form.unit_no.data,
                                 floor=form.floor.data, room=form.room.data,
                                 owner_name=form.owner_name.data or "", owner_phone=form.owner_phone.data or "",
                                 bedrooms=form.bedrooms.data, bathrooms=form.bathrooms.data)
            return redirect(url_for("handover.unit", unit_id=unit.id))
        except svc.HandoverRefused as e:
            form.room.errors = [refused(e)]
    return render("handover/unit_form.html", form=form, unit=unit,
                  status_code=422 if form.errors else 200)


@bp.get("/units/<int:unit_id>")
def unit(unit_id: int):
    """A unit: owner, status, inspections, open defects and their orders, the owner's link."""
    u = load(Unit, unit_id, "inspect")
    return render("handover/unit.html", **unit_context(u))


def unit_context(u: Unit, token: str | None = None, start_form=None) -> dict:
    from app.handover.plan_forms import UnitLayoutForm
    from app.handover.plans import plan_view
    from app.services import plans

    plan, pins = None, []
    if u.layout is not None and u.layout.has_plan:  # tapping a pin opens its order (else its line below)
        pins = plans.unit_pins(db.session, u)
        plan = plan_view(u.layout, url_for("handover.plan_image", layout_id=u.layout.id, v=u.layout.plan_key[:12]),
                         pins, lambda p: url_for("workorders.show", order_id=p.defect.work_order_id)
                         if p.defect.work_order_id else f"#d-{p.defect.id}")
    return dict(unit=u, status=svc.unit_status(db.session, u), defects=svc.open_defects(db.session, u),
                link=svc.live_link(db.session, u), token=token, form=EmptyForm(),
                start_form=start_form or StartForm(owner_present=u.owner_name), plan=plan,
                pin_of=plans.pin_numbers(pins),
                layout_form=UnitLayoutForm(formdata=None, layout=u.layout.name if u.layout else ""),
                layout_names=[lay.name for lay in plans.site_layouts(db.session, [u.site_id])])


@bp.post("/units/<int:unit_id>/inspections")
@bp.post("/units/<int:unit_id>/reinspections", endpoint="start_reinspection")
def start(unit_id: int):
    """Start a walk (or a re-inspection of the defects) with the owner present."""
    u = load(Unit, unit_id, "inspect")
    form = StartForm()
    if not form.validate_on_submit():
        return render("handover/unit.html", status_code=422, **unit_context(u, start_form=form))
    starter = svc.start_reinspection if request.path.endswith("reinspections") else svc.start_inspection
    try:
        insp = starter(db.session, u, current_user, form.owner_present.data)
    except svc.HandoverRefused as e:
        flash(refused(e), "error")
        return redirect(url_for("handover.unit", unit_id=u.id))
    return redirect(url_for("handover.inspection", inspection_id=insp.id))


@bp.get("/inspections/<int:inspection_id>")
def inspection(inspection_id: int):
    """The walk: rooms with progress; for a re-inspection, the defects to check."""
    insp = load(Inspection, inspection_id, "inspect")
    if insp.kind == "reinspection":
        return render("handover/reinspection.html", **reinspection_context(insp))
    return render("handover/inspection.html", insp=insp, rooms=svc.rooms(insp.unit, insp.version),
                  progress=svc.progress(db.session, insp))


def reinspection_context(insp: Inspection, errors=None, drafts=None) -> dict:
    """The re-inspection page: the defects to check, the verdicts so far, a refusal and what was typed."""
    defects = svc.open_defects(db.session, insp.unit) if not insp.signed else [c.defect for c in insp.checks]
    checks = db.session.scalars(select(DefectCheck).where(DefectCheck.reinspection_id == insp.id))
    return dict(insp=insp, defects=defects, verdicts={c.defect_id: c for c in checks},
                errors=errors or {}, drafts=drafts or {})


def room_context(insp: Inspection, room_key: str, errors=None, concern_form=None, concern_error=None,
                 concern_saved=None, drafts=None) -> dict:
    """A room's page; `drafts` holds what was typed in an item whose save was refused, shown again."""
    if room_key not in {k for k, _, _ in svc.rooms(insp.unit, insp.version)}:
        abort(404)
    answers = {a.item_id: a for a in db.session.scalars(select(InspectionAnswer).where(
        InspectionAnswer.inspection_id == insp.id, InspectionAnswer.room_key == room_key))}
    recorded = db.session.scalars(select(Defect).where(Defect.inspection_id == insp.id).order_by(Defect.id)).all()
    defects = {d.answer_id: d for d in recorded if d.answer_id}
    concerns = [d for d in recorded if d.owner_concern and d.room_key == room_key]
    keys = [k for k, _, _ in svc.rooms(insp.unit, insp.version)]
    i = keys.index(room_key)
    return dict(insp=insp, room_key=room_key, items=svc.items_in(insp.version, room_key), answers=answers,
                defects=defects, concerns=concerns, errors=errors or {}, prev=keys[i - 1] if i else None,
                next=keys[i + 1] if i + 1 < len(keys) else None, teams=insp.unit.site.teams,
                concern_form=concern_form or ConcernForm(formdata=None), concern_error=concern_error,
                concern_saved=concern_saved, form=DefectForm(formdata=None), drafts=drafts or {})


@bp.get("/inspections/<int:inspection_id>/rooms/<room_key>")
def room(inspection_id: int, room_key: str):
    """One room's items: pass / defect / n.a., each defect with where, what and photos."""
    insp = load(Inspection, inspection_id, "inspect")
    return render("handover/room.html", **room_context(insp, room_key))


@bp.post("/inspections/<int:inspection_id>/rooms/<room_key>/items/<int:item_id>")
def answer(inspection_id: int, room_key: str, item_id: int):
    """Save one item's answer; htmx gets the item back."""
    insp = load(Inspection, inspection_id, "inspect")
    item = db.session.get(ChecklistItem, item_id)
    if item is None or item.version_id != insp.version_id:
        abort(404)
    form = DefectForm()
    error, status = None, 200
    if not form.validate_on_submit():
        error, status = _("Check the form and try again."), 422
    else:
        try:
            team = db.session.get(Team, form.team.data) if form.team.data else None
            if team is not None and team.site_id != insp.site_id:
                abort(404)
            photos = uploaded_photos(form.photos.data, insp.unit.site)
            svc.answer(db.session, insp, room_key, item, current_user, result=form.result.data or None,
                       severity=form.severity.data or None, description=form.description.data,
                       location=form.location.data, photos=photos, team=team)
        except LookupError:
            abort(404)
        except (PhotoRejected, svc.HandoverRefused) as e:
            error, status = refused(e), (409 if insp.signed else e.status)
    has_files = any(f and f.filename for f in (form.photos.data or []))
    if is_partial() and not error and not form.result.data and not has_files:
        # An autosave of typed details: saved; leave the form as it is so typing goes on undisturbed.
        return current_app.response_class(status=204)
    # A refusal (a bad photo, a photo missing) keeps what the engineer typed, as the round's answers do.
    drafts = {item.id: dict(result=form.result.data, location=form.location.data or "",
                            description=form.description.data or "", severity=form.severity.data,
                            team=form.team.data)} if error else None
    if not is_partial():
        if error:
            return render("handover/room.html", status_code=status,
                          **room_context(insp, room_key, errors={item.id: error}, drafts=drafts))
        return redirect(url_for("handover.room", inspection_id=insp.id, room_key=room_key) + f"#hi-{item.id}")
    ctx = room_context(insp, room_key, errors={item.id: error} if error else None, drafts=drafts)
    return render("handover/_item.html", status_code=status, item=item, **ctx)


@bp.post("/inspections/<int:inspection_id>/rooms/<room_key>/concerns")
def concern(inspection_id: int, room_key: str):
    """The owner's own concern, not on the list, with photos; a refusal keeps what was typed (422)."""
    insp = load(Inspection, inspection_id, "inspect")
    room_context(insp, room_key)  # 404 for a room the unit does not have
    form = ConcernForm()
    error, status = None, 200
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        error, status = _("Write the owner's concern."), 422
        form.text.errors = []  # said once, above the form
    else:
        try:
            photos = uploaded_photos(form.photos.data, insp.unit.site)
            svc.add_concern(db.session, insp, room_key, form.text.data, photos)
        except (PhotoRejected, svc.HandoverRefused) as e:
            error, status = refused(e), (409 if insp.signed else e.status)
    if error:
        ctx = room_context(insp, room_key, concern_form=form, concern_error=error)
        return render("handover/room.html", "handover/_concerns.html", status_code=status, **ctx)
    saved = _("The owner's concern is recorded.")
    if not is_partial():
        flash(saved, "info")
        return redirect(url_for("handover.room", inspection_id=insp.id, room_key=room_key) + "#concerns")
    return render("handover/_concerns.html", **room_context(insp, room_key, concern_saved=saved))


@bp.post("/inspections/<int:inspection_id>/checks/<int:defect_id>/<any(accept, reject):verdict>")
def check(inspection_id: int, defect_id: int, verdict: str):
    """The owner accepts a fix, or rejects it with a reason and a photo; a refusal keeps the reason (422)."""
    insp = load(Inspection, inspection_id, "inspect")
    defect = db.session.get(Defect, defect_id)
    if defect is None or defect.unit_id != insp.unit_id:
        abort(404)
    form = CheckForm()
    if not form.validate_on_submit():
        abort(400)
    error, status = None, 200
    try:
        photos = uploaded_photos(form.photos.data, insp.unit.site)
        svc.check_defect(db.session, insp, defect, current_user, "accepted" if verdict == "accept" else "rejected",
                         reason=form.reason.data or "", photos=photos)
    except LookupError:
        abort(404)
    except (PhotoRejected, svc.HandoverRefused) as e:
        error, status = refused(e), (409 if insp.signed else e.status)
    if not error and not is_partial():
        return redirect(url_for("handover.inspection", inspection_id=insp.id) + f"#d-{defect.id}")
    ctx = reinspection_context(insp, errors={defect.id: error} if error else None,
                               drafts={defect.id: form.reason.data} if error else None)
    return render("handover/reinspection.html", "handover/_check.html", status_code=status, d=defect, **ctx)


@bp.route("/inspections/<int:inspection_id>/sign", methods=["GET", "POST"])
def sign(inspection_id: int):
    """The owner reads the defects on the same phone; both sign on the screen."""
    insp = load(Inspection, inspection_id, "inspect")
    form = SignForm()
    if request.method == "GET":
        form.engineer_name.data = current_user.display_name
        form.owner_name.data = insp.owner_present
    error, refused_pads = None, {}
    if form.validate_on_submit():
        try:
            svc.sign(db.session, current_app.extensions["photo_store"], insp, current_user,
                     engineer_name=form.engineer_name.data, owner_name=form.owner_name.data,
                     engineer_sig=form.engineer_signature.data, owner_sig=form.owner_signature.data)
            flash(_("Signed. The rectification orders have been raised."), "info")
            return redirect(url_for("handover.unit", unit_id=insp.unit_id))
        except SignatureRefused as e:
            error, refused_pads = refused(e), {who: str(m) for who, m in e.pads.items()}
            for who in refused_pads:  # that pad is signed again; the other keeps its signature
                form[f"{who}_signature"].data = ""
        except svc.HandoverRefused as e:
            error = refused(e)
    defects = svc.recorded_defects(db.session, insp) if insp.kind == "initial" else [c.defect for c in insp.checks]
    return render("handover/sign.html", insp=insp, form=form, error=error, refused=refused_pads, defects=defects,
                  verdicts={c.defect_id: c for c in insp.checks},
                  status_code=422 if error or form.errors else (409 if insp.signed and request.method == "POST" else 200))


@bp.get("/inspections/<int:inspection_id>/signatures/<any(engineer, owner):who>.png")
def signature(inspection_id: int, who: str):
    """A signature image, for people who may see the inspection."""
    insp = load(Inspection, inspection_id, "inspect")
    key = insp.engineer_signature if who == "engineer" else insp.owner_signature
    if not key:
        abort(404)
    resp = current_app.response_class(current_app.extensions["photo_store"].get(key), mimetype="image/png")
    resp.set_etag(key)
    resp.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return resp


@bp.get("/inspections/<int:inspection_id>/report.pdf")
def report(inspection_id: int):
    """The inspection as a PDF, in the page's language (or ?lang=zh_Hans / en)."""
    from app.services import reports

    insp = load(Inspection, inspection_id, "inspect")
    store = current_app.extensions["photo_store"]
    return pdf_response(lambda lang: reports.inspection_pdf(insp, db.session, store, lang),
                        f"inspection-{insp.unit.label}-{insp.id}.pdf")


@bp.post("/units/<int:unit_id>/link")
def create_link(unit_id: int):
    """A new private link for the owner, shown once as a QR code and as text."""
    u = load(Unit, unit_id, "inspect")
    if not EmptyForm().validate_on_submit():
        abort(400)
    token, _link = svc.create_owner_link(db.session, u, current_user)
    return render("handover/unit.html", **unit_context(u, token=token))


@bp.post("/units/<int:unit_id>/link/revoke")
def revoke_link(unit_id: int):
    """Stop the owner's link from working."""
    u = load(Unit, unit_id, "inspect")
    if not EmptyForm().validate_on_submit():
        abort(400)
    svc.revoke_owner_links(db.session, u)
    flash(_("The owner's link no longer works."), "info")
    return redirect(url_for("handover.unit", unit_id=u.id))




from app.handover import plans as _plans  # noqa: E402,F401  (registers the floor-plan routes on bp)
