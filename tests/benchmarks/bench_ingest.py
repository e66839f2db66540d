"""Ingest benchmark: the real service over loopback vs. a plain single-connection COPY.

    python -m tests.benchmarks.bench_ingest [--duration 10] [--connections 32] [--workers 2]
    (or `make bench-ingest`)

1. Creates a scratch PostgreSQL database (`BENCH_POSTGRES_ADMIN_URL`, default the test server) and
   measures a plain single-connection COPY (`copy_rows_postgres`, one transaction, best of 3) of rows shaped
   like the load, into the same table; then empties the table.
2. Starts `python -m ingest_service` on it and loads `POST /api/analytics` with batches of 20 events
   (wrk + `bench_ingest.lua`): first as fast as it goes (peak), then at about half of that rate.
3. Prints events/s, p50/p99 latency, errors, the ratio to the COPY rate, and checks that every
   acknowledged event is in the table. Targets: ≥ 30% of COPY, p99 ≤ 25 ms at half of peak, no errors.

Needs `wrk` (Debian/Ubuntu: `sudo apt-get install wrk`; macOS: `brew install wrk`).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from ingest_service.identity import Caller
from ingest_service.payloads import AnalyticsEvent
from ingest_service.storage.bulk_load import copy_rows_postgres
from ingest_service.storage.sinks import migrate_postgres
from ingest_service.validation import RequestContext, analytics_event_to_row

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
LUA_SCRIPT = HERE / "bench_ingest.lua"
EVENTS_PER_REQUEST = 20
ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL",
    os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


@dataclass
class WrkResult:
    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int

    @property
    def events_per_s(self) -> float:
        return self.requests_per_s * EVENTS_PER_REQUEST


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _parse_wrk(output: str) -> WrkResult:
    def find(pattern: str) -> str:
        match = re.search(pattern, output)
        if not match:
            raise RuntimeError(f"unexpected wrk output (no {pattern!r}):\n{output}")
        return match.group(1)

    requests, seconds = re.search(r"(\d+) requests in ([0-9.]+)(\w+),", output).groups()[:2]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests=int(requests),
        seconds=_ms(re.search(r"requests in ([0-9.]+\w+),", output).group(1)) / 1000,
        requests_per_s=float(find(r"Requests/sec:\s+([0-9.]+)")),
        p50_ms=_ms(find(r"50%\s+([0-9.]+\w+)")),
        p90_ms=_ms(find(r"90%\s+([0-9.]+\w+)")),
        p99_ms=_ms(find(r"99%\s+([0-9.]+\w+)")),
        errors=errors + (int(non_2xx.group(1)) if non_2xx else 0),
    )


def run_wrk(base_url: str, duration_s: float, connections: int, delay_ms: float = 0.0) -> WrkResult:
    env = {**os.environ, "BENCH_SEED": str(random.randrange(1, 2**31)), "BENCH_DELAY_MS": f"{delay_ms:.3f}"}
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{duration_s:g}s", "--latency", "--timeout", "10s",
        "-s", str(LUA_SCRIPT), base_url,
    ]  # fmt: skip
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return _parse_wrk(completed.stdout)


def sample_rows(count: int) -> list[dict]:
    """Rows shaped like the wrk load, built by the service's own validation and enrichment."""
    kinds = [
        {"eventType": "PERFUME_VIEW", "perfumeId": "p1"},
        {"eventType": "PAGE_VIEW", "eventData": {"section": "home"}},
        {"eventType": "SEARCH_PERFORMED", "eventData": {"query": "oud", "resultPerfumeIds": ["p1", "p2"]}},
        {"eventType": "WISHLIST_ADD", "perfumeId": "p1", "eventData": {"source": "detail"}},
        {"eventType": "RATING_COMPLETED", "perfumeId": "p1", "value": 4.0},
    ]
    ctx = RequestContext(datetime.now(UTC), Caller(), USER_AGENT, None)
    rows = []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        event = AnalyticsEvent(
            eventId=str(uuid.uuid4()),
            sessionId=f"bench-{index % 997}",
            path=f"/perfumes/{index % 20}",
            duration=1200,
            **kind,
        )
        row, problems = analytics_event_to_row(event, 0, "event", ctx)
        assert not problems, problems
        rows.append(row)
    return rows


def measure_copy_rate(url: str, count: int, attempts: int = 3) -> float:
    """The best of `attempts` single-transaction COPYs: the strictest baseline on a shared machine."""
    rows = sample_rows(count)
    best = 0.0
    with psycopg.connect(url) as connection:
        for _ in range(attempts):
            started = time.perf_counter()
            copy_rows_postgres(connection, rows)
            connection.commit()
            best = max(best, count / (time.perf_counter() - started))
            connection.execute("truncate raw.interaction_events")
            connection.commit()
    return best


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "INGEST_HOST": "127.0.0.1",
        "INGEST_PORT": str(port),
        "INGEST_WORKERS": str(workers),
        "INGEST_RATE_LIMIT_PER_MINUTE": "0",  # the load is one client with many sessions
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "ingest_service"], cwd=REPO_ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the ingest service exited:\n{process.stderr.read()}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the ingest service did not become ready within 60 s")


def _line(label: str, result: WrkResult) -> str:
    return (
        f"{label:<24} {result.events_per_s:>9,.0f} events/s  {result.requests_per_s:>7,.0f} req/s  "
        f"p50 {result.p50_ms:6.2f} ms  p90 {result.p90_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
        f"errors {result.errors}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run (default 10)")
    parser.add_argument(
        "--connections", type=int, default=32, help="concurrent connections at peak (default 32)"
    )
    parser.add_argument("--workers", type=int, default=2, help="ingest processes (default 2: one per core)")
    parser.add_argument("--copy-rows", type=int, default=50_000, help="rows per COPY of the baseline")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print("wrk is needed: sudo apt-get install wrk   (macOS: brew install wrk)", file=sys.stderr)
        return 2
    database = f"bench_ingest_{uuid.uuid4().hex[:8]}"
    base, _, _ = ADMIN_URL.rpartition("/")
    url = f"{base}/{database}"
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'create database "{database}"')
    except psycopg.OperationalError as error:
        print(f"PostgreSQL is not reachable at {ADMIN_URL}: {error}\nStart it: bash .ci/ensure-postgres.sh")
        return 2
    process = None
    try:
        with psycopg.connect(url) as connection:
            migrate_postgres(connection)
        print(f"[1/4] plain single-connection COPY of {args.copy_rows:,} rows, best of 3 …", flush=True)
        copy_rate = measure_copy_rate(url, args.copy_rows)
        print(f"      {copy_rate:,.0f} rows/s", flush=True)

        print(f"[2/4] starting the ingest service ({args.workers} worker(s)) …", flush=True)
        process, base_url = start_service(url, args.workers)
        run_wrk(base_url, 3, args.connections)  # warm-up: pools, caches, the parser's rules

        print(f"[3/4] peak: {args.connections} connections for {args.duration:g} s …", flush=True)
        peak = run_wrk(base_url, args.duration, args.connections)

        half_target = peak.requests_per_s / 2
        connections = 8
        # each connection sends, waits `delay`, sends again: rate ≈ connections / (latency + delay)
        delay_ms = max(0.0, connections / half_target * 1000 - peak.p50_ms / 4)
        print(
            f"[4/4] half of peak: ~{half_target * EVENTS_PER_REQUEST:,.0f} events/s for {args.duration:g} s …"
        )
        half = run_wrk(base_url, args.duration, connections, delay_ms)
        if abs(half.requests_per_s - half_target) > 0.15 * half_target:
            delay_ms *= half.requests_per_s / half_target  # one correction for the measured latency
            half = run_wrk(base_url, args.duration, connections, delay_ms)

        with psycopg.connect(url) as connection:
            stored = connection.execute("select count(*) from raw.interaction_events").fetchone()[0]
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{database}" with (force)')

    acknowledged = (peak.requests + half.requests) * EVENTS_PER_REQUEST
    ratio = peak.events_per_s / copy_rate
    print()
    print(f"{'plain COPY (1 conn)':<24} {copy_rate:>9,.0f} rows/s (best of 3)")
    print(_line("ingest at peak", peak))
    print(_line("ingest at ~half of peak", half))
    print(f"peak / COPY: {ratio:.0%} (target ≥ 30%)   p99 at half: {half.p99_ms:.1f} ms (target ≤ 25 ms)")
    print(f"stored rows: {stored:,} ≥ acknowledged in measured runs: {acknowledged:,}")
    ok = peak.errors == 0 and half.errors == 0 and stored >= acknowledged
    met = ratio >= 0.30 and half.p99_ms <= 25.0
    print("result:", "no errors" if ok else "ERRORS", "·", "targets met" if met else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
