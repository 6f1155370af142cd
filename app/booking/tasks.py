"""Worker loop: fail abandoned PENDING bookings, expire overdue holds (and warn of them), reconcile
leaked seat counters, purge old Idempotency-Keys; and the job that expires a hold at its deadline."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import TYPE_CHECKING

import procrastinate
import structlog
from procrastinate.job_context import JobContext

from app.booking import orders
from app.booking.recovery import Suspects, audit_counters, fail_abandoned, purge_idempotency_keys

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

PURGE_EVERY_SECONDS = 3600.0


async def reaper_loop(context: AppContext, stop: asyncio.Event) -> None:
    timeout = context.settings.pending_timeout_seconds
    tick = min(max(timeout / 4, 0.05), 30.0)
    # Two audit passes with the same figures confirm a leak; so leaks heal within 2 * timeout.
    audit_every = timeout
    next_audit = time.monotonic() + audit_every
    next_purge = time.monotonic()
    suspects: Suspects = {}
    while not stop.is_set():
        try:
            while await fail_abandoned(context):
                pass
            while await orders.sweep(context) >= orders.SWEEP_BATCH:
                pass
            if time.monotonic() >= next_audit:
                next_audit = time.monotonic() + audit_every
                suspects = await audit_counters(context, suspects)
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + PURGE_EVERY_SECONDS
                await purge_idempotency_keys(context)
        except Exception:
            log.exception("reaper_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=tick)


async def expire_hold(job_context: JobContext, order_id: str) -> None:
    """At the hold's deadline (the job's schedule_at): expire it if still unpaid. A job lost with
    its worker is resumed by another; one never run is covered by the reaper's sweep."""
    context: AppContext = job_context.additional_context["app_context"]
    await orders.expire(context, uuid.UUID(order_id))


def register(app: procrastinate.App) -> None:
    app.task(name=orders.EXPIRE_HOLD_TASK, pass_context=True)(expire_hold)
