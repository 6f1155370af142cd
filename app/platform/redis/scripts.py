"""The Lua scripts' loader: each domain keeps its scripts as ``.lua`` files in its own ``lua/``
folder (so the real engine can check them, see tests/test_lua_scripts.py); the platform only reads
them."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def lua_source(package: str, name: str) -> str:
    """The text of ``<package>/lua/<name>.lua``, read once per process (modules bind it at import,
    so every caller, forked build processes included, gets the same string)."""
    return resources.files(package).joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")
