"""dashboard covering indexes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:00:00

Measured by bench/dashboard_bench.py (all sites, a year of history): the dashboard's failure counts
read the failed answers of 30 days of rounds; ix_answer_fail holds only failed answers (a few in a
hundred, so it stays small and costs only a failing tap a write) with their item and stop, and the
answers themselves are no longer read. The per-site order figures (open, overdue, closed within due,
reopened) read ix_work_order_site_figures alone; it starts with the columns of the index it replaces.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

FAIL = sa.text("result = 'fail'")


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.create_index('ix_answer_fail', ['round_id', 'result', 'item_id', 'stop_id'], unique=False,
                              sqlite_where=FAIL, postgresql_where=FAIL)

    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.create_index('ix_work_order_site_figures',
                              ['site_id', 'status', 'closed_at', 'due_at', 'resolved_at', 'reopen_count'],
                              unique=False)
        batch_op.drop_index('ix_work_order_site_status_closed')


def downgrade():
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.create_index('ix_work_order_site_status_closed', ['site_id', 'status', 'closed_at'], unique=False)
        batch_op.drop_index('ix_work_order_site_figures')

    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_fail')
