"""The canonical raw event (SPEC section 1) as stored: one column list for every store.

Everything that writes or reads raw events (the ingest sinks, the dbt sources, tests, benchmarks,
the lifecycle jobs) takes the column names and types from here, so the PostgreSQL table, the
embedded Parquet files and the warehouse can never drift apart. The privacy log and the rejected
events are here too, for the same reason.
"""

from __future__ import annotations

import pyarrow as pa

RAW_SCHEMA_NAME = "raw"
RAW_EVENTS_TABLE = "interaction_events"
PRIVACY_EVENTS_TABLE = "user_privacy_events"
REJECTED_EVENTS_TABLE = "rejected_events"
ERASED_EVENTS_TABLE = "erased_events"
#: the PostgreSQL relations, schema-qualified
RAW_EVENTS_RELATION = f"{RAW_SCHEMA_NAME}.{RAW_EVENTS_TABLE}"
PRIVACY_EVENTS_RELATION = f"{RAW_SCHEMA_NAME}.{PRIVACY_EVENTS_TABLE}"
REJECTED_EVENTS_RELATION = f"{RAW_SCHEMA_NAME}.{REJECTED_EVENTS_TABLE}"
ERASED_EVENTS_RELATION = f"{RAW_SCHEMA_NAME}.{ERASED_EVENTS_TABLE}"

#: (column, PostgreSQL type, Arrow type, nullable) in table order.
RAW_EVENT_COLUMNS: tuple[tuple[str, str, pa.DataType, bool], ...] = (
    ("event_id", "uuid", pa.string(), False),
    ("received_at", "timestamptz", pa.timestamp("us", tz="UTC"), False),
    ("occurred_at", "timestamptz", pa.timestamp("us", tz="UTC"), False),
    ("session_id", "text", pa.string(), False),
    ("user_id", "text", pa.string(), True),
    ("event_type", "text", pa.string(), False),
    ("event_category", "text", pa.string(), False),
    ("perfume_id", "text", pa.string(), True),
    ("house_id", "text", pa.string(), True),
    ("post_id", "text", pa.string(), True),
    ("path", "text", pa.string(), True),
    ("referrer", "text", pa.string(), True),
    ("user_agent", "text", pa.string(), True),
    ("device_type", "text", pa.string(), False),
    ("browser", "text", pa.string(), False),
    ("os", "text", pa.string(), False),
    ("is_bot", "boolean", pa.bool_(), False),
    ("duration_ms", "integer", pa.int32(), True),
    ("scroll_depth", "integer", pa.int32(), True),
    ("value", "double precision", pa.float64(), True),
    ("source", "text", pa.string(), True),
    # JSON object text in Parquet, jsonb in PostgreSQL
    ("event_data", "jsonb", pa.string(), False),
    # Added after the first release, so last: a table created before it gets it by `alter table
    # ... add column` (appended), and both kinds of table then have the same column order. Older
    # Parquet files lack it; readers use `union_by_name`, which reads it as null there.
    ("anonymous_id", "text", pa.string(), True),  # a UUID, lower-case canonical text
)

RAW_EVENT_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, *_ in RAW_EVENT_COLUMNS)

RAW_EVENTS_ARROW_SCHEMA = pa.schema(
    [pa.field(name, arrow_type, nullable=nullable) for name, _, arrow_type, nullable in RAW_EVENT_COLUMNS]
)

#: Privacy requests (SPEC section 7): an append-only log. The current opt-out state of a user is
#: their latest opt_out/opt_in row; `erase` records that their raw events were deleted.
PRIVACY_EVENT_COLUMNS: tuple[tuple[str, str, pa.DataType, bool], ...] = (
    ("user_id", "text", pa.string(), False),
    ("action", "text", pa.string(), False),  # opt_out | opt_in | erase
    ("requested_at", "timestamptz", pa.timestamp("us", tz="UTC"), False),
)
PRIVACY_ACTIONS = ("opt_out", "opt_in", "erase")

PRIVACY_EVENTS_ARROW_SCHEMA = pa.schema(
    [pa.field(name, arrow_type, nullable=nullable) for name, _, arrow_type, nullable in PRIVACY_EVENT_COLUMNS]
)


#: Events answered with a per-event error (SPEC §11), kept for inspection and replay. Never the
#: address, the Authorization header or cookies; `event` is the event as sent, as JSON text, cut
#: to MAX_REJECTED_EVENT_BYTES (then `event_truncated`, and the text is no longer valid JSON).
REJECTED_EVENT_COLUMNS: tuple[tuple[str, str, pa.DataType, bool], ...] = (
    ("rejection_id", "uuid", pa.string(), False),
    ("received_at", "timestamptz", pa.timestamp("us", tz="UTC"), False),
    ("endpoint", "text", pa.string(), False),  # /api/analytics | /api/track
    ("reason", "text", pa.string(), False),  # the rule of the first error (metric label)
    ("error", "text", pa.string(), False),  # every message, joined by "; "
    ("user_id", "text", pa.string(), True),  # the verified identity only
    ("session_id", "text", pa.string(), True),
    ("anonymous_id", "text", pa.string(), True),
    ("event", "text", pa.string(), False),
    ("event_truncated", "boolean", pa.bool_(), False),
    # Added for the replay (after the first release, so last and nullable, as `anonymous_id` of the
    # raw events): what the request gave every event, so a replay validates the event as it was
    # received — JSON text {"server_client": bool, "user_agent": the header's or null,
    # "clock_offset_us": received_at − sentAt or null, "index": the event's index in its request,
    # "label": its name in the errors, `events[3]`}.
    # Null in rows kept before it existed (a replay then assumes a browser without a user agent).
    ("request_context", "text", pa.string(), True),
)
REJECTED_EVENT_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, *_ in REJECTED_EVENT_COLUMNS)
MAX_REJECTED_EVENT_BYTES = 8 * 1024

REJECTED_EVENTS_ARROW_SCHEMA = pa.schema(
    [
        pa.field(name, arrow_type, nullable=nullable)
        for name, _, arrow_type, nullable in REJECTED_EVENT_COLUMNS
    ]
)


#: The ids of the events an erasure deleted from the raw stores (SPEC section 7), so the warehouse
#: deletes exactly those and no other: random event ids and the time, nothing about the person
#: (the privacy log's `erase` row records whose request it was).
ERASED_EVENT_COLUMNS: tuple[tuple[str, str, pa.DataType, bool], ...] = (
    ("event_id", "text", pa.string(), False),
    ("erased_at", "timestamptz", pa.timestamp("us", tz="UTC"), False),
)
ERASED_EVENTS_ARROW_SCHEMA = pa.schema(
    [pa.field(name, arrow_type, nullable=nullable) for name, _, arrow_type, nullable in ERASED_EVENT_COLUMNS]
)


def _column_ddl(columns: tuple[tuple[str, str, pa.DataType, bool], ...]) -> str:
    return ",\n    ".join(
        f"{name} {pg_type}{'' if nullable else ' not null'}" for name, pg_type, _, nullable in columns
    )


POSTGRES_DDL = f"""
-- "if not exists" is not safe against a concurrent create (several worker processes start at
-- once): the first takes this lock for its transaction, the others wait and then find it all there
select pg_advisory_xact_lock(hashtext('interaction_pipeline.raw_schema'));

create schema if not exists {RAW_SCHEMA_NAME};

create table if not exists {RAW_SCHEMA_NAME}.{RAW_EVENTS_TABLE} (
    {_column_ddl(RAW_EVENT_COLUMNS)}
);
alter table {RAW_SCHEMA_NAME}.{RAW_EVENTS_TABLE} add column if not exists anonymous_id text;
-- the pipeline reads new events by arrival time; erasure and export look users up
create index if not exists interaction_events_received_at_idx
    on {RAW_SCHEMA_NAME}.{RAW_EVENTS_TABLE} (received_at);
create index if not exists interaction_events_user_id_idx
    on {RAW_SCHEMA_NAME}.{RAW_EVENTS_TABLE} (user_id) where user_id is not null;

create table if not exists {RAW_SCHEMA_NAME}.{PRIVACY_EVENTS_TABLE} (
    {_column_ddl(PRIVACY_EVENT_COLUMNS)},
    constraint user_privacy_events_action_check check (action in ('opt_out', 'opt_in', 'erase'))
);
create index if not exists user_privacy_events_user_idx
    on {RAW_SCHEMA_NAME}.{PRIVACY_EVENTS_TABLE} (user_id, requested_at);
create index if not exists user_privacy_events_requested_at_idx
    on {RAW_SCHEMA_NAME}.{PRIVACY_EVENTS_TABLE} (requested_at);

create table if not exists {RAW_SCHEMA_NAME}.{REJECTED_EVENTS_TABLE} (
    {_column_ddl(REJECTED_EVENT_COLUMNS)}
);
alter table {RAW_SCHEMA_NAME}.{REJECTED_EVENTS_TABLE} add column if not exists request_context text;
create index if not exists rejected_events_received_at_idx
    on {RAW_SCHEMA_NAME}.{REJECTED_EVENTS_TABLE} (received_at);
create index if not exists rejected_events_user_id_idx
    on {RAW_SCHEMA_NAME}.{REJECTED_EVENTS_TABLE} (user_id) where user_id is not null;

create table if not exists {ERASED_EVENTS_RELATION} (
    {_column_ddl(ERASED_EVENT_COLUMNS)}
);
"""
