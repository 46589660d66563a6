"""work orders: crew workflow, photos, notifications, webhooks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:01:15.648056

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: server defaults let the new NOT NULL columns fill existing rows.
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['work_order.id'], name=op.f('fk_notification_order_id_work_order')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('user_id', 'order_id', 'kind', name=op.f('uq_notification_user_id_order_id_kind'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_read', ['user_id', 'read_at'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['work_order.id'], name=op.f('fk_webhook_delivery_order_id_work_order')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_webhook_delivery_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_pending', ['status', 'next_attempt_at'], unique=False)

    op.create_table('work_order_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['work_order_event.id'], name=op.f('fk_work_order_photo_event_id_work_order_event')),
    sa.ForeignKeyConstraint(['order_id'], ['work_order.id'], name=op.f('fk_work_order_photo_order_id_work_order')),
    sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], name=op.f('fk_work_order_photo_photo_id_photo')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_photo')),
    sa.UniqueConstraint('event_id', 'photo_id', name=op.f('uq_work_order_photo_event_id_photo_id'))
    )
    with op.batch_alter_table('work_order_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_photo_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_url', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('webhook_format', sa.String(length=16), nullable=False, server_default='generic'))

    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reopen_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('owner_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('owner_unit', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('owner_phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('callback', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('overdue_escalated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('unverified_escalated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_work_order_team_status_due', ['team_id', 'status', 'due_at'], unique=False)

    with op.batch_alter_table('work_order_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sa.Text(), nullable=False, server_default=''))

    # ### end Alembic commands ###


def downgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('work_order_event', schema=None) as batch_op:
        batch_op.drop_column('detail')

    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_index('ix_work_order_team_status_due')
        batch_op.drop_column('unverified_escalated_at')
        batch_op.drop_column('overdue_escalated_at')
        batch_op.drop_column('callback')
        batch_op.drop_column('owner_phone')
        batch_op.drop_column('owner_unit')
        batch_op.drop_column('owner_name')
        batch_op.drop_column('reopen_count')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('description')

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('webhook_format')
        batch_op.drop_column('webhook_url')

    with op.batch_alter_table('work_order_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_order_photo_order_id'))

    op.drop_table('work_order_photo')
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_delivery_pending')

    op.drop_table('webhook_delivery')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_read')

    op.drop_table('notification')
    # ### end Alembic commands ###
