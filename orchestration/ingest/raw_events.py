"""The raw events as a Dagster asset: the ingest service writes them, Dagster records their state.

Materializing the asset does not move data (the ingest service appends continuously); it records
the row count and the newest `received_at`, so the UI shows how much has landed and when. Its key
is the dbt source's (`raw/interaction_events`), which puts it upstream of the staging model.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration.resources import RawEventsSummary, RawEventStore

RAW_EVENTS_KEY = dg.AssetKey(["raw", "interaction_events"])

#: The privacy log (opt-out / opt-in / erase) is written by the ingest service and the lifecycle
#: jobs, never by a Dagster asset: declared so the UI shows where staging's opt-outs come from.
PRIVACY_EVENTS_SPEC = dg.AssetSpec(
    ["raw", "user_privacy_events"],
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


def freshness_verdict(summary: RawEventsSummary, max_lag: timedelta, now: datetime) -> tuple[bool, str]:
    """Fresh when the newest event was received within `max_lag` of `now`."""
    if summary.latest_received_at is None:
        return False, "no raw events have been received yet"
    lag = now - summary.latest_received_at
    hours = lag.total_seconds() / 3600
    if lag <= max_lag:
        return True, f"newest event received {hours:.2f} h ago (limit {max_lag.total_seconds() / 3600:g} h)"
    return False, (
        f"newest event received {hours:.2f} h ago, over the {max_lag.total_seconds() / 3600:g} h limit: "
        "is the ingest service running and receiving traffic?"
    )


def build_raw_events_freshness_check(max_lag_hours: float) -> dg.AssetChecksDefinition:
    max_lag = timedelta(hours=max_lag_hours)

    @dg.asset_check(
        asset=RAW_EVENTS_KEY,
        name="raw_events_are_fresh",
        description=(
            f"The newest raw event was received at most {max_lag_hours:g} h ago "
            "(RAW_EVENTS_MAX_LAG_HOURS); reads the store itself, not the last materialization."
        ),
    )
    def raw_events_are_fresh(raw_events_store: RawEventStore) -> dg.AssetCheckResult:
        summary = raw_events_store.summary()
        passed, message = freshness_verdict(summary, max_lag, datetime.now(UTC))
        metadata: dict[str, dg.RawMetadataValue] = {"summary": message, "row_count": summary.row_count}
        if summary.latest_received_at is not None:
            metadata["latest_received_at"] = dg.MetadataValue.timestamp(summary.latest_received_at)
        return dg.AssetCheckResult(
            passed=passed, severity=dg.AssetCheckSeverity.WARN, description=message, metadata=metadata
        )

    return raw_events_are_fresh
