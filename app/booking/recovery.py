"""Recovery after crashes, run by the reaper worker loop.

- PENDING bookings older than PENDING_TIMEOUT_SECONDS belong to a process that died (or to a payment
  that never answered): they are FAILED and their seats given back.
- Seats taken in Redis by a process that died before writing its PENDING row are leaked (the safe
  direction: fewer seats on sale, never more). The audit finds counters that disagree with
  PostgreSQL in two consecutive passes with the same figures (so not a booking in progress) and
  reconciles them.
- Idempotency keys older than KEY_RETENTION are purged.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import delete, select, text

from app.booking import ledger
from app.booking.idempotency import KEY_RETENTION
from app.booking.replies import seats_changed
from app.booking.reservation import strategy_for
from app.models import Booking, BookingStatus, IdempotencyKey

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

REAP_BATCH = 500
AUDIT_BATCH = 2000

# flight id -> (Redis counter, PostgreSQL's available seats) seen by the previous audit pass.
Suspects = dict[uuid.UUID, tuple[int, int]]


async def fail_abandoned(context: AppContext, *, older_than: timedelta | None = None) -> int:
    """FAIL PENDING bookings created more than ``older_than`` ago; returns how many were failed."""
    age = (
        older_than if older_than is not None else timedelta(seconds=context.settings.pending_timeout_seconds)
    )
    cutoff = datetime.now(UTC) - age
    async with context.session_factory() as session:
        rows = (
            await session.execute(
                select(Booking.id, Booking.group_id)
                .where(
                    Booking.status == BookingStatus.PENDING.value,
                    Booking.created_at < cutoff,
                    # An order's rows are failed with their order (orders.fail_stuck), never alone.
                    Booking.order_id.is_(None),
                )
                .limit(REAP_BATCH)
            )
        ).all()
    if not rows:
        return 0
    # The legs of one itinerary fail together; every other booking on its own.
    batches: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for booking_id, group_id in rows:
        batches[group_id or booking_id].append(booking_id)
    strategy = strategy_for(context)
    failed = 0
    for booking_ids in batches.values():
        settled = await ledger.settle(
            context,
            strategy,
            booking_ids,
            expected=BookingStatus.PENDING.value,
            status=BookingStatus.FAILED.value,
            frees_seats=True,
        )
        if settled:
            failed += len(settled)
            await seats_changed(context, sorted({row.flight_id for row in settled}))
    log.warning("abandoned_bookings_failed", count=failed)
    return failed


async def audit_counters(context: AppContext, suspects: Suspects) -> Suspects:
    """Compare every upcoming flight's counter with PostgreSQL; reconcile the ones that stayed wrong.

    Returns this pass's disagreements, to pass to the next call.
    """
    disagreeing: Suspects = {}
    after = uuid.UUID(int=0)
    while True:
        async with context.session_factory() as session:
            ids = list(
                (
                    await session.scalars(
                        text(
                            "SELECT id FROM flights WHERE departure_ts > now() AND id > :after "
                            "ORDER BY id LIMIT :limit"
                        ),
                        {"after": after, "limit": AUDIT_BATCH},
                    )
                ).all()
            )
            if not ids:
                break
            # Redis read after PostgreSQL: a booking between the two shows as a difference that the
            # next pass will not repeat with the same figures.
            expected = await context.inventory.expected_counts(session, ids)
        pipe = context.redis.pipeline(transaction=False)
        for flight_id in ids:
            pipe.get(context.keys.seats(flight_id))
        for flight_id, value in zip(ids, await pipe.execute(), strict=True):
            if value is not None and flight_id in expected and int(value) != expected[flight_id]:
                disagreeing[flight_id] = (int(value), expected[flight_id])
        after = ids[-1]
    stuck = [fid for fid, figures in disagreeing.items() if suspects.get(fid) == figures]
    if stuck:
        log.warning("seat_counters_reconciled", flights=[str(f) for f in stuck])
        await context.inventory.reconcile(stuck)
        await seats_changed(context, stuck)
    return {fid: figures for fid, figures in disagreeing.items() if fid not in stuck}


async def purge_idempotency_keys(context: AppContext, *, older_than: timedelta = KEY_RETENTION) -> int:
    async with context.session_factory() as session, session.begin():
        result = await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < datetime.now(UTC) - older_than)
        )
    return int(getattr(result, "rowcount", 0) or 0)
