"""The API process's garbage-collector settings once started (app/platform/gc_tuning.py)."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from app.platform.gc_tuning import SERVING_THRESHOLDS, fewer_collections


async def test_a_started_api_collects_rarely_with_its_startup_heap_frozen(app: FastAPI) -> None:
    assert app.state.context is not None  # the lifespan ran
    assert gc.get_threshold() == SERVING_THRESHOLDS
    assert gc.get_freeze_count() > 0


def test_a_rarer_collection_window_restores_the_serving_thresholds() -> None:
    gc.set_threshold(*SERVING_THRESHOLDS)
    with fewer_collections():
        assert gc.get_threshold()[0] == 100_000
    assert gc.get_threshold() == SERVING_THRESHOLDS
