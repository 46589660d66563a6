"""floor plans: unit layouts (户型), their plans and rooms, pins on defects

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 07:20:00

A layout belongs to a site and is shared by its units (unit.layout_id); its plan is a normalised
image in the photo store (plan_key) with its size. Rooms are rectangles in fractions of the plan.
A defect's pin is a point in fractions of the plan (pin_x, pin_y) on the layout it was placed on
(pin_layout_id, indexed: the project heat map reads a layout's pins without going through units).
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('layout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('plan_key', sa.String(length=64), nullable=True),
    sa.Column('plan_width', sa.Integer(), nullable=True),
    sa.Column('plan_height', sa.Integer(), nullable=True),
    sa.Column('plan_uploaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('plan_uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_layout_site_id_site')),
    sa.ForeignKeyConstraint(['plan_uploaded_by_id'], ['user.id'], name=op.f('fk_layout_plan_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_layout')),
    sa.UniqueConstraint('site_id', 'name', name=op.f('uq_layout_site_id_name'))
    )
    with op.batch_alter_table('layout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_layout_site_id'), ['site_id'], unique=False)

    op.create_table('plan_room',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('layout_id', sa.Integer(), nullable=False),
    sa.Column('room_key', sa.String(length=24), nullable=False),
    sa.Column('x0', sa.Float(), nullable=False),
    sa.Column('y0', sa.Float(), nullable=False),
    sa.Column('x1', sa.Float(), nullable=False),
    sa.Column('y1', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['layout_id'], ['layout.id'], name=op.f('fk_plan_room_layout_id_layout')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_room'))
    )
    with op.batch_alter_table('plan_room', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_room_layout_id'), ['layout_id'], unique=False)

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('layout_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_unit_layout_id'), ['layout_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_unit_layout_id_layout'), 'layout', ['layout_id'], ['id'])

    with op.batch_alter_table('defect', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pin_layout_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pin_x', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('pin_y', sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f('ix_defect_pin_layout_id'), ['pin_layout_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_defect_pin_layout_id_layout'), 'layout',
                                    ['pin_layout_id'], ['id'])


def downgrade():
    with op.batch_alter_table('defect', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_defect_pin_layout_id_layout'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_defect_pin_layout_id'))
        batch_op.drop_column('pin_y')
        batch_op.drop_column('pin_x')
        batch_op.drop_column('pin_layout_id')

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_unit_layout_id_layout'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_unit_layout_id'))
        batch_op.drop_column('layout_id')

    with op.batch_alter_table('plan_room', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_room_layout_id'))
    op.drop_table('plan_room')

    with op.batch_alter_table('layout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_layout_site_id'))
    op.drop_table('layout')
