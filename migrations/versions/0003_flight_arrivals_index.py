"""flights by (destination, arrival_ts): the search update finds the flights connecting into a
changed flight with one index range scan

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_flights_destination_arrival", "flights", ["destination", "arrival_ts"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_flights_destination_arrival", table_name="flights")
