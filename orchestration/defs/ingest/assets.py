"""The raw stores as Dagster assets: the ingest service writes them, Dagster records their state.

Materializing the asset does not move data (the ingest service appends continuously); it records
the row count and the newest `received_at`, so the UI shows how much has landed and when. Its key
is the dbt source's (`raw/interaction_events`), which puts it upstream of the staging model.

The privacy log and the rejected events are observable source assets: Dagster never writes them,
an observation records their size and newest row. Every pipeline job observes them (so the UI shows
their state after each build instead of "never materialized"), and "Observe sources" does it by hand.
"""

import dagster as dg

from ingest_service.storage.raw_schema import PRIVACY_EVENTS_RELATION, REJECTED_EVENTS_RELATION
from orchestration.defs.shared_names import PRIVACY_EVENTS_KEY, RAW_EVENTS_KEY, REJECTED_EVENTS_KEY
from orchestration.resources import RawEventsSummary, RawEventStore


def _observation(summary: RawEventsSummary, location: str, time_column: str) -> dg.ObserveResult:
    """An observation of an external store: its size and newest row; the data version changes
    exactly when rows were added or removed, so the UI tells an unchanged store from a new one."""
    metadata: dict[str, dg.RawMetadataValue] = {"dagster/row_count": summary.row_count, "store": location}
    latest = summary.latest_received_at
    if latest is not None:
        metadata[f"latest_{time_column}"] = dg.MetadataValue.timestamp(latest)
    version = f"{summary.row_count}@{latest.isoformat() if latest else '-'}"
    return dg.ObserveResult(metadata=metadata, data_version=dg.DataVersion(version))


@dg.observable_source_asset(
    key=PRIVACY_EVENTS_KEY,
    group_name="ingest",
    description=(
        "Privacy requests (SPEC section 7): PostgreSQL `raw.user_privacy_events` or Parquet under "
        "`$DATA_DIR/raw/user_privacy_events`; written by the ingest service and the lifecycle jobs, "
        "never by Dagster. Observing records the row count and the newest request."
    ),
)
def raw_user_privacy_events(raw_events_store: RawEventStore) -> dg.ObserveResult:
    raw_events_store.ensure_embedded_store()
    location = _location(raw_events_store, PRIVACY_EVENTS_RELATION, raw_events_store.stores.privacy_dir)
    return _observation(raw_events_store.privacy_summary(), location, "requested_at")


@dg.observable_source_asset(
    key=REJECTED_EVENTS_KEY,
    group_name="ingest",
    description=(
        "Events answered with a per-event error (SPEC section 11), kept for inspection and replay "
        "(`python -m ingest_service replay-rejected`): PostgreSQL `raw.rejected_events` or Parquet "
        "under `$DATA_DIR/raw/rejected_events`, written by the ingest service. Observing records the "
        "row count and the newest rejection; a check watches the rejection rate."
    ),
)
def raw_rejected_events(raw_events_store: RawEventStore) -> dg.ObserveResult:
    raw_events_store.ensure_embedded_store()
    location = _location(raw_events_store, REJECTED_EVENTS_RELATION, raw_events_store.stores.rejected_dir)
    return _observation(raw_events_store.rejected_summary(), location, "received_at")


def _location(store: RawEventStore, relation: str, directory) -> str:
    return f"PostgreSQL {relation}" if store.database_url else str(directory)


@dg.asset(
    key=RAW_EVENTS_KEY,
    group_name="ingest",
    kinds={"python"},
    description=(
        "Canonical interaction events appended by the ingest service (SPEC section 1): PostgreSQL "
        "`raw.interaction_events` in production, immutable Parquet files under "
        "`$DATA_DIR/raw/interaction_events` locally. Materializing records the row count."
    ),
)
def raw_interaction_events(raw_events_store: RawEventStore) -> dg.MaterializeResult:
    raw_events_store.ensure_embedded_store()
    summary = raw_events_store.summary()
    metadata: dict[str, dg.RawMetadataValue] = {
        "dagster/row_count": summary.row_count,
        "store": raw_events_store.location,
    }
    if summary.latest_received_at is not None:
        metadata["latest_received_at"] = dg.MetadataValue.timestamp(summary.latest_received_at)
    return dg.MaterializeResult(metadata=metadata)
