"""The new-events sensor: starts an incremental pipeline run once enough new raw events have arrived.

The cursor is the newest `received_at` the sensor has acted on. A tick counts the events received
after it; below the threshold it skips and keeps the cursor, so small trickles add up until they
are worth a run. The run key is that newest `received_at`, so a tick evaluated twice (daemon
restart) never starts the same run twice.
"""

from dataclasses import dataclass
from datetime import datetime

import dagster as dg

from orchestration.resources import RawEventsSummary, RawEventStore


@dataclass(frozen=True)
class NewEventsDecision:
    should_run: bool
    cursor: str | None
    message: str


def parse_cursor(cursor: str | None) -> datetime | None:
    return datetime.fromisoformat(cursor) if cursor else None


def decide_on_new_events(
    cursor: str | None, new_events: RawEventsSummary, threshold: int
) -> NewEventsDecision:
    """`new_events` is the store's summary of rows received after `cursor`."""
    if new_events.row_count >= threshold and new_events.latest_received_at is not None:
        return NewEventsDecision(
            should_run=True,
            cursor=new_events.latest_received_at.isoformat(),
            message=f"{new_events.row_count} new events (threshold {threshold})",
        )
    return NewEventsDecision(
        should_run=False,
        cursor=cursor,
        message=f"{new_events.row_count} new events since {cursor or 'the start'}, waiting for {threshold}",
    )


def build_new_events_sensor(job_name: str, threshold: int, interval_seconds: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="new_events_sensor",
        job_name=job_name,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Starts `{job_name}` when at least {threshold} raw events arrived since the last run "
            "it started (NEW_EVENTS_THRESHOLD)."
        ),
    )
    def new_events_sensor(context: dg.SensorEvaluationContext, raw_events_store: RawEventStore):
        new_events = raw_events_store.summary(received_after=parse_cursor(context.cursor))
        decision = decide_on_new_events(context.cursor, new_events, threshold)
        if not decision.should_run:
            return dg.SkipReason(decision.message)
        context.update_cursor(decision.cursor)
        return dg.RunRequest(
            run_key=f"new-events-{decision.cursor}",
            tags={"trigger": "new_events", "new_events": str(new_events.row_count)},
        )

    return new_events_sensor
