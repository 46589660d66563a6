"""resident reports: places with a QR code, the routing table, reports and their private links

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 07:45:00

report_place: a place on a site with a public, revocable QR code; report_route: category x place (or every
place) -> team; resident_report: one resident's report, the hash of its follow-up token, the order it
follows (merged reports share one) and the resident's satisfied / not satisfied; report_photo: the photos
a resident sent; rate_hit: counted requests per place code and per address, shared by every app server;
work_order gains who triaged it and when, and the note the reporting residents read.
"""
from alembic import op
import sqlalchemy as sa

from app.models.types import UTCDateTime


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_hit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=100), nullable=False),
    sa.Column('at', UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_hit'))
    )
    with op.batch_alter_table('rate_hit', schema=None) as batch_op:
        batch_op.create_index('ix_rate_hit_bucket_at', ['bucket', 'at'], unique=False)

    op.create_table('report_place',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_report_place_area_id_area')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_report_place_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_place')),
    sa.UniqueConstraint('code', name=op.f('uq_report_place_code'))
    )
    with op.batch_alter_table('report_place', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_place_site_id'), ['site_id'], unique=False)

    op.create_table('report_route',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['place_id'], ['report_place.id'], name=op.f('fk_report_route_place_id_report_place')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_report_route_site_id_site')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_report_route_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_route')),
    sa.UniqueConstraint('site_id', 'category', 'place_id', name=op.f('uq_report_route_site_id_category_place_id'))
    )
    with op.batch_alter_table('report_route', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_route_site_id'), ['site_id'], unique=False)

    op.create_table('resident_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('unit', sa.String(length=60), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.String(length=16), nullable=True),
    sa.Column('answered_at', UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['work_order.id'], name=op.f('fk_resident_report_order_id_work_order')),
    sa.ForeignKeyConstraint(['place_id'], ['report_place.id'], name=op.f('fk_resident_report_place_id_report_place')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_resident_report_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_report')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_resident_report_token_hash'))
    )
    with op.batch_alter_table('resident_report', schema=None) as batch_op:
        batch_op.create_index('ix_resident_report_order', ['order_id'], unique=False)
        batch_op.create_index('ix_resident_report_site_created', ['site_id', 'created_at'], unique=False)

    op.create_table('report_photo',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], name=op.f('fk_report_photo_photo_id_photo')),
    sa.ForeignKeyConstraint(['report_id'], ['resident_report.id'], name=op.f('fk_report_photo_report_id_resident_report')),
    sa.PrimaryKeyConstraint('report_id', 'photo_id', name=op.f('pk_report_photo'))
    )
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('triaged_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('triaged_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('public_note', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_work_order_triaged_by_id_user'), 'user', ['triaged_by_id'], ['id'])



def downgrade():
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_work_order_triaged_by_id_user'), type_='foreignkey')
        batch_op.drop_column('public_note')
        batch_op.drop_column('triaged_at')
        batch_op.drop_column('triaged_by_id')

    op.drop_table('report_photo')
    with op.batch_alter_table('resident_report', schema=None) as batch_op:
        batch_op.drop_index('ix_resident_report_site_created')
        batch_op.drop_index('ix_resident_report_order')

    op.drop_table('resident_report')
    with op.batch_alter_table('report_route', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_route_site_id'))

    op.drop_table('report_route')
    with op.batch_alter_table('report_place', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_place_site_id'))

    op.drop_table('report_place')
    with op.batch_alter_table('rate_hit', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_hit_bucket_at')

    op.drop_table('rate_hit')
