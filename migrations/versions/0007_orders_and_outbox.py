"""orders with named passengers, flight status, the notification outbox

- ``orders``: a trip for named passengers with one reference and one payment; each of its flights
  is one row of the seed's ``bookings`` (``bookings.order_id``, ``slice_index``, ``leg_index``).
- ``order_passengers``: the order's passengers in the order given.
- ``bookings.status`` also takes ``HELD`` (seats taken, payment not yet made) and ``EXPIRED``.
- ``flights.status``: ``SCHEDULED`` or ``CANCELLED`` (by the airline; the row stays as a record).
- ``notifications``: the outbox, written in the transaction of the change it tells of.

Downgrade keeps every table, column and row (a downgrade never destroys data) and only restores
the old list of booking statuses, for rows that still fit it (NOT VALID: HELD / EXPIRED rows stay).
So the upgrade skips what a downgrade left in place.

Revision ID: 0007_orders_and_outbox
Revises: 0006_airport_spellings
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_orders_and_outbox"
down_revision: str | None = "0006_airport_spellings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_UUID = postgresql.UUID(as_uuid=True)


def _has_table(name: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(name)


def _has_column(table: str, column: str) -> bool:
    return any(c["name"] == column for c in sa.inspect(op.get_bind()).get_columns(table))


def upgrade() -> None:
    if not _has_table("orders"):
        _create_orders()
    if not _has_column("bookings", "order_id"):
        _link_bookings()
    op.execute("ALTER TABLE bookings DROP CONSTRAINT IF EXISTS ck_bookings_status_known")
    op.execute(
        "ALTER TABLE bookings ADD CONSTRAINT ck_bookings_status_known CHECK"
        " (status IN ('PENDING', 'CONFIRMED', 'CANCELLED', 'FAILED', 'HELD', 'EXPIRED'))"
    )
    if not _has_column("flights", "status"):
        op.add_column(
            "flights", sa.Column("status", sa.Text(), server_default=sa.text("'SCHEDULED'"), nullable=False)
        )
        op.execute(
            "ALTER TABLE flights ADD CONSTRAINT ck_flights_status_known"
            " CHECK (status IN ('SCHEDULED', 'CANCELLED'))"
        )
    if not _has_table("notifications"):
        _create_notifications()


def _create_orders() -> None:
    op.create_table(
        "orders",
        sa.Column("id", _UUID, primary_key=True),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column(
            "user_id", _UUID, sa.ForeignKey("users.id", name="fk_orders_user_id_users"), nullable=False
        ),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("total_price", sa.Numeric(10, 2), nullable=False),
        sa.Column("contact_email", sa.Text(), nullable=False),
        sa.Column("payment_ref", sa.Text()),
        sa.Column("payment_required_by", _TS),
        sa.Column("first_departure_ts", _TS, nullable=False),
        sa.Column("refund_amount", sa.Numeric(10, 2)),
        sa.Column("needs_attention", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("cancelled_at", _TS),
        sa.Column("cancelled_by", sa.Text()),
        sa.Column("created_at", _TS, server_default=sa.func.now()),
        sa.Column("updated_at", _TS, server_default=sa.func.now()),
        sa.CheckConstraint(
            "status IN ('HELD', 'PENDING', 'CONFIRMED', 'FAILED', 'CANCELLED', 'EXPIRED')",
            name="ck_orders_status_known",
        ),
        sa.CheckConstraint(
            "reference ~ '^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$'", name="ck_orders_reference_shape"
        ),
        sa.CheckConstraint("total_price >= 0", name="ck_orders_total_price_nonnegative"),
        sa.UniqueConstraint("reference", name="uq_orders_reference"),
    )
    op.create_index("ix_orders_user_created", "orders", ["user_id", "created_at"])
    op.create_index(
        "ix_orders_held_deadline",
        "orders",
        ["payment_required_by"],
        postgresql_where=sa.text("status = 'HELD'"),
    )
    op.create_table(
        "order_passengers",
        sa.Column(
            "order_id",
            _UUID,
            sa.ForeignKey("orders.id", name="fk_order_passengers_order_id_orders"),
            primary_key=True,
        ),
        sa.Column("seq", sa.SmallInteger(), primary_key=True),
        sa.Column("given_name", sa.Text(), nullable=False),
        sa.Column("family_name", sa.Text(), nullable=False),
        sa.Column("born_on", sa.Date(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.CheckConstraint("type IN ('adult', 'child', 'infant')", name="ck_order_passengers_type_known"),
    )


def _link_bookings() -> None:
    op.add_column(
        "bookings",
        sa.Column("order_id", _UUID, sa.ForeignKey("orders.id", name="fk_bookings_order_id_orders")),
    )
    op.add_column("bookings", sa.Column("slice_index", sa.SmallInteger()))
    op.add_column("bookings", sa.Column("leg_index", sa.SmallInteger()))
    op.create_index("ix_bookings_order", "bookings", ["order_id"])


def _create_notifications() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", _UUID, primary_key=True),
        sa.Column(
            "user_id", _UUID, sa.ForeignKey("users.id", name="fk_notifications_user_id_users"), nullable=False
        ),
        sa.Column("order_id", _UUID, sa.ForeignKey("orders.id", name="fk_notifications_order_id_orders")),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("email_to", sa.Text()),
        sa.Column("email_state", sa.Text(), server_default=sa.text("'none'"), nullable=False),
        sa.Column("email_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("email_next_attempt_at", _TS),
        sa.Column("email_sent_at", _TS),
        sa.Column("read_at", _TS),
        sa.Column("created_at", _TS, server_default=sa.func.now()),
        sa.CheckConstraint(
            "kind IN ('order_confirmed', 'hold_expiring', 'hold_expired', 'order_cancelled',"
            " 'flight_cancelled', 'schedule_changed')",
            name="ck_notifications_kind_known",
        ),
        sa.CheckConstraint(
            "email_state IN ('none', 'pending', 'sent', 'failed')", name="ck_notifications_email_state_known"
        ),
    )
    op.create_index("ix_notifications_user_created", "notifications", ["user_id", "created_at"])
    op.create_index(
        "ix_notifications_email_due",
        "notifications",
        ["email_next_attempt_at"],
        postgresql_where=sa.text("email_state = 'pending'"),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE bookings DROP CONSTRAINT IF EXISTS ck_bookings_status_known")
    op.execute(
        "ALTER TABLE bookings ADD CONSTRAINT ck_bookings_status_known CHECK"
        " (status IN ('PENDING', 'CONFIRMED', 'CANCELLED', 'FAILED')) NOT VALID"
    )
