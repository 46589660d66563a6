"""The work-order lifecycle as one table: each action's roles, starting statuses, resulting status,
event and requirements. The service applies it, the policy asks it, the routes and the order page's
buttons come from it, and the README's table is rendered from it (a test compares the two).

Data only: no request, no session, no other service.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.models.workorder import STATUSES

CREW = ("crew",)
LEADS = ("supervisor", "manager", "admin")
MANAGERS = ("manager", "admin")
WORKING = ("open", "in_progress")
NOT_DONE = ("open", "in_progress", "blocked", "resolved")


@dataclass(frozen=True)
class Step:
    """One action on an order."""

    action: str
    roles: tuple[str, ...]
    from_statuses: tuple[str, ...]
    to_status: str | None  # None: the status stays
    events: tuple[str, ...]  # the event it appends (take: assigned, or taken_over from a colleague)
    needs: tuple[str, ...] = ()  # after_photo, note, note_or_photo, outcome, team, change
    # Crew may do it only on an order that is free or theirs (a colleague's order stays theirs).
    own_only: bool = False
    refusal: object = _l("That is not possible for this order now.")

    @property
    def segment(self) -> str:
        """Its URL segment: /orders/<id>/<segment>."""
        return self.action.replace("_", "-")


# Supervisors and managers can also do the crew's actions (a small site has no crew phone).
LIFECYCLE = (
    Step("take", CREW + LEADS, ("open",), None, ("assigned", "taken_over"), own_only=True,
         refusal=_l("This order cannot be taken now.")),
    Step("start", CREW + LEADS, ("open",), "in_progress", ("started",), own_only=True,
         refusal=_l("Only an open order can be started.")),
    Step("resolve", CREW + LEADS, WORKING, "resolved", ("resolved",), ("after_photo", "note"), own_only=True,
         refusal=_l("Only an open or started order can be resolved.")),
    Step("hand_back", CREW + LEADS, WORKING, "open", ("handed_back",), own_only=True,
         refusal=_l("Only the person who has this order can hand it back.")),
    Step("cant_fix", CREW + LEADS, WORKING, "blocked", ("blocked",), ("note",), own_only=True),
    Step("comment", CREW + LEADS, STATUSES, None, ("commented",), ("note_or_photo",)),
    Step("verify", LEADS, ("resolved",), "closed", ("verified",),
         refusal=_l("Only a resolved order can be verified.")),
    Step("reopen", LEADS, ("resolved",), "open", ("reopened",), ("note",),
         refusal=_l("Only a resolved order can be reopened.")),
    Step("send_back", LEADS, ("blocked",), "open", ("sent_back",)),
    Step("callback", LEADS, ("closed",), None, ("callback",), ("outcome",),
         refusal=_l("This order has no callback due.")),
    Step("reassign", MANAGERS, ("open", "in_progress", "blocked"), "open", ("reassigned",), ("team",)),
    Step("change", MANAGERS, NOT_DONE, None, ("changed",), ("change",)),
    Step("cancel", MANAGERS, NOT_DONE, "cancelled", ("cancelled",), ("note",),
         refusal=_l("Only a manager can cancel an order that is not closed.")),
)
STEPS = {step.action: step for step in LIFECYCLE}
BY_SEGMENT = {step.segment: step for step in LIFECYCLE}

NEEDS_TEXT = {"after_photo": "after photo", "note": "note", "note_or_photo": "note or photo",
              "outcome": "owner's answer (not satisfied reopens)", "team": "another team of the site",
              "change": "a new severity or due time"}


README_NAMES = {"cant_fix": "can't fix"}


def markdown_table() -> str:
    """The lifecycle as the README shows it."""
    def who(roles):
        return "crew, supervisor, manager" if "crew" in roles else (
            "supervisor, manager" if "supervisor" in roles else "manager, admin")

    rows = ["| action | who | from | to | needs |", "|---|---|---|---|---|"]
    for s in LIFECYCLE:
        start = "any" if s.from_statuses == STATUSES else ", ".join(s.from_statuses)
        needs = ", ".join(NEEDS_TEXT[n] for n in s.needs) or "—"
        if s.own_only:
            needs += " · crew: not a colleague's order"
        rows.append(f"| {README_NAMES.get(s.action, s.action.replace('_', ' '))} | {who(s.roles)} | {start} | {s.to_status or 'stays'} "
                    f"| {needs} |")
    return "\n".join(rows)
