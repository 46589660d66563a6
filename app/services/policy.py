"""Who may do what: every permission question is answered here, nowhere else."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from app.models import (
    Answer, ChecklistTemplate, Inspection, Photo, Round, Site, Team, Unit, User, WorkOrder, WorkOrderPhoto,
    answer_photo,
)

from app.services.lifecycle import LEADS, STEPS

WALKERS = ("supervisor", "manager", "admin")
INSPECTORS = ("engineer", "supervisor", "manager", "admin")


def sees_site(user: User, site_id: int) -> bool:
    """Admins see every site; everyone else the sites they are assigned to."""
    return user.role == "admin" or site_id in user.site_ids


def manages_library(user: User) -> bool:
    """The shared checklist library is the admins': a manager changes it only through a site's copy."""
    return user is not None and user.is_authenticated and user.is_active and user.role == "admin"


def can(user: User, action: str, obj, session=None) -> bool:
    """The one policy check: can `user` do `action` to `obj`?"""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if isinstance(obj, Unit) and action in ("view", "inspect"):
        return sees_site(user, obj.site_id) and user.role in INSPECTORS
    if isinstance(obj, Inspection) and action in ("view", "inspect"):
        return sees_site(user, obj.site_id) and user.role in INSPECTORS
    if isinstance(obj, Site) and action == "view_log":
        return sees_site(user, obj.id) and user.role in WALKERS
    if isinstance(obj, Site) and action == "walk_rounds":
        return sees_site(user, obj.id) and user.role in WALKERS
    if isinstance(obj, Site) and action == "manage":
        return sees_site(user, obj.id) and user.role in ("manager", "admin")
    if isinstance(obj, ChecklistTemplate) and action in ("view", "edit"):
        if obj.site_id is None:
            return manages_library(user)
        return sees_site(user, obj.site_id) and user.role in ("manager", "admin")
    if isinstance(obj, Round):
        if action == "view":
            return sees_site(user, obj.site_id) and user.role in WALKERS
        if action == "walk":
            return sees_site(user, obj.site_id) and user.role in WALKERS
        if action == "check_in":
            # Proof of presence is personal: only the walker who started the round, while it is open.
            return (sees_site(user, obj.site_id) and user.role in WALKERS and obj.supervisor_id == user.id
                    and obj.started_at is not None and obj.finished_at is None)
    if isinstance(obj, WorkOrder) and action == "view":
        if not sees_site(user, obj.site_id):
            return False
        return user.role != "crew" or obj.team_id in user.team_ids
    if isinstance(obj, WorkOrder) and action in STEPS:
        return can(user, "view", obj) and order_refusal(user, action, obj) is None
    if isinstance(obj, Team) and action == "view_orders":
        if not sees_site(user, obj.site_id):
            return False
        return user.role != "crew" or obj.id in user.team_ids
    if isinstance(obj, Photo) and action == "view":
        if not sees_site(user, obj.site_id):
            return False
        if user.role != "crew":
            return True
        # Crew see only photos on their own teams' orders: the round's before photos, or the
        # order's own (raised by hand, after, comments).
        own_team = WorkOrder.team_id.in_(user.team_ids or [-1])
        via_answer = exists().where(answer_photo.c.photo_id == obj.id,
                                    answer_photo.c.answer_id == Answer.id,
                                    WorkOrder.answer_id == Answer.id, own_team)
        via_order = exists().where(WorkOrderPhoto.photo_id == obj.id,
                                   WorkOrderPhoto.order_id == WorkOrder.id, own_team)
        return bool(session.scalar(select(via_answer | via_order)))
    return False


def order_refusal(user: User, action: str, order: WorkOrder):
    """Why `user` may not do a lifecycle action on the order now (None: they may), from the table."""
    step = STEPS[action]
    if user.role not in step.roles:
        return _l("Only a manager can do this.") if "supervisor" not in step.roles else \
            _l("Only a supervisor or a manager can do this.")
    colleagues = order.assignee_id is not None and order.assignee_id != user.id
    if step.own_only and colleagues and user.role not in LEADS and order.status in step.from_statuses:
        # A colleague's order stays theirs until they hand it back; a lead may take it over.
        return _l("%(name)s has this order. Ask them to hand it back, or ask a supervisor.",
                  name=order.assignee.display_name if order.assignee else "?")
    if order.status not in step.from_statuses:
        return step.refusal
    if action == "take" and order.assignee_id == user.id:
        return step.refusal
    if action == "hand_back" and order.assignee_id is None:
        return step.refusal
    if action == "callback" and order.callback != "due":
        return step.refusal
    return None
