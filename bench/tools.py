"""Tools the benchmarks drive, installed on first use so a bench runs on a fresh machine."""

from __future__ import annotations

import shutil
import subprocess


def apt(*args: str) -> None:
    subprocess.run(["apt-get", *args], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ensure_wrk() -> str:
    """Path of wrk, installing Debian's package when it is missing (the machines run as root);
    the package lists are refreshed only when the first install finds nothing."""
    for refresh in (False, True):
        if found := shutil.which("wrk"):
            return found
        if refresh:
            apt("update", "-qq")
        apt("install", "-y", "-qq", "wrk")
    if found := shutil.which("wrk"):
        return found
    raise SystemExit("wrk is missing and `apt-get install -y wrk` could not install it")
