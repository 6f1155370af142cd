"""Worker loop: fail abandoned PENDING bookings, reconcile leaked seat counters, purge old
Idempotency-Keys."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import structlog

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
