"""flights: departure_ts and arrival_ts within 2000-01-01 .. 2100-01-01 UTC, at most 48 h apart
(the contract's input limits, app/models/flight_times.py), refused by the database too

Rows already outside the limits are not lost and do not stop the upgrade:
- a flight without bookings is moved to the table ``flights_out_of_range`` (the whole row, plus
  ``moved_at``), where an operator can look at it and re-enter it with corrected times;
- a flight with bookings stays (moving it would orphan bookings a traveller has seen), exempted by
  id in the constraints, and a warning names it. Left NOT VALID instead, the constraints would
  refuse every update of such a row, the seat write-back's included (seat_sync.py writes 1000
  flights per statement: one such row would stop them all). An operator corrects its times
  (PUT /admin/flights/{id}); the search leaves it out meanwhile, as any row outside the limits.
The constraints are added NOT VALID, then validated in a transaction of their own, whose lock lets
reads and writes through while it scans the table.

The limits are written out here, not imported: a migration keeps what it did when later code
changes; tests/test_input_times.py checks that the database and the application agree.

Downgrade drops the constraints only: ``flights_out_of_range`` and its rows stay.

Revision ID: 0004_flight_time_range
Revises: 0003
"""

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0004_flight_time_range"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

_RANGE = "BETWEEN TIMESTAMPTZ '2000-01-01T00:00:00+00:00' AND TIMESTAMPTZ '2100-01-01T00:00:00+00:00'"
CONSTRAINTS = {
    "ck_flights_times_in_range": f"departure_ts {_RANGE} AND arrival_ts {_RANGE}",
    "ck_flights_duration_within_limit": "arrival_ts <= departure_ts + INTERVAL '172800 seconds'",
}
# Written so that it is true or false, never an error, for every stored value (±infinity too).
_OUTSIDE = " OR ".join(f"NOT ({condition})" for condition in CONSTRAINTS.values())
# Columns named, not ``moved.*``: after a downgrade that kept later columns of flights (0007's
# status) the two tables' column orders differ, and this migration runs again on the way up.
_MOVE_ASIDE = """
WITH moved AS (
    DELETE FROM flights AS f
     WHERE ({outside}) AND NOT EXISTS (SELECT 1 FROM bookings AS b WHERE b.flight_id = f.id)
    RETURNING f.*
)
INSERT INTO flights_out_of_range ({columns}, moved_at) SELECT {columns}, now() FROM moved RETURNING id
"""
_SHARED_COLUMNS = """
SELECT column_name FROM information_schema.columns
 WHERE table_schema = current_schema() AND table_name = 'flights_out_of_range' AND column_name <> 'moved_at'
   AND column_name IN (SELECT column_name FROM information_schema.columns
                        WHERE table_schema = current_schema() AND table_name = 'flights')
 ORDER BY ordinal_position
"""


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS flights_out_of_range"
        " (LIKE flights INCLUDING DEFAULTS, moved_at timestamptz NOT NULL DEFAULT now())"
    )
    columns = ", ".join(f'"{name}"' for name in op.get_bind().execute(text(_SHARED_COLUMNS)).scalars())
    moved = op.get_bind().execute(text(_MOVE_ASIDE.format(outside=_OUTSIDE, columns=columns))).all()
    if moved:
        log.warning(
            "moved %d flights with times outside 2000-01-01 .. 2100-01-01 UTC or longer than 48 h"
            " (and no bookings) to the table flights_out_of_range",
            len(moved),
        )
    kept = op.get_bind().execute(text(f"SELECT id FROM flights WHERE {_OUTSIDE}")).scalars().all()  # noqa: S608
    exempt = f" OR id = ANY('{{{','.join(str(i) for i in kept)}}}'::uuid[])" if kept else ""
    for name, condition in CONSTRAINTS.items():
        op.execute(f"ALTER TABLE flights ADD CONSTRAINT {name} CHECK (({condition}){exempt}) NOT VALID")
    if kept:
        log.warning(
            "%d flights with bookings have times outside the limits: kept, exempted by id from the"
            " constraints %s; correct their times (PUT /admin/flights/{id}): %s",
            len(kept),
            " and ".join(CONSTRAINTS),
            ", ".join(str(i) for i in kept),
        )
    with op.get_context().autocommit_block():
        for name in CONSTRAINTS:
            op.execute(f"ALTER TABLE flights VALIDATE CONSTRAINT {name}")


def downgrade() -> None:
    for name in CONSTRAINTS:
        op.execute(f"ALTER TABLE flights DROP CONSTRAINT IF EXISTS {name}")
