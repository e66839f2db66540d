"""Retention, export, erasure and opt-out/opt-in as Dagster jobs: thin callers of `ingest_service.lifecycle`.

Every job reports what it did as metadata (rows and files removed, the export's path and size), and
the jobs that change raw events also record an observation on the raw events asset, so the asset's
history in the UI shows when and how much data left it.
"""

# no `from __future__ import annotations`: Dagster reads the config and resource annotations at runtime
import hashlib
import re
from datetime import UTC, datetime
from typing import Literal

import dagster as dg
from pydantic import Field

from ingest_service.lifecycle.compaction import DEFAULT_TARGET_ROWS, compact_store
from ingest_service.lifecycle.erasure import rebuild_warehouse_without
from ingest_service.lifecycle.export import export_user, write_export
from ingest_service.lifecycle.privacy_requests import record_request
from ingest_service.lifecycle.raw_erasure import erase_raw_events
from ingest_service.lifecycle.retention import apply_retention
from ingest_service.lifecycle.stores import LifecycleError, validate_user_id
from ingest_service.lifecycle.warehouse import validate_as_of
from orchestration.ingest.raw_events import RAW_EVENTS_KEY
from orchestration.lifecycle.resources import LifecycleStores

#: dbt on DuckDB allows one writer; ops that run dbt share this pool with the dbt assets.
WAREHOUSE_POOL = "warehouse"
RETENTION_CRON = "30 3 * * *"
COMPACTION_CRON = "15 * * * *"


class RetentionConfig(dg.Config):
    days: int | None = Field(default=None, description="Age limit in days; default RETENTION_DAYS (90).")
    dry_run: bool = Field(default=False, description="Only count the rows that would be deleted.")


class CompactionConfig(dg.Config):
    target_rows: int = Field(default=DEFAULT_TARGET_ROWS, description="Most rows in one merged file.")


class UserConfig(dg.Config):
    user_id: str = Field(description="The user's id, as in the events' user_id (the JWT `sub`).")


class ErasureConfig(UserConfig):
    as_of: str | None = Field(
        default=None,
        description="dbt `as_of` for the rebuild (ISO timestamp); default the run's start, like every run.",
    )


class PrivacyRequestConfig(UserConfig):
    action: Literal["opt_out", "opt_in"] = Field(description="opt_out drops the user's events from now on.")


def _failure(exc: LifecycleError) -> dg.Failure:
    """A failed step whose message says what went wrong and what to do, without a traceback to read."""
    return dg.Failure(description=str(exc), allow_retries=False)


def _export_file_name(user_id: str, at: datetime) -> str:
    # user ids are free text: keep a readable safe part, and a hash so two ids never share a file
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", user_id)[:40]
    digest = hashlib.sha256(user_id.encode()).hexdigest()[:10]
    return f"{readable}-{digest}-{at:%Y%m%dT%H%M%SZ}.json"


@dg.op(description="Delete raw events received more than RETENTION_DAYS days ago, in every raw store.")
def delete_expired_raw_events(
    context: dg.OpExecutionContext, config: RetentionConfig, lifecycle: LifecycleStores
) -> dg.Output[int]:
    stores = lifecycle.raw_stores()
    days = config.days if config.days is not None else lifecycle.settings().retention_days
    try:
        report = apply_retention(stores, days=days, dry_run=config.dry_run)
    except LifecycleError as exc:
        raise _failure(exc) from exc
    metadata = {
        "retention_days": days,
        "cutoff_received_at": report.cutoff.isoformat(),
        "dry_run": config.dry_run,
        "rows_removed": report.rows_removed,
        "postgres_rows_removed": report.postgres_rows_removed or 0,
        "embedded_rows_removed": report.embedded.rows_removed if report.embedded else 0,
        "embedded_files_rewritten": report.embedded.files_rewritten if report.embedded else 0,
        "embedded_files_deleted": report.embedded.files_deleted if report.embedded else 0,
        "stores": ", ".join(report.stores) or "none",
    }
    context.log.info(f"retention: {report.rows_removed} raw events received before {report.cutoff}")
    if not config.dry_run:
        context.log_event(dg.AssetObservation(asset_key=RAW_EVENTS_KEY, metadata=metadata))
    return dg.Output(report.rows_removed, metadata=metadata)


@dg.op(description="Merge the embedded store's small Parquet files (one per group commit) into large ones.")
def compact_embedded_raw_events(
    context: dg.OpExecutionContext, config: CompactionConfig, lifecycle: LifecycleStores
) -> dg.Output[int]:
    stores = lifecycle.raw_stores()
    if not stores.has_embedded_events:
        context.log.info("no embedded store: nothing to compact")
        return dg.Output(0, metadata={"files_before": 0, "files_after": 0})
    report = compact_store(stores.events_dir, target_rows=config.target_rows)
    context.log.info(f"compaction: {report.files_before} files -> {report.files_after}")
    return dg.Output(report.files_before - report.files_after, metadata=report.as_dict())


@dg.op(description="Write everything stored about one user as one JSON document under $DATA_DIR/exports/.")
def export_user_data(context: dg.OpExecutionContext, config: UserConfig, lifecycle: LifecycleStores) -> str:
    try:
        user_id = validate_user_id(config.user_id)
        document = export_user(lifecycle.raw_stores(), lifecycle.warehouse(), user_id)
    except LifecycleError as exc:
        raise _failure(exc) from exc
    path = write_export(document, lifecycle.exports_dir() / _export_file_name(user_id, datetime.now(UTC)))
    context.add_output_metadata(
        {
            "path": dg.MetadataValue.path(str(path)),
            "raw_events": len(document["raw_events"]),
            "sessions": len(document["sessions"]),
            "has_profile": document["profile"] is not None,
            "engagement_rows": len(document["engagement_by_event_type"]),
            "privacy_requests": len(document["privacy_requests"]),
            "bytes": path.stat().st_size,
        }
    )
    context.log.info(f"export of {user_id!r} written to {path}")
    return str(path)


@dg.op(description="Delete the user's raw events in every raw store and log the erasure.")
def erase_user_raw_events(
    context: dg.OpExecutionContext, config: ErasureConfig, lifecycle: LifecycleStores
) -> tuple[str, str | None]:
    stores = lifecycle.raw_stores()
    try:
        user_id = validate_user_id(config.user_id)
        if config.as_of is not None:
            validate_as_of(config.as_of)  # before anything is deleted
        report = erase_raw_events(stores, user_id)
        logged_at = record_request(stores, user_id, "erase")
    except LifecycleError as exc:
        raise _failure(exc) from exc
    metadata = {
        "raw_rows_removed": report.rows_removed,
        "postgres_rows_removed": report.postgres_rows_removed or 0,
        "embedded_rows_removed": report.embedded.rows_removed if report.embedded else 0,
        "erase_logged_at": logged_at.isoformat(),
    }
    # the metadata does not repeat the user id (the run config holds it; see the README on run history)
    context.log_event(dg.AssetObservation(asset_key=RAW_EVENTS_KEY, metadata=metadata))
    context.add_output_metadata(metadata)
    return user_id, config.as_of


@dg.op(
    description="Run dbt incrementally so every mart row derived from the user is gone and the "
    "aggregates they touched are recomputed; then check no per-user mart row is left.",
    pool=WAREHOUSE_POOL,
)
def rebuild_marts_without_user(
    context: dg.OpExecutionContext, erased: tuple[str, str | None], lifecycle: LifecycleStores
) -> None:
    user_id, as_of = erased
    warehouse = lifecycle.warehouse()
    if not warehouse.exists():
        context.log.info("the warehouse has never been built: nothing derived from the user to remove")
        return
    try:
        rows_left = rebuild_warehouse_without(warehouse, user_id, as_of=as_of, on_line=context.log.info)
    except LifecycleError as exc:
        raise _failure(exc) from exc
    context.add_output_metadata(
        {"warehouse": warehouse.describe(), "per_user_mart_rows_left": sum(rows_left.values())}
    )


@dg.op(description="Opt a user out (their events are dropped at ingest from now on) or back in.")
def record_privacy_request(
    context: dg.OpExecutionContext, config: PrivacyRequestConfig, lifecycle: LifecycleStores
):
    try:
        requested_at = record_request(lifecycle.raw_stores(), validate_user_id(config.user_id), config.action)
    except LifecycleError as exc:
        raise _failure(exc) from exc
    context.add_output_metadata({"action": config.action, "requested_at": requested_at.isoformat()})


@dg.job(description="Delete raw events older than RETENTION_DAYS (by received_at) in every raw store.")
def raw_events_retention():
    delete_expired_raw_events()


@dg.job(description="Merge the embedded raw store's small files; a no-op on PostgreSQL.")
def raw_events_compaction():
    compact_embedded_raw_events()


@dg.job(
    description="Export everything stored about one user (config: user_id) as JSON under $DATA_DIR/exports/."
)
def user_data_export():
    export_user_data()


@dg.job(
    description="Erase one user (config: user_id): raw events, then every mart row derived from them "
    "and the aggregates they touched. Idempotent: re-run it, or re-execute the failed step."
)
def user_erasure():
    rebuild_marts_without_user(erase_user_raw_events())


@dg.job(description="Opt a user out of (or back into) tracking (config: user_id, action).")
def user_privacy_request():
    record_privacy_request()


raw_events_retention_schedule = dg.ScheduleDefinition(
    name="raw_events_retention_daily",
    job=raw_events_retention,
    cron_schedule=RETENTION_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Retention every day at 03:30 UTC, after the 02:00 profile and session builds.",
)


raw_events_compaction_schedule = dg.ScheduleDefinition(
    name="raw_events_compaction_hourly",
    job=raw_events_compaction,
    cron_schedule=COMPACTION_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour at :15, between the hourly stats builds: a few files per hour.",
)
