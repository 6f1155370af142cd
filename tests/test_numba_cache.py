"""numba's cache directory is decided by one rule, before numba is first imported (see
app/platform/numba_cache.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.platform import numba_cache


def test_importing_the_package_places_the_cache_before_numba_is_imported() -> None:
    probe = "import sys, app; print('numba' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_read_only_package_caches_its_kernels_in_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(numba_cache, "_KERNELS", tmp_path / "absent")  # not writable: not there
    numba_cache.place(tmp_path / "data")
    assert Path(os.environ["NUMBA_CACHE_DIR"]) == (tmp_path / "data" / "numba-cache").resolve()
    assert (tmp_path / "data" / "numba-cache").is_dir()
    numba_cache.place(tmp_path / "other")  # placed once: later calls change nothing
    assert Path(os.environ["NUMBA_CACHE_DIR"]) == (tmp_path / "data" / "numba-cache").resolve()


def test_the_environment_and_a_writable_package_keep_their_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/opt/numba-cache")
    monkeypatch.setattr(numba_cache, "_KERNELS", tmp_path / "absent")
    numba_cache.place(tmp_path / "data")
    assert os.environ["NUMBA_CACHE_DIR"] == "/opt/numba-cache"
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setattr(numba_cache, "_KERNELS", tmp_path)  # writable: numba's own default
    numba_cache.place(tmp_path / "data")
    assert "NUMBA_CACHE_DIR" not in os.environ
