"""task queue: procrastinate's tables on PostgreSQL

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 08:00:00

Webhook deliveries and the escalation sweep run as procrastinate jobs when ROUNDS_TASKS=procrastinate
(app/tasks.py). Its schema is procrastinate 3.10.0's own, vendored beside this file so the migration
builds the same tables whatever is installed; a later procrastinate upgrade brings its SQL migrations
as a migration of ours. SQLite (the embedded default) runs tasks in-process and needs no tables.
"""
from pathlib import Path

from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

SCHEMA = Path(__file__).with_name("0014_procrastinate_3_10_0.sql")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # On the driver's cursor without parameters: the schema's '%' are SQL, not placeholders.
        with bind.connection.driver_connection.cursor() as cursor:
            cursor.execute(SCHEMA.read_text(encoding="utf-8"))


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    with bind.connection.driver_connection.cursor() as cursor:
        cursor.execute("""
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
                             procrastinate_workers CASCADE;
        DO $$
        DECLARE f record;
        BEGIN
            FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE 'DROP FUNCTION IF EXISTS ' || f.sig || ' CASCADE';
            END LOOP;
        END $$;
        DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_status,
                            procrastinate_job_event_type CASCADE;
        """)
