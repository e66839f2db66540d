"""The raw stores' checks: the newest event must be recent (or the ingest is not receiving), and
few of the events received lately may have been rejected (seed 004's failed-event alert, SPEC §11)."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration.defs.shared_names import RAW_EVENTS_KEY, REJECTED_EVENTS_KEY
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


def rejection_rate_verdict(rejected: int, accepted: int, max_rate: float, window: str) -> tuple[bool, str]:
    """Passes while rejected / (rejected + accepted) is at most `max_rate`; no events, nothing to judge
    (the raw events' freshness check is the one that says the ingest went quiet)."""
    total = rejected + accepted
    if total == 0:
        return True, f"no events received in the last {window}"
    rate = rejected / total
    summary = f"{rejected} of {total} events rejected in the last {window} ({rate:.1%}, limit {max_rate:.1%})"
    if rate <= max_rate:
        return True, summary
    return False, (
        f"{summary}: look at raw.rejected_events' `reason` and `error` (a client sending a new event "
        "type, a broken SDK release?); once the cause is fixed, `python -m ingest_service replay-rejected`"
    )


def build_rejection_rate_check(max_rate: float, window_hours: float) -> dg.AssetChecksDefinition:
    window = timedelta(hours=window_hours)
    window_text = f"{window_hours:g} h"

    @dg.asset_check(
        asset=REJECTED_EVENTS_KEY,
        name="rejection_rate_is_low",
        description=(
            f"At most {max_rate:.1%} (REJECTION_RATE_MAX) of the events received in the last "
            f"{window_text} (REJECTION_RATE_WINDOW_HOURS) were rejected; reads both stores."
        ),
    )
    def rejection_rate_is_low(raw_events_store: RawEventStore) -> dg.AssetCheckResult:
        since = datetime.now(UTC) - window
        rejected = raw_events_store.rejected_summary(received_after=since).row_count
        accepted = raw_events_store.summary(received_after=since).row_count
        passed, message = rejection_rate_verdict(rejected, accepted, max_rate, window_text)
        total = rejected + accepted
        return dg.AssetCheckResult(
            passed=passed,
            description=message,
            metadata={
                "summary": message,
                "rejected": rejected,
                "accepted": accepted,
                "rejection_rate": rejected / total if total else 0.0,
                "max_rate": max_rate,
            },
        )

    return rejection_rate_is_low
