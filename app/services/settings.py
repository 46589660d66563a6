"""Site settings a manager changes: the SLA table and team webhooks."""
from sqlalchemy import select

from app.models import SlaRule, Team


def sla_table(session, teams: list[Team]) -> dict[tuple[int, str], int]:
    """Hours per (team id, severity)."""
    rows = session.scalars(select(SlaRule).where(SlaRule.team_id.in_([t.id for t in teams])))
    return {(r.team_id, r.severity): r.hours for r in rows}


def save_team_settings(session, teams: list[Team], hours: dict[tuple[int, str], int],
                       webhooks: dict[int, tuple[str, str]]) -> None:
    """Store new SLA hours (new orders only: due times already set stay) and webhooks."""
    existing = {(r.team_id, r.severity): r for r in session.scalars(
        select(SlaRule).where(SlaRule.team_id.in_([t.id for t in teams])))}
    for key, value in hours.items():
        rule = existing.get(key)
        if rule is None:
            session.add(SlaRule(team_id=key[0], severity=key[1], hours=value))
        else:
            rule.hours = value
    for team in teams:
        url, fmt = webhooks[team.id]
        team.webhook_url = url.strip() or None
        team.webhook_format = fmt if fmt in ("generic", "wecom") else "generic"
