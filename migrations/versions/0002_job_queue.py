"""procrastinate's job-queue schema (bulk uploads and other background jobs run on it)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The driver treats '%' as a placeholder marker; the schema's own '%' are literal.
    op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


# Only procrastinate's own objects (tables, functions, enum and composite types, all named
# procrastinate_*): a downgrade must never touch users, flights or bookings.
_DROP_JOB_QUEUE = r"""
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE 'procrastinate\_%'
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', r.relname);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS signature
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\_%'
    LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', r.signature);
    END LOOP;
    FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
              WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'c')
                AND t.typname LIKE 'procrastinate\_%'
    LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', r.typname);
    END LOOP;
END $$;
"""


def downgrade() -> None:
    op.get_bind().exec_driver_sql(_DROP_JOB_QUEUE.replace("%", "%%"))
