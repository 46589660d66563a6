"""checklist templates: a shared library and each site's own copies

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:00:00

Every template so far was shared by all sites; they become the library (site_id NULL). A site's copy
keeps the library's code, so the code is unique per site, and once more among the library's own.
Downgrading renames each copy's code to "<code>@<site id>" (codes were unique then); rounds walked
on a copy keep their versions.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

LIBRARY = sa.text("site_id IS NULL")


def upgrade():
    with op.batch_alter_table('checklist_template', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint('uq_checklist_template_code', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_checklist_template_site_id_code'), ['site_id', 'code'])
        batch_op.create_foreign_key(batch_op.f('fk_checklist_template_site_id_site'), 'site', ['site_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_checklist_template_site_id'), ['site_id'], unique=False)
    op.create_index('uq_checklist_template_library_code', 'checklist_template', ['code'], unique=True,
                    sqlite_where=LIBRARY, postgresql_where=LIBRARY)


def downgrade():
    tpl = sa.table("checklist_template", sa.column("site_id", sa.Integer), sa.column("code", sa.String))
    op.execute(tpl.update().where(tpl.c.site_id.is_not(None))
               .values(code=tpl.c.code + "@" + sa.cast(tpl.c.site_id, sa.String)))
    op.drop_index('uq_checklist_template_library_code', table_name='checklist_template')
    with op.batch_alter_table('checklist_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checklist_template_site_id'))
        batch_op.drop_constraint(batch_op.f('fk_checklist_template_site_id_site'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_checklist_template_site_id_code'), type_='unique')
        batch_op.create_unique_constraint('uq_checklist_template_code', ['code'])
        batch_op.drop_column('site_id')
