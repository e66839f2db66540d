"""The raw events' freshness check: the newest event must be recent, or the ingest is not receiving."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration.defs.shared_names import RAW_EVENTS_KEY
from orchestration.resources import RawEventsSummary, RawEventStore


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
