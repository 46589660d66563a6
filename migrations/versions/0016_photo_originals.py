"""photo originals: a marked-up photo keeps a reference to the photo it was drawn on

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 09:00:00

photo.original_id: the unmarked photo (normalised and stored like any other) that a user drew arrows,
circles or labels on before saving; pages show the marked photo, staff can open the original.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_photo_original_id_photo'), 'photo', ['original_id'], ['id'])


def downgrade():
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_photo_original_id_photo'), type_='foreignkey')
        batch_op.drop_column('original_id')
