"""work-order events: reassignment and change details as data, not English text

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 16:20:00

Before: "cleaning → engineering" and "severity major → critical; due <iso> → <iso>", which the
history showed as they were (codes and raw timestamps). After: {"team": [from_id, to_id]} and
{"severity": [from, to], "due": [from_iso, to_iso]}, which the page words in the viewer's language.
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

event = sa.table("work_order_event", sa.column("id", sa.Integer), sa.column("order_id", sa.Integer),
                 sa.column("kind", sa.String), sa.column("detail", sa.Text))
order = sa.table("work_order", sa.column("id", sa.Integer), sa.column("site_id", sa.Integer))
team = sa.table("team", sa.column("id", sa.Integer), sa.column("site_id", sa.Integer),
                sa.column("code", sa.String))


def _changed(text: str) -> dict:
    changes = {}
    for part in text.split("; "):
        field, _, rest = part.partition(" ")
        old, _, new = rest.partition(" → ")
        if field in ("severity", "due") and new:
            changes[field] = [old, new]
    return changes


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(sa.select(event.c.id, event.c.kind, event.c.detail, order.c.site_id)
                        .join(order, order.c.id == event.c.order_id)
                        .where(event.c.kind.in_(("reassigned", "changed")), event.c.detail != "",
                               ~event.c.detail.startswith("{"))).all()
    teams = {(site, code): ident for ident, site, code in conn.execute(
        sa.select(team.c.id, team.c.site_id, team.c.code))}
    for ident, kind, detail, site_id in rows:
        if kind == "reassigned":
            old, _, new = detail.partition(" → ")
            ids = [teams.get((site_id, old)), teams.get((site_id, new))]
            data = {"team": ids} if None not in ids else {}
        else:
            data = _changed(detail)
        if data:
            conn.execute(event.update().where(event.c.id == ident).values(detail=json.dumps(data)))


def downgrade():
    conn = op.get_bind()
    rows = conn.execute(sa.select(event.c.id, event.c.kind, event.c.detail)
                        .where(event.c.kind.in_(("reassigned", "changed")),
                               event.c.detail.startswith("{"))).all()
    codes = {ident: code for ident, code in conn.execute(sa.select(team.c.id, team.c.code))}
    for ident, kind, detail in rows:
        data = json.loads(detail)
        if kind == "reassigned":
            text = " → ".join(codes.get(i, "?") for i in data.get("team", []))
        else:
            text = "; ".join(f"{field} {old} → {new}" for field, (old, new) in data.items())
        conn.execute(event.update().where(event.c.id == ident).values(detail=text))
