"""The owner's view of their unit's defects, reached by a private link."""
from flask import Blueprint, abort

from app.extensions import db
from app.models import Defect, Photo
from app.services import handover as svc
from app.web import photo_response, render

bp = Blueprint("owner", __name__, url_prefix="/o")


def _link_or_invalid(token: str):
    """The live link, or None for an unknown, altered, revoked or expired one."""
    return svc.owner_link(db.session, token)


@bp.get("/<token>")
def unit(token: str):
    """The unit's defects: status, due date, before and after photos — nothing about anyone else."""
    link = _link_or_invalid(token)
    if link is None:
        return render("owner/invalid.html", status_code=404)
    u = link.unit
    from sqlalchemy.orm import joinedload, selectinload

    from app.models import WorkOrder, WorkOrderPhoto

    # Loaded with what the page shows, so its cost does not grow with the unit's defects.
    defects = db.session.scalars(db.select(Defect).where(Defect.unit_id == u.id).order_by(Defect.id).options(
        selectinload(Defect.photos), selectinload(Defect.item),
        selectinload(Defect.work_order).selectinload(WorkOrder.photo_links).joinedload(WorkOrderPhoto.photo),
    )).all()
    verdicts = {}
    for insp in u.inspections:
        if insp.kind == "reinspection" and insp.signed:
            verdicts.update({c.defect_id: c.verdict for c in insp.checks})
    resp = render("owner/unit.html", unit=u, token=token, defects=defects, verdicts=verdicts,
                  status=svc.unit_status(db.session, u), **_owner_plan(u, token, defects))
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    return resp


def _owner_plan(u, token: str, defects) -> dict:
    """The unit's floor plan with its numbered pins; tapping one goes to its defect below."""
    from flask import url_for

    from app.handover.plans import plan_view
    from app.services import plans

    if u.layout is None or not u.layout.has_plan:
        return dict(plan=None, pin_of={})
    pins = plans.unit_pins(db.session, u, defects)
    view = plan_view(u.layout, url_for("owner.plan", token=token), pins, lambda p: f"#d-{p.defect.id}")
    return dict(plan=view, pin_of=plans.pin_numbers(pins))


@bp.get("/<token>/plan.png")
def plan(token: str):
    """The floor plan of this link's unit, and no other."""
    from app.handover.plans import plan_response

    link = _link_or_invalid(token)
    if link is None:
        abort(404)
    resp = plan_response(link.unit.layout)
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


@bp.get("/<token>/photos/<int:photo_id>/<any(full, thumb):size>.jpg")
def photo(token: str, photo_id: int, size: str):
    """A photo of this unit's defects or their fixes, and no other."""
    link = _link_or_invalid(token)
    if link is None or photo_id not in svc.unit_photo_ids(db.session, link.unit):
        abort(404)
    resp = photo_response(db.session.get(Photo, photo_id), size, max_age=3600)
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp
