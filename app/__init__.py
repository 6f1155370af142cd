"""FlightDesk. In comments, "the seed" means the user's original specification documents
(../shared/spec/000_*.txt and 003_*.txt): see docs/architecture.md, "Words used in the code".

Importing the package places numba's on-disk cache (app.platform.numba_cache) before any module
that defines a compiled kernel is imported, whatever the entry point (CLI, API, worker, tests):
DATA_DIR as the environment gives it, else the settings' default (a DATA_DIR given only in
.env is not seen this early)."""

import os
from pathlib import Path

from app.platform import numba_cache
from app.platform.config import DEFAULT_DATA_DIR

numba_cache.place(Path(os.environ.get("DATA_DIR", str(DEFAULT_DATA_DIR))))
