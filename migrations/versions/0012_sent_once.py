"""changes sent from a phone apply once: answer history with the phone's op id; op ids on order events

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:00:00

answer_change: every change to an answer (one per tap), with the id the phone gave it (unique: a
resent tap is recognised), the time it was answered on the phone, the time it arrived, and whether
it is the answer's current state (a later answer from another phone supersedes it; it stays here).
work_order_event.op: the phone's id of the action that added the event (resolve, comment, ...).
Existing answers get one history row each, as they stand.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "answer_change",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("answer_id", sa.Integer, sa.ForeignKey("answer.id"), nullable=False),
        sa.Column("op", sa.String(64), nullable=True),
        sa.Column("result", sa.String(8), nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("photo_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("by_id", sa.Integer, sa.ForeignKey("user.id"), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kept", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.UniqueConstraint("op", name="uq_answer_change_op"),
    )
    op.create_index("ix_answer_change_answer", "answer_change", ["answer_id", "id"])
    op.execute(
        "INSERT INTO answer_change (answer_id, op, result, note, photo_count, by_id, answered_at,"
        " received_at, kept) SELECT a.id, NULL, a.result, a.note,"
        " (SELECT count(*) FROM answer_photo ap WHERE ap.answer_id = a.id), a.answered_by_id,"
        " a.answered_at, a.answered_at, " + ("true" if op.get_bind().dialect.name == "postgresql" else "1")
        + " FROM answer a")
    with op.batch_alter_table("work_order_event") as batch:
        batch.add_column(sa.Column("op", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_work_order_event_op", ["op"])


def downgrade():
    with op.batch_alter_table("work_order_event") as batch:
        batch.drop_constraint("uq_work_order_event_op", type_="unique")
        batch.drop_column("op")
    op.drop_index("ix_answer_change_answer", table_name="answer_change")
    op.drop_table("answer_change")
