"""The lifecycle ops: retention, compaction, export, erasure and opt-out/opt-in, thin callers of
`ingest_service.upkeep` (raw stores) and `orchestration.lifecycle` (what needs the warehouse).

Every op reports what it did as metadata (rows and files removed, the export's path and size), and
the ops that change raw events also record an observation on the raw events asset, so the asset's
history in the UI shows when and how much data left it. The erasure's rebuild is a warehouse
writer like the dbt assets: the same `dbt` resource, the `warehouse` pool and the writer lock.
"""

# no `from __future__ import annotations`: Dagster reads the config and resource annotations at runtime
from datetime import UTC, datetime
from typing import Literal

import dagster as dg
from dagster_dbt import DbtCliResource
from pydantic import Field

from ingest_service.upkeep.compaction import DEFAULT_TARGET_ROWS, compact_store
from ingest_service.upkeep.errors import LifecycleError
from ingest_service.upkeep.privacy_requests import record_request, validate_user_id
from ingest_service.upkeep.raw_erasure import erase_raw_events
from ingest_service.upkeep.retention import apply_retention
from orchestration.dbt_project import dbt_project
from orchestration.defs.dbt.assets import OP_TRANSLATOR
from orchestration.defs.shared_names import RAW_EVENTS_KEY
from orchestration.lifecycle.erasure import mart_rows_left, retry_hint
from orchestration.lifecycle.export import export_file_name, export_user, write_export
from orchestration.resources import RawEventStore, Warehouse
from orchestration.snapshots import publish_after_erasure
from orchestration.warehouse import WAREHOUSE_POOL, as_of_vars, validate_as_of


class RetentionConfig(dg.Config):
    days: int | None = Field(default=None, description="Age limit in days; default RETENTION_DAYS.")
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


@dg.op(
    description="Delete raw events and rejected events received more than RETENTION_DAYS days ago, "
    "in every raw store."
)
def delete_expired_raw_events(
    context: dg.OpExecutionContext, config: RetentionConfig, raw_events_store: RawEventStore
) -> dg.Output[int]:
    stores = raw_events_store.stores
    days = config.days if config.days is not None else raw_events_store.retention_days
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
        "rejected_rows_removed": report.rejected_rows_removed,
        "stores": ", ".join(report.stores) or "none",
    }
    context.log.info(
        f"retention: {report.rows_removed} raw events and {report.rejected_rows_removed} rejected events"
        f" received before {report.cutoff}"
    )
    if not config.dry_run:
        context.log_event(dg.AssetObservation(asset_key=RAW_EVENTS_KEY, metadata=metadata))
    return dg.Output(report.rows_removed, metadata=metadata)


@dg.op(description="Merge the embedded store's small Parquet files (one per group commit) into large ones.")
def compact_embedded_raw_events(
    context: dg.OpExecutionContext, config: CompactionConfig, raw_events_store: RawEventStore
) -> dg.Output[int]:
    stores = raw_events_store.stores
    if not stores.has_embedded_events:
        context.log.info("no embedded store: nothing to compact")
        return dg.Output(0, metadata={"files_before": 0, "files_after": 0})
    report = compact_store(stores.events_dir, target_rows=config.target_rows)
    context.log.info(f"compaction: {report.files_before} files -> {report.files_after}")
    return dg.Output(report.files_before - report.files_after, metadata=report.as_dict())


@dg.op(description="Write everything stored about one user as one JSON document under $DATA_DIR/exports/.")
def export_user_data(
    context: dg.OpExecutionContext, config: UserConfig, raw_events_store: RawEventStore, warehouse: Warehouse
) -> str:
    try:
        user_id = validate_user_id(config.user_id)
        document = export_user(raw_events_store.stores, warehouse.target, user_id)
    except LifecycleError as exc:
        raise _failure(exc) from exc
    path = write_export(document, raw_events_store.exports_dir / export_file_name(user_id, datetime.now(UTC)))
    context.add_output_metadata(
        {
            "path": dg.MetadataValue.path(str(path)),
            "raw_events": len(document["raw_events"]),
            "rejected_events": len(document["rejected_events"]),
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
    context: dg.OpExecutionContext,
    config: ErasureConfig,
    raw_events_store: RawEventStore,
    warehouse: Warehouse,
) -> tuple[str, str | None]:
    stores = raw_events_store.stores
    try:
        user_id = validate_user_id(config.user_id)
        if config.as_of is not None:
            validate_as_of(config.as_of)  # before anything is deleted
        # no build may read raw between the deletion and the erasure's own rebuild's view of it
        with warehouse.writer_lock(on_wait=context.log.info):
            report = erase_raw_events(stores, user_id)
            logged_at = record_request(stores, user_id, "erase")
    except LifecycleError as exc:
        raise _failure(exc) from exc
    metadata = {
        "raw_rows_removed": report.rows_removed,
        "own_events": report.own_events,
        "stitched_events": report.stitched_events,
        "rejected_rows_removed": report.rejected_rows_removed,
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
    context: dg.OpExecutionContext, erased: tuple[str, str | None], dbt: DbtCliResource, warehouse: Warehouse
):
    user_id, as_of = erased
    target = warehouse.target
    if not target.exists():
        context.log.info("the warehouse has never been built: nothing derived from the user to remove")
        yield dg.Output(0)
        return
    try:
        with warehouse.writer_lock(on_wait=context.log.info), warehouse.dbt_environment():
            # materializations of the rebuilt models are recorded on the dbt assets
            yield from dbt.cli(
                ["run", *as_of_vars(as_of)],
                context=context,
                manifest=dbt_project().manifest_path,
                dagster_dbt_translator=OP_TRANSLATOR,
            ).stream()
        rows_left = mart_rows_left(target, user_id)
    except Exception as exc:  # noqa: BLE001 - dbt's own error, plus how to finish the erasure
        raise dg.Failure(description=f"{exc}\n{retry_hint(user_id)}", allow_retries=False) from exc
    yield dg.Output(
        sum(rows_left.values()),
        metadata={"warehouse": target.describe(), "per_user_mart_rows_left": sum(rows_left.values())},
    )


@dg.op(
    description="Publish a snapshot of the rebuilt marts and delete every older one, so no published "
    "snapshot holds the erased user's rows (SPEC section 7); without a warehouse, delete them all.",
    pool=WAREHOUSE_POOL,
)
def republish_snapshots_without_user(
    context: dg.OpExecutionContext, rows_left: int, warehouse: Warehouse
) -> dg.Output[int]:
    del rows_left  # the rebuild's result: this op runs after it, and only when it succeeded
    try:
        with warehouse.writer_lock(on_wait=context.log.info):
            published, deleted = publish_after_erasure(warehouse.target, on_warning=context.log.warning)
    except LifecycleError as exc:
        raise _failure(exc) from exc
    done = f"snapshot {published.build_id} published" if published else "no warehouse to publish from"
    context.log.info(f"{done}; {len(deleted)} older snapshot(s) deleted")
    return dg.Output(
        len(deleted),
        metadata={"snapshot": published.build_id if published else "none", "snapshots_deleted": len(deleted)},
    )


@dg.op(description="Opt a user out (their events are dropped at ingest from now on) or back in.")
def record_privacy_request(
    context: dg.OpExecutionContext, config: PrivacyRequestConfig, raw_events_store: RawEventStore
):
    try:
        requested_at = record_request(
            raw_events_store.stores, validate_user_id(config.user_id), config.action
        )
    except LifecycleError as exc:
        raise _failure(exc) from exc
    context.add_output_metadata({"action": config.action, "requested_at": requested_at.isoformat()})
