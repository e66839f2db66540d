"""The raw events as a Dagster asset: the ingest service writes them, Dagster records their state.

Materializing the asset does not move data (the ingest service appends continuously); it records
the row count and the newest `received_at`, so the UI shows how much has landed and when. Its key
is the dbt source's (`raw/interaction_events`), which puts it upstream of the staging model.
"""

import dagster as dg

from orchestration.defs.shared_names import PRIVACY_EVENTS_KEY, RAW_EVENTS_KEY
from orchestration.resources import RawEventStore

#: The privacy log (opt-out / opt-in / erase) is written by the ingest service and the lifecycle
#: jobs, never by a Dagster asset: declared so the UI shows where staging's opt-outs come from.
PRIVACY_EVENTS_SPEC = dg.AssetSpec(
    PRIVACY_EVENTS_KEY,
    group_name="ingest",
    description=(
        "Privacy requests (SPEC section 7): PostgreSQL `raw.user_privacy_events` or Parquet under "
        "`$DATA_DIR/raw/user_privacy_events`; written by the ingest service and the lifecycle jobs."
    ),
)


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
