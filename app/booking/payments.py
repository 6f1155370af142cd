"""The payment gateway interface and the mock FlightDesk ships with (the seed's random payment).

A gateway charges an amount under an idempotency key (the booking id, or the group id of an
itinerary): asking again with the same key returns the first result and never charges twice.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from app.platform.config import Settings

_REMEMBERED_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class PaymentResult:
    succeeded: bool
    reference: str


class PaymentGateway(Protocol):
    async def charge(self, amount: Decimal, *, idempotency_key: str) -> PaymentResult: ...


class MockPaymentGateway:
    """Succeeds with probability ``success_rate`` after ``latency_ms``, like a slow card processor."""

    def __init__(self, success_rate: float, latency_ms: int, rng: random.Random | None = None) -> None:
        self.success_rate = success_rate
        self.latency_ms = latency_ms
        self._rng = rng or random.Random()
        self._results: OrderedDict[str, PaymentResult] = OrderedDict()

    async def charge(self, amount: Decimal, *, idempotency_key: str) -> PaymentResult:
        known = self._results.get(idempotency_key)
        if known is not None:
            return known
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        succeeded = amount >= 0 and self._rng.random() < self.success_rate
        result = PaymentResult(succeeded=succeeded, reference=f"mockpay_{uuid.uuid4().hex}")
        self._results[idempotency_key] = result
        if len(self._results) > _REMEMBERED_KEYS:
            self._results.popitem(last=False)
        return result


@lru_cache(maxsize=16)
def _mock(success_rate: float, latency_ms: int) -> MockPaymentGateway:
    return MockPaymentGateway(success_rate, latency_ms)


def gateway_for(settings: Settings) -> PaymentGateway:
    """The process's gateway for these settings (one per configuration, so its key memory is shared)."""
    return _mock(settings.payment_success_rate, settings.payment_latency_ms)
