"""usernames are unique whatever their case: a unique index on lower(username)

Accounts that already differ only in case (`Racer3`, `racer3`, `RACER3`) are all kept: the oldest
(created_at, then id) keeps its name, each later one is renamed `<name>-2`, `<name>-3`, ... (cut so
the result stays within 32 characters, skipping names already taken) and the rename is logged, so
an operator can tell those users. Bookings follow the account (they reference users.id).
Downgrade drops the index and renames nothing back.

Revision ID: 0005_username_ci
Revises: 0003
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_username_ci"
down_revision: str | None = "0004_flight_time_range"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
MAX_USERNAME = 32


def upgrade() -> None:
    bind = op.get_bind()
    # No account may be created or renamed between the renames and the index.
    bind.execute(sa.text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
    # PostgreSQL's lower(), not Python's: the index is built with it (they differ outside ASCII).
    rows = bind.execute(
        sa.text("SELECT id, username, lower(username) FROM users ORDER BY created_at, id")
    ).all()
    taken = {folded for _, _, folded in rows}
    seen: set[str] = set()
    for user_id, username, folded in rows:
        if folded not in seen:
            seen.add(folded)
            continue
        new_name, new_folded = free_name(bind, username, taken)
        taken.add(new_folded)
        seen.add(new_folded)
        bind.execute(
            sa.text("UPDATE users SET username = :new WHERE id = :id"), {"new": new_name, "id": user_id}
        )
        log.warning(
            "username %r (user %s) differed from an older account's only in case: renamed %r",
            username,
            user_id,
            new_name,
        )
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)


def free_name(bind: sa.Connection, username: str, taken: set[str]) -> tuple[str, str]:
    """`username-N` for the smallest N >= 2 whose lower case is free, cut to MAX_USERNAME characters;
    with its lower case."""
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = username[: MAX_USERNAME - len(suffix)] + suffix
        folded = bind.execute(sa.text("SELECT lower(:name)"), {"name": candidate}).scalar_one()
        if folded not in taken:
            return candidate, folded
        n += 1


def downgrade() -> None:
    op.drop_index("uq_users_username_lower", table_name="users")
