"""The e-mail sender's worker loop (started by app/workers/main.py when SMTP_URL is set).

Woken by the outbox's NOTIFY at the commit of each change that writes a pending notification, and
by a sweep every ``SWEEP_SECONDS`` (retries that came due, claims of a killed sender, a missed
NOTIFY while the listening connection was down). Any number of senders run side by side: claims
use FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import structlog

from app.notifications.mail import BATCH, MailSender
from app.notifications.outbox import CHANNEL
from app.platform.db import raw_connection

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

SWEEP_SECONDS = 1.0
RECONNECT_SECONDS = 1.0


async def mail_loop(context: AppContext, stop: asyncio.Event) -> None:
    if not context.settings.smtp_url:
        return  # notifications stay in the app (email_state 'none')
    sender = MailSender(context)
    try:
        while not stop.is_set():
            try:
                await _listen_and_send(context, sender, stop)
            except Exception as exc:
                log.warning("notification_sender_error", error=repr(exc))
                await sender.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RECONNECT_SECONDS)
    finally:
        await sender.close()


async def _listen_and_send(context: AppContext, sender: MailSender, stop: asyncio.Event) -> None:
    wake = asyncio.Event()

    def notified(*_: object) -> None:
        wake.set()

    async with raw_connection(context.engine) as listener:
        await listener.add_listener(CHANNEL, notified)
        try:
            while not stop.is_set():
                wake.clear()
                claimed = await sender.run_once()
                if claimed >= BATCH:
                    continue
                if claimed == 0 and sender.connected:
                    # Idle: no connection kept open across the sweep (the server may close it).
                    await sender.close()
                stopping = asyncio.ensure_future(stop.wait())
                woken = asyncio.ensure_future(wake.wait())
                try:
                    await asyncio.wait(
                        {stopping, woken}, timeout=SWEEP_SECONDS, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    stopping.cancel()
                    woken.cancel()
        finally:
            if not listener.is_closed():
                await listener.remove_listener(CHANNEL, notified)
