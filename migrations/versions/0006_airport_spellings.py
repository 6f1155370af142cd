"""airports: one spelling per place in flights and airports (case, spacing, code or name)

Every spelling stored in ``flights.source`` / ``flights.destination`` and ``airports.name`` is
rewritten to its canonical spelling (app/airports/catalog.py): a known airport's (``del``, ``DEL``
and ``New Delhi`` become ``Delhi``; ``jfk`` becomes ``JFK``); for other names, of the variants that
differ only in case or spacing, the one most flights use (ties: the first in code-point order).
A flight whose two ends would become the same spelling keeps its own (logged). Of two airports
rows merging into one, the most recently updated timezone is kept. Downgrade renames nothing back:
the merged spellings are the same places.

Revision ID: 0006_airport_spellings
Revises: 0005_username_ci (to be re-chained by the lead)
"""

import logging
from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.airports.catalog import canonical, fold, tidy

revision: str = "0006_airport_spellings"
down_revision: str | None = "0005_username_ci"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def spelling_map(counts: Counter[str]) -> dict[str, str]:
    """Each spelling to its canonical one (only those that change)."""
    groups: dict[str, list[str]] = {}
    for name in counts:
        groups.setdefault(fold(name), []).append(name)
    result: dict[str, str] = {}
    for names in groups.values():
        chosen = min(names, key=lambda n: (-counts[n], n))
        for name in names:
            target = canonical(name) or tidy(chosen)
            if target != name:
                result[name] = target
    return result


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("LOCK TABLE flights, airports IN SHARE ROW EXCLUSIVE MODE"))
    counts: Counter[str] = Counter()
    for name, n in bind.execute(
        sa.text(
            "SELECT name, count(*) FROM (SELECT source AS name FROM flights "
            "UNION ALL SELECT destination FROM flights) s GROUP BY name"
        )
    ):
        counts[name] += n
    for (name,) in bind.execute(sa.text("SELECT name FROM airports")):
        counts[name] += 0
    renames = spelling_map(counts)
    for old, new in sorted(renames.items()):
        kept = bind.execute(
            sa.text(
                "SELECT count(*) FROM flights WHERE (source = :old AND destination = :new) "
                "OR (destination = :old AND source = :new)"
            ),
            {"old": old, "new": new},
        ).scalar_one()
        if kept:
            log.warning("%d flights between %r and %r keep %r: both ends are one place", kept, old, new, old)
        bind.execute(
            sa.text("UPDATE flights SET source = :new WHERE source = :old AND destination <> :new"),
            {"old": old, "new": new},
        )
        bind.execute(
            sa.text("UPDATE flights SET destination = :new WHERE destination = :old AND source <> :new"),
            {"old": old, "new": new},
        )
        # The most recently set timezone of the merged rows survives.
        bind.execute(
            sa.text(
                "INSERT INTO airports (name, timezone, updated_at) "
                "SELECT :new, timezone, updated_at FROM airports WHERE name = :old "
                "ON CONFLICT (name) DO UPDATE "
                "SET timezone = EXCLUDED.timezone, updated_at = EXCLUDED.updated_at "
                "WHERE airports.updated_at < EXCLUDED.updated_at"
            ),
            {"old": old, "new": new},
        )
        bind.execute(sa.text("DELETE FROM airports WHERE name = :old"), {"old": old})
        log.info("airport spelling %r merged into %r", old, new)


def downgrade() -> None:
    """Nothing to undo: the merged spellings name the same places."""
