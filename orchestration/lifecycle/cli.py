"""`python -m orchestration.lifecycle <command>`: the privacy and lifecycle operations from a shell.

Reports go to stdout as JSON (so scripts can read them), progress and errors to stderr. Exit
status: 0 done, 1 the operation failed (the message says why and what to do), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from ingest_service.environment import SettingsError
from ingest_service.settings import DEFAULT_RETENTION_DAYS
from ingest_service.upkeep.compaction import DEFAULT_TARGET_ROWS, compact_store
from ingest_service.upkeep.errors import LifecycleError
from ingest_service.upkeep.privacy_requests import record_request, validate_user_id
from ingest_service.upkeep.retention import apply_retention, retention_cutoff
from orchestration.lifecycle.erasure import erase_user
from orchestration.lifecycle.export import export_user, write_export
from orchestration.settings import OrchestrationSettings
from orchestration.warehouse import validate_as_of


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.lifecycle",
        description="Privacy and data lifecycle: retention, export, erasure, opt-out/opt-in. "
        "Stores come from DATABASE_URL / DATA_DIR, the warehouse from DBT_DUCKDB_PATH / DBT_PG_SCHEMA.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    retention = commands.add_parser("retention", help="delete raw events older than RETENTION_DAYS")
    retention.add_argument(
        "--days", type=int, help=f"override RETENTION_DAYS (default {DEFAULT_RETENTION_DAYS})"
    )
    retention.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
    )

    compact = commands.add_parser("compact", help="merge the embedded store's small Parquet files")
    compact.add_argument(
        "--target-rows", type=int, default=DEFAULT_TARGET_ROWS, help="most rows in one merged file"
    )

    export = commands.add_parser("export", help="everything stored about one user, as one JSON document")
    export.add_argument("user_id")
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")

    erase = commands.add_parser(
        "erase", help="delete a user's raw events and every mart row derived from them"
    )
    erase.add_argument("user_id")
    erase.add_argument(
        "--skip-dbt",
        action="store_true",
        help="only delete raw events and log the erasure; the next incremental run cleans the marts",
    )
    erase.add_argument("--as-of", help="dbt `as_of` for the rebuild (ISO timestamp; default: now)")

    for action in ("opt-out", "opt-in"):
        command = commands.add_parser(action, help=f"{action} a user (takes effect at ingest immediately)")
        command.add_argument("user_id")
    return parser


def _print_json(document: dict) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def _run(arguments: argparse.Namespace) -> None:
    settings = OrchestrationSettings.from_env()
    stores, warehouse = settings.raw_stores, settings.warehouse
    progress = sys.stderr

    if arguments.command == "retention":
        days = arguments.days if arguments.days is not None else settings.retention_days
        now = datetime.now(UTC)
        cutoff = retention_cutoff(days, now)  # refuses a bad --days before anything is printed
        verb = "counting" if arguments.dry_run else "deleting"
        where = ", ".join(stores.describe()) or "no store"
        print(
            f"{verb} raw and rejected events received before {cutoff:%Y-%m-%d %H:%M} UTC in {where}",
            file=progress,
        )
        report = apply_retention(stores, days=days, now=now, dry_run=arguments.dry_run)
        done = "would remove" if arguments.dry_run else "removed"
        print(
            f"{done} {report.rows_removed} rows and {report.rejected_rows_removed} rejected events",
            file=progress,
        )
        _print_json(report.as_dict())
    elif arguments.command == "compact":
        if arguments.target_rows < 2:
            raise LifecycleError(f"--target-rows must be at least 2 (got {arguments.target_rows})")
        if not stores.has_embedded_events:
            print("no embedded store under DATA_DIR: nothing to compact", file=progress)
            _print_json({"files_before": 0, "files_after": 0})
            return
        report = compact_store(stores.events_dir, target_rows=arguments.target_rows)
        print(f"{report.files_before} files -> {report.files_after}", file=progress)
        _print_json(report.as_dict())
    elif arguments.command == "export":
        document = export_user(stores, warehouse, validate_user_id(arguments.user_id))
        if arguments.output:
            write_export(document, arguments.output)
            print(
                f"wrote {len(document['raw_events'])} raw events, {len(document['rejected_events'])}"
                f" rejected events and {len(document['sessions'])} sessions to {arguments.output}",
                file=progress,
            )
        else:
            _print_json(document)
    elif arguments.command == "erase":
        validate_user_id(arguments.user_id)
        if arguments.as_of is not None:
            validate_as_of(arguments.as_of)
        where = ", ".join(stores.describe()) or "no raw store"
        print(f"erasing {arguments.user_id!r} from {where}", file=progress)
        if not arguments.skip_dbt:
            print(f"then running dbt incrementally on {warehouse.describe()} (a while)", file=progress)
        report = erase_user(
            stores,
            warehouse,
            arguments.user_id,
            rebuild_warehouse=not arguments.skip_dbt,
            as_of=arguments.as_of,
            on_line=lambda line: print(f"  dbt | {line}", file=progress, flush=True),
        )
        _print_json(report.as_dict())
    else:
        action = arguments.command.replace("-", "_")
        requested_at = record_request(stores, validate_user_id(arguments.user_id), action)
        _print_json(
            {"user_id": arguments.user_id, "action": action, "requested_at": requested_at.isoformat()}
        )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        _run(arguments)
    except (LifecycleError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
