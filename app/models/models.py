"""The seed's three tables (users, flights, bookings) plus airports, idempotency keys, bulk jobs,
orders (with their passengers) and the notification outbox.

Column names and meanings of the seed's tables are kept: operators query them directly.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models import flight_times
from app.models.base import Base


class BookingStatus(enum.StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    # A flight of an order on hold: its seats are taken until the order is paid or expires.
    HELD = "HELD"
    EXPIRED = "EXPIRED"


# Statuses whose seats are held: they count against total_seats.
SEAT_HOLDING_STATUSES = (
    BookingStatus.PENDING.value,
    BookingStatus.CONFIRMED.value,
    BookingStatus.HELD.value,
)


class FlightStatus(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    # Cancelled by the airline: kept as a record, neither searchable nor bookable.
    CANCELLED = "CANCELLED"


class OrderStatus(enum.StrEnum):
    HELD = "HELD"
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class PassengerType(enum.StrEnum):
    ADULT = "adult"
    CHILD = "child"
    INFANT = "infant"


class NotificationKind(enum.StrEnum):
    ORDER_CONFIRMED = "order_confirmed"
    HOLD_EXPIRING = "hold_expiring"
    HOLD_EXPIRED = "hold_expired"
    ORDER_CANCELLED = "order_cancelled"
    FLIGHT_CANCELLED = "flight_cancelled"
    SCHEDULE_CHANGED = "schedule_changed"


class EmailState(enum.StrEnum):
    # No address or no SMTP_URL when written: shown in the app only.
    NONE = "none"
    PENDING = "pending"
    SENT = "sent"
    # Given up after the sender's retries (the notification stays in the app).
    FAILED = "failed"


class JobStatus(enum.StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class User(Base):
    __tablename__ = "users"
    # One account per username whatever its case (`Bob` is `bob`), decided by the database.
    __table_args__ = (Index("uq_users_username_lower", func.lower(text("username")), unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    hashed_password: Mapped[str] = mapped_column(Text, nullable=False)
    is_admin: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Airport(Base):
    """An airport whose timezone is known; any other airport uses DEFAULT_TIMEZONE."""

    __tablename__ = "airports"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    timezone: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Flight(Base):
    __tablename__ = "flights"
    __table_args__ = (
        UniqueConstraint("flight_number", "departure_ts", name="uq_flights_number_departure"),
        CheckConstraint("total_seats >= 1", name="total_seats_positive"),
        CheckConstraint("available_seats >= 0", name="available_seats_nonnegative"),
        CheckConstraint("available_seats <= total_seats", name="available_within_total"),
        CheckConstraint("price >= 0", name="price_nonnegative"),
        CheckConstraint("arrival_ts > departure_ts", name="arrival_after_departure"),
        CheckConstraint("source <> destination", name="distinct_endpoints"),
        CheckConstraint("status IN ('SCHEDULED', 'CANCELLED')", name="status_known"),
        CheckConstraint(flight_times.TIMES_SQL, name="times_in_range"),
        CheckConstraint(flight_times.DURATION_SQL, name="duration_within_limit"),
        Index("ix_flights_source_departure", "source", "departure_ts"),
        Index("ix_flights_destination", "destination"),
        Index("ix_flights_departure", "departure_ts"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    flight_number: Mapped[str] = mapped_column(Text, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    destination: Mapped[str] = mapped_column(Text, nullable=False)
    departure_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    arrival_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    total_seats: Mapped[int] = mapped_column(Integer, nullable=False)
    # Written back from Redis by the seat-sync worker; the live figure is the Redis counter.
    available_seats: Mapped[int] = mapped_column(Integer, nullable=False)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    status: Mapped[str] = mapped_column(
        Text, default=FlightStatus.SCHEDULED.value, server_default=text("'SCHEDULED'"), nullable=False
    )
    version: Mapped[int] = mapped_column(BigInteger, default=1, server_default=text("1"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("seats BETWEEN 1 AND 9", name="seats_range"),
        CheckConstraint(
            "status IN ('PENDING', 'CONFIRMED', 'CANCELLED', 'FAILED', 'HELD', 'EXPIRED')",
            name="status_known",
        ),
        Index("ix_bookings_user_created", "user_id", "created_at"),
        Index("ix_bookings_order", "order_id"),
        Index("ix_bookings_flight_status", "flight_id", "status"),
        Index("ix_bookings_group", "group_id"),
        Index("ix_bookings_pending_created", "created_at", postgresql_where=text("status = 'PENDING'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"), nullable=False)
    flight_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("flights.id"), nullable=False)
    seats: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    payment_ref: Mapped[str | None] = mapped_column(Text)
    # Legs of one connecting itinerary share a group id; null for a single-flight booking.
    group_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Price per seat when booked, so a later fare change does not rewrite what was paid.
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    # The order this row is one flight of (null for a /booking booking); its place in the order:
    # slice (0 = outbound) and leg within the slice, both in travel order.
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("orders.id"))
    slice_index: Mapped[int | None] = mapped_column(SmallInteger)
    leg_index: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    flight: Mapped[Flight] = relationship(lazy="raise")


REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class Order(Base):
    """A trip for named passengers: one reference, one payment, one bookings row per flight."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "status IN ('HELD', 'PENDING', 'CONFIRMED', 'FAILED', 'CANCELLED', 'EXPIRED')",
            name="status_known",
        ),
        CheckConstraint("reference ~ '^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$'", name="reference_shape"),
        CheckConstraint("total_price >= 0", name="total_price_nonnegative"),
        Index("ix_orders_user_created", "user_id", "created_at"),
        Index("ix_orders_held_deadline", "payment_required_by", postgresql_where=text("status = 'HELD'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"), nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    total_price: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    contact_email: Mapped[str] = mapped_column(Text, nullable=False)
    payment_ref: Mapped[str | None] = mapped_column(Text)
    # Set while HELD: at this moment an unpaid hold expires and its seats return.
    payment_required_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The first flight's departure when booked: the refund rule and "upcoming or past" read it.
    first_departure_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    refund_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    # A schedule change broke a connection: the traveller may cancel for a full refund.
    needs_attention: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false"), nullable=False
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who cancelled: 'traveller' or 'airline' (null unless cancelled).
    cancelled_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class OrderPassenger(Base):
    __tablename__ = "order_passengers"
    __table_args__ = (CheckConstraint("type IN ('adult', 'child', 'infant')", name="type_known"),)

    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("orders.id"), primary_key=True)
    # The passenger's place in the order's list, from 0.
    seq: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    given_name: Mapped[str] = mapped_column(Text, nullable=False)
    family_name: Mapped[str] = mapped_column(Text, nullable=False)
    born_on: Mapped[date] = mapped_column(Date, nullable=False)
    type: Mapped[str] = mapped_column(Text, nullable=False)


class Notification(Base):
    """The outbox: written in the transaction of the change it tells of, shown in the app, e-mailed."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('order_confirmed', 'hold_expiring', 'hold_expired', 'order_cancelled',"
            " 'flight_cancelled', 'schedule_changed')",
            name="kind_known",
        ),
        CheckConstraint("email_state IN ('none', 'pending', 'sent', 'failed')", name="email_state_known"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index(
            "ix_notifications_email_due",
            "email_next_attempt_at",
            postgresql_where=text("email_state = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"), nullable=False)
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    email_to: Mapped[str | None] = mapped_column(Text)
    email_state: Mapped[str] = mapped_column(
        Text, default=EmailState.NONE.value, server_default=text("'none'"), nullable=False
    )
    email_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"), nullable=False)
    email_next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    email_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IdempotencyKey(Base):
    """The first answer to a user's request carrying an Idempotency-Key, replayed on repeats."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    request_hash: Mapped[str] = mapped_column(Text, nullable=False)
    response_status: Mapped[int | None] = mapped_column(SmallInteger)
    response_body: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class BulkJob(Base):
    __tablename__ = "bulk_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'IN_PROGRESS', 'COMPLETED', 'FAILED')", name="status_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(Text, nullable=False, default=JobStatus.PENDING.value)
    filename: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    total_rows: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"), nullable=False)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"), nullable=False)
    inserted: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"), nullable=False)
    updated: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"), nullable=False)
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"), nullable=False)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb"), nullable=False
    )
    message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class BulkJobChunk(Base):
    """The uploaded file, stored in PostgreSQL in chunks so any worker on any host can read it."""

    __tablename__ = "bulk_job_chunks"

    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("bulk_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(nullable=False)
