"""`make fuzz-ingest`: schemathesis against the real service and its published OpenAPI, in both
storage modes (issue 9's done-when: ≥ 10,000 cases, 0 5xx, 0 responses that differ from their
documented schema, 0 undocumented status codes, 0 wrong content types).

For each mode the service runs as a process (`python -m ingest_service`; PostgreSQL on a scratch
database of `TEST_POSTGRES_ADMIN_URL`'s server, dropped afterwards), schemathesis runs its
coverage and fuzzing phases with the checks not_a_server_error, status_code_conformance,
content_type_conformance, response_schema_conformance and response_headers_conformance, with a
Bearer token so `/api/track` is reachable. Negative-data rejection is not checked: a batch with a
bad item is a 200 with per-event errors by contract. Prints schemathesis' progress, then per mode
the cases, the failures by check, and the events stored and rejected; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import duckdb
import jwt
import psycopg

from tests.ingest.service_process import REPO_ROOT, server_starter

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
JWT_SECRET = "fuzz-secret-" + uuid.uuid4().hex


def _stored_counts(database_url: str | None, data_dir: Path) -> tuple[int, int]:
    if database_url:
        with psycopg.connect(database_url) as connection:
            events = connection.execute("select count(*) from raw.interaction_events").fetchone()[0]
            rejected = connection.execute("select count(*) from raw.rejected_events").fetchone()[0]
        return events, rejected
    counts = []
    for table in ("interaction_events", "rejected_events"):
        pattern = data_dir / "raw" / table / "*.parquet"
        query = f"select count(*) from read_parquet('{pattern}', union_by_name = true)"
        counts.append(duckdb.sql(query).fetchall()[0][0])
    return counts[0], counts[1]


def fuzz_mode(mode: str, cases_per_operation: int, seed: int, work_dir: Path) -> dict:
    database_url = None
    database = f"fuzz_ingest_{uuid.uuid4().hex[:8]}"
    if mode == "postgres":
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'create database "{database}"')
        database_url = f"{ADMIN_URL.rpartition('/')[0]}/{database}"
    data_dir = work_dir / f"data-{mode}"
    servers = server_starter(work_dir)
    start = next(servers)
    try:
        env = {
            "DATA_DIR": str(data_dir),
            "INGEST_JWT_SECRET": JWT_SECRET,
            "INGEST_PRIVACY_RATE_LIMIT_PER_MINUTE": "0",
        }
        if database_url:
            env["DATABASE_URL"] = database_url
        server = start(**env)
        token = jwt.encode({"sub": "fuzz-user"}, JWT_SECRET, algorithm="HS256")
        report = work_dir / f"report-{mode}.json"
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{server.base_url}/schema/openapi.json",
            "--checks",
            ",".join(CHECKS),
            "--phases",
            "coverage,fuzzing",
            "--max-examples",
            str(cases_per_operation),
            "--seed",
            str(seed),
            "--header",
            f"Authorization: Bearer {token}",
            "--report",
            "json",
            "--report-json-path",
            str(report),
            "--no-color",
        ]
        print(
            f"==> {mode}: schemathesis, {cases_per_operation} fuzzing cases per operation (plus coverage)",
            flush=True,
        )
        started = time.monotonic()
        subprocess.run(
            command,
            cwd=work_dir,
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.benchmarks.fuzz_hooks",
                "PYTHONPATH": str(REPO_ROOT),
            },
            check=False,
        )
        elapsed = time.monotonic() - started
        result = json.loads(report.read_text())
        events, rejected = _stored_counts(database_url, data_dir)
        assert "Traceback" not in server.log(), server.log()
    finally:
        next(servers, None)  # stops the service
        if database_url:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'drop database if exists "{database}" with (force)')
    by_check = Counter(failure.get("check", failure.get("name", "?")) for failure in result["failures"])
    return {
        "mode": mode,
        "cases": result["test_cases"]["generated"],
        "cases_with_failures": result["test_cases"]["with_failures"],
        "failures_by_check": dict(by_check),
        "errors": len(result["errors"]),
        "events_stored": events,
        "events_rejected_kept": rejected,
        "seconds": round(elapsed, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases-per-operation", type=int, default=1400, help="fuzzing phase, per operation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--modes", default="embedded,postgres")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="fuzz-ingest-") as work:
        for mode in args.modes.split(","):
            results.append(fuzz_mode(mode, args.cases_per_operation, args.seed, Path(work)))
    print("\nmode      cases   with failures  errors  events stored  rejected kept  seconds")
    for result in results:
        columns = (
            "cases",
            "cases_with_failures",
            "errors",
            "events_stored",
            "events_rejected_kept",
            "seconds",
        )
        widths = (6, 15, 8, 15, 15, 9)
        print(
            f"{result['mode']:<9} "
            + "".join(f"{result[name]:>{width}}" for name, width in zip(columns, widths, strict=True))
        )
        if result["failures_by_check"]:
            print(f"          failures by check: {result['failures_by_check']}")
    failed = any(result["cases_with_failures"] or result["errors"] for result in results)
    total = sum(result["cases"] for result in results)
    verdict = "FAILURES — see the schemathesis output above" if failed else "no failure"
    print(f"\n{total} cases in all: {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
