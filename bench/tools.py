"""Tools the benchmarks drive, installed on first use so a bench runs on a fresh machine."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx

from app.cli import api_command
from app.platform.config import Settings

ROOT = Path(__file__).resolve().parent.parent


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


def start_api(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """The API as `make run` starts it (app.cli.api_command), on ``port``, once /readyz answers;
    its output appended to ``log_path``."""
    command = api_command(Settings(host="127.0.0.1", port=port, _env_file=None))  # type: ignore[call-arg]
    log = open(log_path, "ab")  # noqa: SIM115 - the server holds it for its lifetime
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited; see {log_path}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not become ready; see {log_path}")


def stop_api(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
