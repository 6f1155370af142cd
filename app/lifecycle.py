"""What the API process does when it starts (the worker needs none of it)."""

from __future__ import annotations

from app.bulk_import.demo_data import load_if_empty
from app.context import AppContext
from app.platform.context import ensure_epoch
from app.search import hooks as search_hooks
from app.search import incremental as search_incremental
from app.search import patch as search_patch


async def on_api_startup(context: AppContext) -> None:
    await ensure_epoch(context)
    await search_hooks.on_startup(context)
    context.timetable.usable(context)  # loads in the background; PostgreSQL answers meanwhile
    # The compiled list merge and plan of admin changes, loaded now rather than on the first change.
    search_patch.warm_up(context.settings.data_dir)
    search_incremental.warm_up(context.settings.data_dir)
    if context.settings.demo_data:
        await load_if_empty(context)
