"""`python -m orchestration.sample_traffic`: send sample traffic to a running ingest service, or
bulk-load it into the store (PostgreSQL when DATABASE_URL is set, else the embedded Parquet store).

    python -m orchestration.sample_traffic --url http://127.0.0.1:8000 --sessions 200
    python -m orchestration.sample_traffic --bulk --sessions 50000 --seed 3

Over HTTP the credentials are the service's own settings: `INGEST_API_KEYS` (the first key) and
`INGEST_JWT_SECRET`. Re-sending with the same seed reuses the event ids, so nothing counts twice.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

import httpx
import psycopg

from ingest_service.storage.bulk_load import append_rows_parquet, copy_rows_postgres
from ingest_service.storage.raw_schema import RAW_EVENTS_RELATION
from orchestration.sample_traffic.catalog import load_catalog
from orchestration.sample_traffic.deliveries import plan_deliveries, raw_rows
from orchestration.sample_traffic.generator import TrafficConfig, generate_traffic
from orchestration.sample_traffic.sender import TrafficError, send_deliveries
from orchestration.settings import OrchestrationSettings, SettingsError

BULK_CHUNK_ROWS = 50_000


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.sample_traffic", description=__doc__.split("\n")[0]
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="base URL of a running ingest service, e.g. http://127.0.0.1:8000")
    target.add_argument("--bulk", action="store_true", help="write raw rows straight into the store")
    parser.add_argument("--sessions", type=int, default=400, help="sessions to generate (default 400)")
    parser.add_argument("--users", type=int, default=None, help="registered users (default sessions / 7)")
    parser.add_argument("--days", type=int, default=21, help="history length in days (default 21)")
    parser.add_argument("--seed", type=int, default=7, help="random seed: same seed, same events (default 7)")
    arguments = parser.parse_args(argv)
    if arguments.sessions < 1 or arguments.days < 1:
        parser.error("--sessions and --days must be at least 1")
    return arguments


def _bulk_load(rows: list[dict], settings: OrchestrationSettings) -> str:
    stores = settings.raw_stores
    if stores.database_url:
        with psycopg.connect(stores.database_url) as connection:
            for start in range(0, len(rows), BULK_CHUNK_ROWS):
                copy_rows_postgres(connection, rows[start : start + BULK_CHUNK_ROWS])
        return f"PostgreSQL {RAW_EVENTS_RELATION}"
    for start in range(0, len(rows), BULK_CHUNK_ROWS):
        append_rows_parquet(stores.events_dir, rows[start : start + BULK_CHUNK_ROWS])
    return str(stores.events_dir)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    config = TrafficConfig(
        seed=arguments.seed,
        sessions=arguments.sessions,
        users=arguments.users or max(5, arguments.sessions // 7),
        days=arguments.days,
    )
    try:
        settings = OrchestrationSettings.from_env()
        traffic = generate_traffic(load_catalog(), datetime.now(UTC), config)
        if arguments.bulk:
            rows = raw_rows(traffic, seed=config.seed)
            where = _bulk_load(rows, settings)
            print(f"wrote {len(rows)} raw rows ({len(traffic.sessions)} sessions) to {where}")
            return 0
        api_keys = [key for key in os.environ.get("INGEST_API_KEYS", "").split(",") if key.strip()]
        jwt_secret = os.environ.get("INGEST_JWT_SECRET", "")
        if not api_keys or not jwt_secret:
            print(
                "Set INGEST_API_KEYS and INGEST_JWT_SECRET to the values the ingest service runs with "
                "(server clients and logged-in users need them).",
                file=sys.stderr,
            )
            return 2
        deliveries = plan_deliveries(traffic, seed=config.seed)
        report = send_deliveries(arguments.url, deliveries, api_keys[0].strip(), jwt_secret)
    except (SettingsError, FileNotFoundError, TrafficError, httpx.HTTPError, psycopg.Error) as exc:
        print(f"sample traffic failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"sent {report.requests} requests: {report.events_stored} of {report.events_sent} events stored, "
        f"{len(report.rejected)} rejected"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
