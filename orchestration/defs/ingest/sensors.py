"""The new-events sensor: starts an incremental pipeline run once enough new raw events have arrived.

New means received after what the warehouse last processed (`WarehouseTarget.processed_through`)
or after the sensor's own cursor (the newest `received_at` of the run it last started), whichever
is later. The warehouse's side makes a fresh sensor on a built warehouse (`make dev` right after
`make quickstart`) wait for events that are really new instead of counting all of them; the cursor
keeps it from starting a second run for the same events while the first is still queued. A tick
counts the events received after that point; below the threshold it skips, so small trickles add
up until they are worth a run. The run key is the newest `received_at`, so a tick evaluated twice
(daemon restart) never starts the same run twice.
"""

from dataclasses import dataclass
from datetime import datetime

import dagster as dg

from ingest_service.upkeep.errors import LifecycleError
from orchestration.resources import RawEventsSummary, RawEventStore, Warehouse


@dataclass(frozen=True)
class NewEventsDecision:
    should_run: bool
    cursor: str | None
    message: str


def parse_cursor(cursor: str | None) -> datetime | None:
    return datetime.fromisoformat(cursor) if cursor else None


def counting_from(cursor: str | None, processed_through: datetime | None) -> str | None:
    """The later of the sensor's cursor and what the warehouse processed, as a cursor."""
    own = parse_cursor(cursor)
    if processed_through is None or (own is not None and own >= processed_through):
        return cursor
    return processed_through.isoformat()


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


def build_new_events_sensor(
    job_name: str,
    threshold: int,
    interval_seconds: int,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    @dg.sensor(
        name="new_events_sensor",
        job_name=job_name,
        minimum_interval_seconds=interval_seconds,
        default_status=default_status,
        description=(
            f"Starts `{job_name}` when at least {threshold} raw events arrived after what the "
            "warehouse last processed and after the last run it started (NEW_EVENTS_THRESHOLD)."
        ),
    )
    def new_events_sensor(
        context: dg.SensorEvaluationContext, raw_events_store: RawEventStore, warehouse: Warehouse
    ):
        try:
            processed = warehouse.target.processed_through()
        except LifecycleError as error:  # a build holds the DuckDB file: it is processing already
            return dg.SkipReason(f"the warehouse cannot be read now ({error}); trying again next tick")
        cursor = counting_from(context.cursor, processed)
        new_events = raw_events_store.summary(received_after=parse_cursor(cursor))
        decision = decide_on_new_events(cursor, new_events, threshold)
        if not decision.should_run:
            if cursor != context.cursor:
                context.update_cursor(cursor)  # shows in the UI where counting starts
            return dg.SkipReason(decision.message)
        context.update_cursor(decision.cursor)
        return dg.RunRequest(
            run_key=f"new-events-{decision.cursor}",
            tags={"trigger": "new_events", "new_events": str(new_events.row_count)},
        )

    return new_events_sensor
