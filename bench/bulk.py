"""Bulk upload end to end against raw PostgreSQL COPY of the same file, in one run.

    .venv/bin/python bench/bulk.py [--sizes 10000,100000,1000000] [--port 8103]

A real API server process and a real worker process, with their own fresh database and Redis key
prefix (removed afterwards). For each size: upload a CSV (all new flights) and time it from the
first byte sent to COMPLETED; then the same flights with every price changed (all updates); then
that file again (all rows unchanged); then every arrival moved 5 minutes later (all updates that
move times: each batch runs the schedule hook, which finds no booked flight). Each upload starts
once the job queue is idle (the search reindex a previous upload queued has run). In the same run:
raw COPY of the file into a bare table and into a flights-like table with flights' indexes, and a
pure-SQL all-update (COPY to staging + INSERT ... ON CONFLICT DO UPDATE into that table). Prints
rows/s, the ratios to those baselines, the search index's share of the job (reported by the
worker), and the worker's largest RSS sampled during the imports (flat memory: it must not grow
with the file) beside its all-time peak (which includes the search reindex that follows each
upload).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.bulk_import.demo_data import CITIES  # noqa: E402
from app.cli import migrate  # noqa: E402
from app.platform.config import to_driver_url  # noqa: E402
from tests.infra import test_servers  # noqa: E402

HEADER = "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price\n"
FLIGHTS_LIKE = """
CREATE TABLE {name} (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(), flight_number text NOT NULL, source text NOT NULL,
    destination text NOT NULL, departure_ts timestamptz NOT NULL, arrival_ts timestamptz NOT NULL,
    total_seats integer NOT NULL, available_seats integer, price numeric(10, 2) NOT NULL,
    UNIQUE (flight_number, departure_ts))
"""
INDEXES = """
CREATE INDEX ON {name} (source, departure_ts); CREATE INDEX ON {name} (destination);
CREATE INDEX ON {name} (departure_ts)
"""
BARE = """CREATE UNLOGGED TABLE {name} (flight_number text, source text, destination text,
    departure_ts timestamptz, arrival_ts timestamptz, total_seats integer, price numeric(10, 2))"""


def write_csv(path: Path, rows: int, seed: int = 7, bump: int = 0, later: int = 0) -> None:
    """``bump`` raises every price: the same flights, each one changed (an all-update file);
    ``later`` moves every arrival that many minutes (an all-update file that moves times)."""
    rng = random.Random(seed)
    cities = list(CITIES)
    start = datetime(2027, 6, 1, tzinfo=UTC)
    with path.open("w") as out:
        out.write(HEADER)
        for i in range(rows):
            a, b = rng.sample(cities, 2)
            dep = start + timedelta(minutes=i)  # a flight a minute: unique (number, departure)
            arr = dep + timedelta(minutes=rng.randrange(60, 200) + later)
            out.write(
                f"BX-{i % 9000},{a},{b},{dep.isoformat()},{arr.isoformat()},"
                f"{rng.randrange(120, 240)},{rng.randrange(2000, 15000) + bump}.{rng.randrange(100):02d}\n"
            )


def raw_copy(url: str, path: Path, table_sql: str, indexes: str | None) -> float:
    name = f"copy_{os.getpid()}_{int(time.time() * 1000) % 100000}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(table_sql.format(name=name))
        if indexes:
            conn.execute(indexes.format(name=name))
        columns = "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price"
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY {name} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER)") as copy,
            path.open("rb") as src,
        ):
            while block := src.read(1 << 20):
                copy.write(block)
        elapsed = time.perf_counter() - started
        conn.execute(f"DROP TABLE {name}")
    return elapsed


def copy_file(conn: psycopg.Connection, table: str, path: Path) -> None:  # type: ignore[type-arg]
    columns = "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price"
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER)") as copy,
        path.open("rb") as src,
    ):
        while block := src.read(1 << 20):
            copy.write(block)


def raw_upsert(url: str, path: Path, changed: Path) -> float:
    """All-update baseline: COPY ``changed`` into a staging table, then INSERT ... ON CONFLICT DO
    UPDATE into a flights-like indexed table holding ``path`` (timed: the COPY and the upsert)."""
    name = f"upsert_{os.getpid()}_{int(time.time() * 1000) % 100000}"
    columns = "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(FLIGHTS_LIKE.format(name=name))
        conn.execute(INDEXES.format(name=name))
        copy_file(conn, name, path)
        conn.execute(BARE.replace("UNLOGGED TABLE", "TEMP TABLE").format(name=f"{name}_stage"))
        started = time.perf_counter()
        copy_file(conn, f"{name}_stage", changed)
        conn.execute(
            f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {name}_stage "
            "ON CONFLICT (flight_number, departure_ts) DO UPDATE SET source = EXCLUDED.source, "
            "destination = EXCLUDED.destination, arrival_ts = EXCLUDED.arrival_ts, "
            "total_seats = EXCLUDED.total_seats, price = EXCLUDED.price"
        )
        elapsed = time.perf_counter() - started
        conn.execute(f"DROP TABLE {name}")
    return elapsed


def wait_for_idle_queue(url: str) -> None:
    """Let the search reindex queued by the previous upload finish: the worker runs one job at a
    time, and this measures the bulk job, not the search engineer's reindex."""
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
        ).fetchone() != (0,):
            time.sleep(0.2)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def upload_and_wait(
    http: httpx.Client, token: str, path: Path, worker: int
) -> tuple[float, dict, float, float]:  # type: ignore[type-arg]
    """Seconds from the first byte to COMPLETED, the final status, the worker's largest RSS
    sampled meanwhile (the import's own memory; the search reindex runs after it), and the
    seconds the upload request itself took (first byte to the 202)."""
    started = time.perf_counter()
    peak = 0.0
    with path.open("rb") as f:
        response = http.post(
            "/admin/flights/bulk-upload",
            files={"file": ("bench.csv", f, "text/csv")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=600,
        )
    response.raise_for_status()
    accepted = time.perf_counter() - started
    job_id = response.json()["job_id"]
    while True:
        status = http.get(
            f"/admin/flights/bulk-upload/status/{job_id}", headers={"Authorization": f"Bearer {token}"}
        ).json()
        peak = max(peak, rss_mb(worker))
        if status["status"] in ("COMPLETED", "FAILED"):
            return time.perf_counter() - started, status, peak, accepted
        time.sleep(0.02)  # polling granularity is measurement error: keep it small


def search_seconds(log_path: Path) -> float:
    for line in reversed(log_path.read_text().splitlines()):
        if "bulk_job_completed" in line and "search_seconds=" in line:
            return float(line.split("search_seconds=")[1].split()[0])
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--port", type=int, default=8103)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    with test_servers() as servers:
        migrate(servers.database_url)
        url = to_driver_url(servers.database_url, "postgresql")
        env = {
            **os.environ,
            "DATABASE_URL": servers.database_url,
            "REDIS_URL": servers.redis_url,
            "REDIS_KEY_PREFIX": servers.redis_prefix,
            "JWT_SECRET": "bench-secret-" + "x" * 40,
            "DEMO_DATA": "0",
            "PORT": str(args.port),
            "MAX_UPLOAD_MB": "500",
            "MAX_UPLOAD_ROWS": "5000000",
            "LOGIN_RATE_LIMIT": "0",
            "LOGIN_CLIENT_RATE_LIMIT": "0",
            "REGISTER_RATE_LIMIT": "0",
        }
        worker_log = tmp / "worker.log"
        api = subprocess.Popen([sys.executable, "-m", "app.cli", "api"], env=env, cwd=ROOT)
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"], env=env, cwd=ROOT, stdout=worker_log.open("w"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            http = httpx.Client(base_url=f"http://127.0.0.1:{args.port}")
            for _ in range(100):
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            http.post("/api/v1/auth/register", json={"username": "bench_admin", "password": "kite-river9"})
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("UPDATE users SET is_admin = true WHERE username = 'bench_admin'")
            token = http.post(
                "/api/v1/auth/token", data={"username": "bench_admin", "password": "kite-river9"}
            ).json()["access_token"]
            results = []
            print(f"load average at start: {os.getloadavg()}", flush=True)
            for size in sizes:
                path = tmp / f"{size}.csv"
                changed = tmp / f"{size}-changed.csv"
                moved = tmp / f"{size}-moved.csv"
                write_csv(path, size)
                write_csv(changed, size, bump=1)
                write_csv(moved, size, bump=1, later=5)
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("TRUNCATE flights CASCADE")
                bare = raw_copy(url, path, BARE, None)
                indexed = raw_copy(url, path, FLIGHTS_LIKE, INDEXES)
                upsert = raw_upsert(url, path, changed)
                wait_for_idle_queue(url)
                insert_s, status, insert_rss, insert_up = upload_and_wait(http, token, path, worker.pid)
                assert status["status"] == "COMPLETED" and status["summary"]["inserted"] == size, status
                insert_search = search_seconds(worker_log)
                wait_for_idle_queue(url)
                update_s, status, update_rss, update_up = upload_and_wait(http, token, changed, worker.pid)
                assert status["status"] == "COMPLETED" and status["summary"]["updated"] == size, status
                update_search = search_seconds(worker_log)
                wait_for_idle_queue(url)
                same_s, status, same_rss, _ = upload_and_wait(http, token, changed, worker.pid)
                assert status["status"] == "COMPLETED" and status["summary"]["updated"] == size, status
                wait_for_idle_queue(url)
                moved_s, status, moved_rss, _ = upload_and_wait(http, token, moved, worker.pid)
                assert status["status"] == "COMPLETED" and status["summary"]["updated"] == size, status
                moved_search = search_seconds(worker_log)
                row = {
                    "rows": size,
                    "mb": round(path.stat().st_size / (1 << 20), 1),
                    "copy_bare_rows_s": round(size / bare),
                    "copy_indexed_rows_s": round(size / indexed),
                    "sql_upsert_rows_s": round(size / upsert),
                    "insert_rows_s": round(size / insert_s),
                    "insert_vs_copy_indexed": round(indexed / insert_s, 3),
                    "insert_vs_copy_bare": round(bare / insert_s, 3),
                    "insert_search_share": round(insert_search / insert_s, 3),
                    "insert_upload_share": round(insert_up / insert_s, 3),
                    "update_rows_s": round(size / update_s),
                    "update_vs_copy_indexed": round(indexed / update_s, 3),
                    "update_vs_sql_upsert": round(upsert / update_s, 3),
                    "update_search_share": round(update_search / update_s, 3),
                    "update_upload_share": round(update_up / update_s, 3),
                    "unchanged_rows_s": round(size / same_s),
                    "unchanged_vs_copy_indexed": round(indexed / same_s, 3),
                    "moved_rows_s": round(size / moved_s),
                    "moved_vs_copy_indexed": round(indexed / moved_s, 3),
                    "moved_search_share": round(moved_search / moved_s, 3),
                    "worker_rss_during_imports_mb": round(
                        max(insert_rss, update_rss, same_rss, moved_rss), 1
                    ),
                    # The insert runs before any search reindex of this size: the import's own memory.
                    "worker_rss_during_insert_mb": round(insert_rss, 1),
                    "worker_rss_during_update_mb": round(update_rss, 1),
                    "worker_peak_rss_mb": round(rss_mb(worker.pid, "VmHWM"), 1),
                }
                row["load_average"] = [round(x, 1) for x in os.getloadavg()]
                results.append(row)
                print(json.dumps(row), flush=True)
                path.unlink()
                changed.unlink()
                moved.unlink()
        finally:
            for proc in (api, worker):
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:  # e.g. the worker inside a long search reindex
                    proc.kill()
                    proc.wait()
    print("rows/s end to end (upload to COMPLETED) vs raw COPY into a flights-like indexed table:")
    for r in results:
        print(
            f"  {r['rows']:>9,} rows ({r['mb']} MB): insert {r['insert_rows_s']:>7,}/s "
            f"(x{r['insert_vs_copy_indexed']} of COPY {r['copy_indexed_rows_s']:,}/s, "
            f"search {r['insert_search_share']:.0%}, upload request {r['insert_upload_share']:.0%}), "
            f"update {r['update_rows_s']:>7,}/s "
            f"(x{r['update_vs_copy_indexed']}, x{r['update_vs_sql_upsert']} of SQL upsert "
            f"{r['sql_upsert_rows_s']:,}/s, search {r['update_search_share']:.0%}, "
            f"upload request {r['update_upload_share']:.0%}), "
            f"unchanged re-upload {r['unchanged_rows_s']:,}/s (x{r['unchanged_vs_copy_indexed']}), "
            f"times moved {r['moved_rows_s']:,}/s (x{r['moved_vs_copy_indexed']}, "
            f"search {r['moved_search_share']:.0%}); "
            f"bare COPY {r['copy_bare_rows_s']:,}/s; worker RSS during the imports "
            f"{r['worker_rss_during_imports_mb']} MB (peak incl. search reindex {r['worker_peak_rss_mb']} MB)"
        )


if __name__ == "__main__":
    main()
