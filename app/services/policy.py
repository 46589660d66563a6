"""Who may do what: every permission question is answered here, nowhere else."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from app.models import (
    Answer, ChecklistTemplate, Inspection, Layout, Photo, ReportPlace, ResidentReport, Round, Site, Team, Unit, User,
    WorkOrder, WorkOrderPhoto, answer_photo,
)

from app.services.lifecycle import LEADS, STEPS

WALKERS = ("supervisor", "manager", "admin")
INSPECTORS = ("engineer", "supervisor", "manager", "admin")
MANAGERS = ("manager", "admin")

# Named rules: the roles that hold each permission that does not depend on an object. Views,
# services and templates ask for a rule by name (can(user, "manage")); none of them names a role.
RULES = {
    "walk_rounds": WALKERS,                  # Today, start and walk rounds, scan checkpoints
    "work_orders": ("crew",) + LEADS,        # the work-order queue
    "lead_orders": LEADS,                    # verify, needs attention, callbacks, raise by hand
    "triage_reports": LEADS,                 # residents' reports: confirm, merge, close as not a problem
    "all_orders": ("engineer",) + LEADS,     # every order of their sites (crew: their teams' only)
    "inspect": INSPECTORS,                   # handover inspections
    "draw_plans": ("engineer",) + MANAGERS,  # upload a layout's floor plan and name its rooms
    "duty_log": LEADS,                       # the duty log and the morning briefing
    "comment_log": MANAGERS,                 # a manager's comments (批阅) close a day's log
    "coaching_history": MANAGERS,            # a person's appearance history
    "manage": MANAGERS,                      # the manager's desk and administration
    "all_sites": ("admin",),                 # every site, the shared checklist library, the admin role
    "alerts": ("manager",),                  # escalations are notified to a site's managers
    "patrol": ("supervisor",),               # walks rounds as their job (the demo history's walkers)
    "briefed": ("crew",),                    # stands at the morning briefing's appearance check
    "team_member": ("crew",),                # belongs to teams and works their queue
}
# Where each kind of user starts: the first rule they hold.
HOMES = (("walk_rounds", "rounds.today"), ("work_orders", "workorders.queue"), ("inspect", "handover.index"))


def _active(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def allows(user: User, rule: str) -> bool:
    """Whether the user holds a named rule."""
    return _active(user) and user.role in RULES[rule]


def holders(rule: str):
    """A SQL condition on User: the users who hold a named rule (for lists such as who is alerted)."""
    return User.role.in_(RULES[rule])


def home_endpoint(user: User) -> str:
    """The page a user lands on."""
    return next((endpoint for rule, endpoint in HOMES if allows(user, rule)), "auth.login")


def sees_site(user: User, site_id: int) -> bool:
    """Admins see every site; everyone else the sites they are assigned to."""
    return user.role in RULES["all_sites"] or site_id in user.site_ids


def manages_library(user: User) -> bool:
    """The shared checklist library is the admins': a manager changes it only through a site's copy."""
    return allows(user, "all_sites")


def scope(user: User, model):
    """A select of the rows of `model` the user may see; every list starts from it."""
    if model is Site:
        query = select(Site).order_by(Site.id)
        return query if allows(user, "all_sites") else query.where(Site.id.in_(user.site_ids or [-1]))
    if model is WorkOrder:
        query = select(WorkOrder)
        if not allows(user, "all_sites"):
            query = query.where(WorkOrder.site_id.in_(user.site_ids or [-1]))
        if not allows(user, "all_orders"):  # crew: their teams' orders only
            query = query.where(WorkOrder.team_id.in_(user.team_ids or [-1]))
        return query
    if model is Team:
        query = select(Team).order_by(Team.site_id, Team.id)
        if not allows(user, "all_sites"):
            query = query.where(Team.site_id.in_(user.site_ids or [-1]))
        if not allows(user, "all_orders"):
            query = query.where(Team.id.in_(user.team_ids or [-1]))
        return query
    raise LookupError(f"no scope for {model.__name__}")


def role_holds(role: str, rule: str) -> bool:
    """Whether a role (being given to someone) holds a named rule."""
    return role in RULES[rule]


def sites_of(user: User, session) -> list[Site]:
    """The user's sites: every site for those who see all, else their own (loaded with the user, so
    asking costs no statement)."""
    if allows(user, "all_sites"):
        return list(session.scalars(scope(user, Site)))
    return sorted(user.sites, key=lambda s: s.id)


def grantable_roles(actor: User, roles) -> list[str]:
    """The roles an administrator of people may hand out: the admin role only by an admin."""
    return [r for r in roles if r not in RULES["all_sites"] or allows(actor, "all_sites")]


def may_grant(actor: User, role: str) -> bool:
    """Whether the actor may give this role to someone."""
    from app.models.user import ROLES

    return role in grantable_roles(actor, ROLES)


def can(user: User, action: str, obj=None, session=None) -> bool:
    """The one policy check: can `user` do `action` (to `obj`)? With no object, a named rule."""
    if not _active(user):
        return False
    if obj is None:
        return allows(user, action)
    if isinstance(obj, User) and action == "manage_person":
        # Admins manage everyone; managers manage non-admins who share one of their sites (or none yet).
        if allows(user, "all_sites"):
            return True
        return (allows(user, "manage") and not allows(obj, "all_sites")
                and bool(obj.site_ids & user.site_ids or not obj.sites))
    if isinstance(obj, User) and action == "coaching_history":
        return allows(user, "coaching_history") and (allows(user, "all_sites") or bool(set(obj.site_ids) & user.site_ids))
    if isinstance(obj, Site) and action in ("view_log", "comment_log", "manage", "walk_rounds"):
        return sees_site(user, obj.id) and allows(user, {"view_log": "duty_log"}.get(action, action))
    if isinstance(obj, Unit) and action in ("view", "inspect"):
        return sees_site(user, obj.site_id) and allows(user, "inspect")
    if isinstance(obj, Inspection) and action in ("view", "inspect"):
        return sees_site(user, obj.site_id) and allows(user, "inspect")
    if isinstance(obj, Layout) and action in ("view", "draw_plans"):
        return sees_site(user, obj.site_id) and allows(user, "inspect" if action == "view" else action)
    if isinstance(obj, ChecklistTemplate) and action in ("view", "edit"):
        if obj.site_id is None:
            return manages_library(user)
        return sees_site(user, obj.site_id) and allows(user, "manage")
    if isinstance(obj, Round):
        if action == "view":
            return sees_site(user, obj.site_id) and allows(user, "walk_rounds")
        if action == "walk":
            return sees_site(user, obj.site_id) and allows(user, "walk_rounds")
        if action == "check_in":
            # Proof of presence is personal: only the walker who started the round, while it is open.
            return (sees_site(user, obj.site_id) and allows(user, "walk_rounds") and obj.supervisor_id == user.id
                    and obj.started_at is not None and obj.finished_at is None)
    if isinstance(obj, WorkOrder) and action == "view":
        if not sees_site(user, obj.site_id):
            return False
        return allows(user, "all_orders") or obj.team_id in user.team_ids
    if isinstance(obj, WorkOrder) and action == "triage":
        return obj.source == "resident" and allows(user, "triage_reports") and can(user, "view", obj)
    if isinstance(obj, ReportPlace) and action == "manage":
        return can(user, "manage", obj.site)
    if isinstance(obj, ResidentReport) and action == "revoke_link":
        # Stop a resident's private link (sent on, or the resident asked): whoever may triage the site's reports.
        return sees_site(user, obj.site_id) and allows(user, "triage_reports")
    if isinstance(obj, WorkOrder) and action in STEPS:
        return can(user, "view", obj) and order_refusal(user, action, obj) is None
    if isinstance(obj, Team) and action == "view_orders":
        if not sees_site(user, obj.site_id):
            return False
        return allows(user, "all_orders") or obj.id in user.team_ids
    if isinstance(obj, Photo) and action == "view_original":
        # The photo a user drew on before saving: staff who may see the marked photo may open it.
        # (Owners have no account: their private link serves the marked photos of their unit only.)
        return obj.original_id is not None and can(user, "view", obj, session)
    if isinstance(obj, Photo) and action == "view":
        if not sees_site(user, obj.site_id):
            return False
        if allows(user, "all_orders"):
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
