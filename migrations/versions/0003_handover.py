"""handover: units, inspections, defects, owner links

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 03:29:28.447150

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: server defaults fill the new NOT NULL columns of existing sites and teams.
    op.create_table('building',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_building_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_building')),
    sa.UniqueConstraint('site_id', 'code', name=op.f('uq_building_site_id_code'))
    )
    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_building_site_id'), ['site_id'], unique=False)

    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('unit_no', sa.String(length=10), nullable=False),
    sa.Column('floor', sa.Integer(), nullable=False),
    sa.Column('room', sa.String(length=10), nullable=False),
    sa.Column('owner_name', sa.String(length=120), nullable=False),
    sa.Column('owner_phone', sa.String(length=40), nullable=False),
    sa.Column('bedrooms', sa.Integer(), nullable=False),
    sa.Column('bathrooms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_unit_building_id_building')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_unit_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('building_id', 'unit_no', 'room', name=op.f('uq_unit_building_id_unit_no_room'))
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_site_id'), ['site_id'], unique=False)

    op.create_table('inspection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('engineer_id', sa.Integer(), nullable=False),
    sa.Column('owner_present', sa.String(length=120), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('engineer_signed_name', sa.String(length=120), nullable=True),
    sa.Column('owner_signed_name', sa.String(length=120), nullable=True),
    sa.Column('engineer_signature', sa.String(length=64), nullable=True),
    sa.Column('owner_signature', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['engineer_id'], ['user.id'], name=op.f('fk_inspection_engineer_id_user')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_inspection_site_id_site')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_inspection_unit_id_unit')),
    sa.ForeignKeyConstraint(['version_id'], ['template_version.id'], name=op.f('fk_inspection_version_id_template_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection'))
    )
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_unit_id'), ['unit_id'], unique=False)

    op.create_table('owner_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_owner_link_created_by_id_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_owner_link_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_owner_link_token_hash'))
    )
    with op.batch_alter_table('owner_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_link_unit_id'), ['unit_id'], unique=False)

    op.create_table('inspection_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('room_key', sa.String(length=24), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=8), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], name=op.f('fk_inspection_answer_inspection_id_inspection')),
    sa.ForeignKeyConstraint(['item_id'], ['checklist_item.id'], name=op.f('fk_inspection_answer_item_id_checklist_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_answer')),
    sa.UniqueConstraint('inspection_id', 'room_key', 'item_id', name=op.f('uq_inspection_answer_inspection_id_room_key_item_id'))
    )
    with op.batch_alter_table('inspection_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_answer_inspection_id'), ['inspection_id'], unique=False)

    op.create_table('defect',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('room_key', sa.String(length=24), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('owner_concern', sa.Boolean(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('work_order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['inspection_answer.id'], name=op.f('fk_defect_answer_id_inspection_answer')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], name=op.f('fk_defect_inspection_id_inspection')),
    sa.ForeignKeyConstraint(['item_id'], ['checklist_item.id'], name=op.f('fk_defect_item_id_checklist_item')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_defect_team_id_team')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_defect_unit_id_unit')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_defect_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_defect')),
    sa.UniqueConstraint('answer_id', name=op.f('uq_defect_answer_id')),
    sa.UniqueConstraint('work_order_id', name=op.f('uq_defect_work_order_id'))
    )
    with op.batch_alter_table('defect', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_defect_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_defect_unit_id'), ['unit_id'], unique=False)

    op.create_table('defect_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reinspection_id', sa.Integer(), nullable=False),
    sa.Column('defect_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['defect_id'], ['defect.id'], name=op.f('fk_defect_check_defect_id_defect')),
    sa.ForeignKeyConstraint(['reinspection_id'], ['inspection.id'], name=op.f('fk_defect_check_reinspection_id_inspection')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_defect_check')),
    sa.UniqueConstraint('reinspection_id', 'defect_id', name=op.f('uq_defect_check_reinspection_id_defect_id'))
    )
    with op.batch_alter_table('defect_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_defect_check_defect_id'), ['defect_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_defect_check_reinspection_id'), ['reinspection_id'], unique=False)

    op.create_table('defect_photo',
    sa.Column('defect_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['defect_id'], ['defect.id'], name=op.f('fk_defect_photo_defect_id_defect')),
    sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], name=op.f('fk_defect_photo_photo_id_photo')),
    sa.PrimaryKeyConstraint('defect_id', 'photo_id', name=op.f('pk_defect_photo'))
    )
    op.create_table('defect_check_photo',
    sa.Column('check_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['defect_check.id'], name=op.f('fk_defect_check_photo_check_id_defect_check')),
    sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], name=op.f('fk_defect_check_photo_photo_id_photo')),
    sa.PrimaryKeyConstraint('check_id', 'photo_id', name=op.f('pk_defect_check_photo'))
    )
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rectification_days', sa.Integer(), nullable=False, server_default='15'))
        batch_op.add_column(sa.Column('owner_link_days', sa.Integer(), nullable=False, server_default='90'))

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_contractor', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_work_order_unit_id'), ['unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_work_order_unit_id_unit'), 'unit', ['unit_id'], ['id'])

    # ### end Alembic commands ###


def downgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_work_order_unit_id_unit'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_work_order_unit_id'))
        batch_op.drop_column('unit_id')

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('is_contractor')

    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('owner_link_days')
        batch_op.drop_column('rectification_days')

    op.drop_table('defect_check_photo')
    op.drop_table('defect_photo')
    with op.batch_alter_table('defect_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_defect_check_reinspection_id'))
        batch_op.drop_index(batch_op.f('ix_defect_check_defect_id'))

    op.drop_table('defect_check')
    with op.batch_alter_table('defect', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_defect_unit_id'))
        batch_op.drop_index(batch_op.f('ix_defect_inspection_id'))

    op.drop_table('defect')
    with op.batch_alter_table('inspection_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_answer_inspection_id'))

    op.drop_table('inspection_answer')
    with op.batch_alter_table('owner_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owner_link_unit_id'))

    op.drop_table('owner_link')
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_unit_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_site_id'))

    op.drop_table('inspection')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_site_id'))

    op.drop_table('unit')
    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_building_site_id'))

    op.drop_table('building')
    # ### end Alembic commands ###
