"""All models, imported so Alembic and the app see every table."""
from app.models.checklist import ChecklistItem, ChecklistTemplate, SiteItemTeam, TemplateVersion
from app.models.dutylog import AppearanceCheck, DutyLog
from app.models.handover import (
    Building, Defect, DefectCheck, Inspection, InspectionAnswer, OwnerLink, Unit, check_photo,
    defect_photo,
)
from app.models.photo import Photo
from app.models.plan import Layout, PlanRoom
from app.models.report import RateHit, ReportPlace, ReportRoute, ResidentReport, report_photo
from app.models.round import Answer, AnswerChange, Round, RoundStop, answer_photo
from app.models.route import CheckIn, Checkpoint, Route, Schedule, checkpoint_template
from app.models.site import Area, Site, SlaRule, Team
from app.models.user import LoginFailure, User, user_site, user_team
from app.models.workorder import (
    Notification, WebhookDelivery, WorkOrder, WorkOrderEvent, WorkOrderPhoto,
)

__all__ = [
    "Answer", "AnswerChange", "Area", "ChecklistItem", "ChecklistTemplate", "Checkpoint", "LoginFailure",
    "Photo", "Round", "RoundStop", "Route", "Schedule", "Site", "SiteItemTeam", "SlaRule",
    "Team", "TemplateVersion", "User", "WorkOrder", "WorkOrderEvent", "answer_photo",
    "Notification", "WebhookDelivery", "WorkOrderPhoto", "Building", "Defect", "DefectCheck",
    "Inspection", "InspectionAnswer", "OwnerLink", "Unit", "check_photo", "defect_photo", "CheckIn", "DutyLog", "AppearanceCheck",
    "checkpoint_template", "user_site", "user_team", "Layout", "PlanRoom",
    "RateHit", "ReportPlace", "ReportRoute", "ResidentReport", "report_photo",
]
