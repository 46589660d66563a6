"""The manager's desk and administration: one blueprint, its views by area.

desk (dashboard, compliance, exports), people, sites, checklists, patrols (patrol routes, checkpoints,
schedules) and teams (SLA and webhooks) each attach their views to `bp`; endpoints stay manage.<view>.
"""
from flask import Blueprint

from app.web import guard

bp = Blueprint("manage", __name__, url_prefix="/manage")
guard(bp, "manage")  # the manager's desk and administration: managers and admins only

from app.manage import checklists, desk, patrols, people, places, sites, teams  # noqa: E402 - bp must exist first

AREAS = (desk, people, sites, checklists, patrols, places, teams)  # each attached its views to bp when imported
