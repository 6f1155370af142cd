"""End-to-end run: a fresh database, the real backend serving the built frontend, Playwright in Chromium.

    ../.venv/bin/python e2e/run.py [playwright args...]

Uses the machine's PostgreSQL and Redis on 127.0.0.1 when they answer (a new database and Redis key
prefix for this run, both removed afterwards), else embedded servers (tests/infra.py). Starts
`python -m app.cli run` (migrations, API, worker) on E2E_PORT (8114) and, for the declined-payment
flow, a second API process on E2E_PORT + 1 over the same data with PAYMENT_SUCCESS_RATE=0.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FRONTEND = Path(__file__).resolve().parent.parent
ROOT = FRONTEND.parent
sys.path.insert(0, str(ROOT))

from tests.infra import test_servers  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
ADMIN = ("e2e_admin", "admin-password-1")


def port_pair_free(port: int) -> bool:
    for candidate in (port, port + 1):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", candidate)) == 0:
                return False
    return True


def choose_port() -> int:
    """E2E_PORT (default 8114) and the next one; another run holding them moves this one elsewhere."""
    port = int(os.environ.get("E2E_PORT", "8114"))
    if port_pair_free(port):
        return port
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            candidate = int(probe.getsockname()[1])
        if candidate < 65535 and port_pair_free(candidate):
            print(f"ports {port}-{port + 1} are busy; using {candidate}-{candidate + 1}")
            return candidate
    raise RuntimeError("no free port pair for the e2e backends")


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"backend exited with code {process.returncode} before {url} was ready")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:  # noqa: S310 - our http URL
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url}/readyz did not answer 200 within {timeout:.0f}s")


@contextmanager
def process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        child = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield child
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
                    child.wait()


def post_json(url: str, body: dict[str, str]) -> None:
    request = urllib.request.Request(  # noqa: S310 - our own http URL
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


def main(argv: list[str]) -> int:
    if not (FRONTEND / "dist" / "index.html").is_file():
        print("frontend/dist is missing: run `make -C frontend build` first", file=sys.stderr)
        return 2
    port = choose_port()
    logs = FRONTEND / "test-results" / "backend"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with test_servers() as servers, tempfile.TemporaryDirectory(prefix="flightdesk-e2e-") as data_dir:
        env = {
            **os.environ,
            "APP_ENV": "test",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "DATABASE_URL": servers.database_url,
            "REDIS_URL": servers.redis_url,
            "REDIS_KEY_PREFIX": servers.redis_prefix,
            "DATA_DIR": data_dir,
            "JWT_SECRET": secrets.token_urlsafe(48),
            "FRONTEND_DIST": str(FRONTEND / "dist"),
            "DEMO_DATA": "0",
            "PAYMENT_LATENCY_MS": "0",
            "PAYMENT_SUCCESS_RATE": "1",
            "LOGIN_RATE_LIMIT": "0",
            "LOGIN_CLIENT_RATE_LIMIT": "0",
            "REGISTER_RATE_LIMIT": "0",
            "LOG_LEVEL": "WARNING",
        }
        base = f"http://127.0.0.1:{port}"
        declined = f"http://127.0.0.1:{port + 1}"
        declined_env = {**env, "PORT": str(port + 1), "PAYMENT_SUCCESS_RATE": "0"}
        with process([PYTHON, "-m", "app.cli", "run"], env, logs / "main.log") as main_backend:
            wait_ready(base, main_backend)
            with process(
                [PYTHON, "-m", "app.cli", "api"], declined_env, logs / "declined.log"
            ) as declined_backend:
                wait_ready(declined, declined_backend)
                post_json(f"{base}/api/v1/auth/register", {"username": ADMIN[0], "password": ADMIN[1]})
                subprocess.run(
                    [PYTHON, "-m", "app.cli", "make-admin", ADMIN[0]], env=env, cwd=ROOT, check=True
                )
                print(f"backend ready in {time.monotonic() - started:.1f}s at {base} (declined: {declined})")
                playwright_env = {
                    **os.environ,
                    "E2E_BASE_URL": base,
                    "E2E_DECLINED_URL": declined,
                    "E2E_ADMIN_USER": ADMIN[0],
                    "E2E_ADMIN_PASSWORD": ADMIN[1],
                }
                tests_started = time.monotonic()
                result = subprocess.run(
                    [
                        str(FRONTEND / "node_modules" / ".bin" / "playwright"),
                        "test",
                        "-c",
                        "e2e/playwright.config.ts",
                        *argv,
                    ],
                    env=playwright_env,
                    cwd=FRONTEND,
                )
                took = time.monotonic() - tests_started
                print(f"e2e: playwright {took:.1f}s, all {time.monotonic() - started:.1f}s")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
