"""The Lua scripts under app/ (app/<domain>/lua/*.lua), checked by the real Redis engine: each one
compiles (SCRIPT LOAD), and each one names its keys only through KEYS, so the Cluster router and
the key prefix see every key it touches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.booking import reservation
from app.context import AppContext
from app.flights import inventory
from app.platform.redis.scripts import lua_source
from app.search import build, data, storage

APP = Path(__file__).resolve().parent.parent / "app"
SCRIPTS = sorted(APP.glob("*/lua/*.lua"))
# The first argument after the command name: the key every command these scripts use takes.
_CALL = re.compile(r"redis\.call\(\s*'(\w+)'\s*,\s*([^,)]+)")


def _name(path: Path) -> str:
    return str(path.relative_to(APP))


def test_the_scripts_are_found() -> None:
    assert len(SCRIPTS) >= 12


@pytest.mark.parametrize("path", SCRIPTS, ids=_name)
async def test_every_lua_script_compiles_in_the_real_redis(context: AppContext, path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    sha = await context.redis.script_load(source)
    assert isinstance(sha, str) and len(sha) == 40


@pytest.mark.parametrize("path", SCRIPTS, ids=_name)
def test_every_lua_script_takes_its_keys_from_keys(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    calls = _CALL.findall(source)
    assert calls, "a script without redis.call belongs in Python"
    literal = [(command, key) for command, key in calls if not key.strip().startswith("KEYS[")]
    assert literal == [], (
        f"keys not from KEYS (a literal or built key escapes the prefix and the slot): {literal}"
    )


def test_the_modules_bind_the_files_text() -> None:
    assert lua_source("app.booking", "reserve") == reservation._RESERVE
    assert lua_source("app.flights", "install") == inventory._INSTALL
    assert lua_source("app.search", "patch_days") == storage.PATCH_DAYS
    assert lua_source("app.search", "raise_max") == data._RAISE_MAX
    assert lua_source("app.search", "set_cards") == build._SET_CARDS
    assert "redis.call" in storage.READ_DAYS
