"""login attempts: in flight or decided

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 08:10:00

A login's row is written before its password is checked. Counting rows still being checked against
the per-address limit paused correct logins when a shift logged in at once from one office network
(3-7 of 53-107 logins in bench/load_bench.py): `decided` marks the rows whose password failed. Rows
already there are failures.
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.alter_column('decided', server_default=sa.false())


def downgrade():
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_column('decided')
