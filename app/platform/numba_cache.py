"""Where numba keeps the search kernels' machine code (their ``cache=True``).

Invariant: one rule, applied before numba is first imported. numba fixes a kernel's cache
directory when the kernel is decorated, at its module's import, so ``app/__init__`` calls
``place`` when the package itself is imported (the warm-ups call it again: a no-op by then).
NUMBA_CACHE_DIR from the environment wins (the Docker image: /opt/numba-cache, filled at build);
a writable package keeps numba's default (next to the modules); otherwise DATA_DIR/numba-cache.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_KERNELS = Path(__file__).resolve().parent.parent / "search"


def place(data_dir: Path) -> None:
    """Point NUMBA_CACHE_DIR at ``data_dir``/numba-cache when the kernels' directory is read-only
    and the environment names no cache directory; if that cannot be created either, numba's own
    fallback (a per-user cache directory) applies."""
    if "NUMBA_CACHE_DIR" in os.environ or os.access(_KERNELS, os.W_OK):
        return
    cache = data_dir.resolve() / "numba-cache"
    with contextlib.suppress(OSError):
        cache.mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(cache)
