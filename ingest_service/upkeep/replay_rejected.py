"""Replay the rejected events (SPEC §11): validate each again, as it was received, once its cause is
fixed (a limit raised, a new event type deployed); the accepted ones move to the raw events.

Each rejected row is validated with the rules of this version and settings, in the context its
request had (`request_context`: API key or not, User-Agent, `sentAt` offset, index; the verified
user and the session the row kept), with the `received_at` of its request, so `occurred_at` and the
age limit come out as they would have then. Accepted events are written with `received_at` = the
replay's time: that is when they entered the raw store, and the warehouse reads new events by
arrival, so the next incremental run picks them up. Still-invalid ones stay, with their new error.
A row whose event was cut at 8 KiB (`event_truncated`) is no longer JSON: it stays as it is.

Exactly once. The raw row gets the event's own `eventId`, or, for an event sent without one, an id
derived from its `rejection_id` (uuid5), so every replay of a row produces the same id. A replay
writes only the accepted events whose id is not already in the raw events (received since the
row's request), then removes their rejected rows:
- PostgreSQL: the insert, the removal and the new errors are one transaction, under an advisory
  lock that also keeps two replays apart; a crash leaves all or nothing.
- Embedded: the raw events get one new immutable file, then the rejected files holding replayed
  rows are rewritten without them (atomic renames), all under the rejected store's lifecycle lock
  (retention and erasure wait; so does a second replay). A crash between the two writes leaves
  the rows in the rejected store, and the next replay finds their ids in the raw events and only
  removes them.
The warehouse deduplicates by event id as well, so even a client resending the same event later
never counts it twice.

Opted-out users: their accepted events are not written (as at ingest) and their rejected rows go.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingest_service.errors import Problem
from ingest_service.identity import Caller
from ingest_service.ingest import ANALYTICS, TRACK
from ingest_service.settings import SecuritySettings
from ingest_service.storage.bulk_load import append_rows_parquet, copy_rows_postgres
from ingest_service.storage.locations import RawStores
from ingest_service.storage.parquet_files import write_parquet_atomically
from ingest_service.storage.privacy_log import opted_out_users
from ingest_service.storage.raw_schema import (
    RAW_EVENTS_RELATION,
    REJECTED_EVENT_COLUMN_NAMES,
    REJECTED_EVENTS_ARROW_SCHEMA,
    REJECTED_EVENTS_RELATION,
)
from ingest_service.upkeep.embedded_rewrite import data_files, store_lock
from ingest_service.upkeep.errors import LifecycleError
from ingest_service.upkeep.postgres_store import connect, has_raw_tables
from ingest_service.validation import (
    RequestContext,
    Row,
    analytics_event_to_row,
    track_interaction_to_row,
)

#: namespace of the event ids a replay gives events sent without one (uuid5 of the rejection id)
REPLAY_EVENT_ID_NAMESPACE = uuid.UUID("6f1d3c1e-3f57-4bf4-9a53-7d0cbbd1a4a1")
_NORMALIZERS = {ANALYTICS: analytics_event_to_row, TRACK: track_interaction_to_row}
_LOCK_SQL = "select pg_advisory_xact_lock(hashtext('interaction_pipeline.replay_rejected'))"


@dataclass
class ReplayReport:
    """What a replay did (or, on a dry run, would do)."""

    dry_run: bool
    since: datetime | None
    store: str
    examined: int = 0
    accepted: int = 0
    """Rejected rows that pass validation now; each is written, found already written, or dropped."""
    written: int = 0
    """Accepted ones written to the raw events now."""
    already_in_raw_events: int = 0
    """Accepted ones whose event id was already stored (an interrupted replay, a client's resend)."""
    dropped_opted_out: int = 0
    """Accepted ones of opted-out users: not written, their rejected row removed."""
    still_rejected: int = 0
    not_replayable: int = 0
    """Rows whose event was cut at 8 KiB when kept: no longer the event as sent."""
    still_rejected_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["since"] = self.since.isoformat() if self.since else None
        return document


@dataclass(frozen=True)
class _Outcome:
    rejection_id: str
    row: Row | None  # the raw row when accepted
    problems: list[Problem]


def _context(rejected: Row, security: SecuritySettings) -> tuple[RequestContext, int, str]:
    context = json.loads(rejected["request_context"] or "{}")
    offset = context.get("clock_offset_us")
    received_at = rejected["received_at"].astimezone(UTC)
    ctx = RequestContext(
        received_at=received_at,
        caller=Caller(user_id=rejected["user_id"], is_server_client=bool(context.get("server_client"))),
        header_user_agent=context.get("user_agent"),
        cookie_session_id=rejected["session_id"],
        clock_offset=None if offset is None else timedelta(microseconds=offset),
        max_age_without_key=security.max_event_age_without_key,
    )
    index = int(context.get("index", 0))
    default_label = "events" if rejected["endpoint"] == ANALYTICS else "interactions"
    return ctx, index, context.get("label") or f"{default_label}[{index}]"


def _sent_event_id(event: Any) -> bool:
    return isinstance(event, dict) and any(event.get(name) is not None for name in ("eventId", "event_id"))


def validate_again(rejected: Row, security: SecuritySettings) -> _Outcome | None:
    """The rejected row validated by today's rules; None when it cannot be replayed (truncated)."""
    if rejected["event_truncated"]:
        return None
    event = json.loads(rejected["event"])
    normalize = _NORMALIZERS.get(rejected["endpoint"])
    if normalize is None:
        raise LifecycleError(f"rejected event {rejected['rejection_id']} has unknown endpoint")
    ctx, index, label = _context(rejected, security)
    row, problems = normalize(event, index, label, ctx)
    if row is not None and not _sent_event_id(event):
        row["event_id"] = str(uuid.uuid5(REPLAY_EVENT_ID_NAMESPACE, str(rejected["rejection_id"])))
    return _Outcome(str(rejected["rejection_id"]), row, problems)


@dataclass
class _Plan:
    """The replay's changes, computed before any write."""

    to_write: list[Row] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    """rejection ids leaving the rejected store"""
    new_errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    """rejection id → (reason, error) of rows still rejected with another error"""


def _plan(
    report: ReplayReport,
    rejected_rows: Sequence[Row],
    security: SecuritySettings,
    stored_ids: Any,
    opted_out: Any,
    now: datetime,
) -> _Plan:
    """`stored_ids(ids, since)` → the ids already in the raw events; `opted_out(users)` → opted-out users."""
    plan = _Plan()
    accepted: list[_Outcome] = []
    by_id = {str(row["rejection_id"]): row for row in rejected_rows}
    for rejected in rejected_rows:
        report.examined += 1
        outcome = validate_again(rejected, security)
        if outcome is None:
            report.not_replayable += 1
        elif outcome.row is not None:
            accepted.append(outcome)
        else:
            report.still_rejected += 1
            reason = outcome.problems[0].reason
            report.still_rejected_reasons[reason] = report.still_rejected_reasons.get(reason, 0) + 1
            error = "; ".join(problem.message for problem in outcome.problems)
            if (reason, error) != (rejected["reason"], rejected["error"]):
                plan.new_errors[outcome.rejection_id] = (reason, error)
    if not accepted:
        return plan
    report.accepted = len(accepted)
    oldest = min(by_id[outcome.rejection_id]["received_at"] for outcome in accepted)
    already = stored_ids([outcome.row["event_id"] for outcome in accepted], oldest)
    users = {outcome.row["user_id"] for outcome in accepted if outcome.row["user_id"]}
    excluded = opted_out(sorted(users)) if users else set()
    for outcome in accepted:
        plan.remove.append(outcome.rejection_id)
        if outcome.row["user_id"] in excluded:
            report.dropped_opted_out += 1
        elif outcome.row["event_id"] in already:
            report.already_in_raw_events += 1
        else:
            plan.to_write.append(outcome.row | {"received_at": now})
    report.written = len(plan.to_write)
    return plan


def replay_rejected(
    stores: RawStores,
    security: SecuritySettings,
    since: datetime | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ReplayReport:
    """Replay the rejected events received at or after `since` (all when None) of the store the
    ingest service writes to (PostgreSQL when `DATABASE_URL` is set, else the embedded store)."""
    if since is not None and since.tzinfo is None:
        raise LifecycleError("--since needs a time zone, e.g. 2026-05-01T00:00:00+00:00")
    now = now or datetime.now(UTC)
    store = "postgresql" if stores.database_url else "embedded"
    report = ReplayReport(dry_run=dry_run, since=since, store=store)
    if stores.database_url:
        _replay_postgres(stores, security, since, dry_run, now, report)
    else:
        _replay_embedded(stores, security, since, dry_run, now, report)
    return report


# --- PostgreSQL -----------------------------------------------------------------------------------


def _replay_postgres(
    stores: RawStores,
    security: SecuritySettings,
    since: datetime | None,
    dry_run: bool,
    now: datetime,
    report: ReplayReport,
) -> None:
    with connect(stores) as connection:
        if not has_raw_tables(connection):
            return
        with connection.transaction():
            connection.execute(_LOCK_SQL)
            cursor = connection.execute(
                f"select {', '.join(REJECTED_EVENT_COLUMN_NAMES)} from {REJECTED_EVENTS_RELATION}"
                " where received_at >= %s order by received_at, rejection_id",
                (since or datetime(1970, 1, 1, tzinfo=UTC),),
            )
            columns = [column.name for column in cursor.description]
            rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
            for row in rows:
                row["rejection_id"] = str(row["rejection_id"])

            def stored_ids(ids: list[str], oldest: datetime) -> set[str]:
                found = connection.execute(
                    f"select event_id::text from {RAW_EVENTS_RELATION}"
                    " where received_at >= %s and event_id = any(%s::uuid[])",
                    (oldest, ids),
                ).fetchall()
                return {value for (value,) in found}

            plan = _plan(
                report, rows, security, stored_ids, lambda users: opted_out_users(connection, users), now
            )
            if dry_run:
                return
            copy_rows_postgres(connection, plan.to_write)
            if plan.remove:
                connection.execute(
                    f"delete from {REJECTED_EVENTS_RELATION} where rejection_id = any(%s::uuid[])",
                    (plan.remove,),
                )
            with connection.cursor() as update:
                update.executemany(
                    f"update {REJECTED_EVENTS_RELATION} set reason = %s, error = %s where rejection_id = %s",
                    [(reason, error, key) for key, (reason, error) in plan.new_errors.items()],
                )


# --- embedded -------------------------------------------------------------------------------------


def _read_embedded(stores: RawStores, since: datetime | None) -> list[Row]:
    if not data_files(stores.rejected_dir):
        return []
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        # `union_by_name`: files kept before `request_context` existed lack it
        values = connection.execute(
            f"select {', '.join(REJECTED_EVENT_COLUMN_NAMES)}"
            " from read_parquet(?, union_by_name = true) where received_at >= ?"
            " order by received_at, rejection_id",
            [str(stores.rejected_dir / "*.parquet"), since or datetime(1970, 1, 1, tzinfo=UTC)],
        ).fetchall()
    return [dict(zip(REJECTED_EVENT_COLUMN_NAMES, row, strict=True)) for row in values]


def _stored_ids_embedded(stores: RawStores, ids: list[str], oldest: datetime) -> set[str]:
    if not data_files(stores.events_dir):
        return set()
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        found = connection.execute(
            "select distinct event_id from read_parquet(?, union_by_name = true)"
            " where received_at >= ? and list_contains(?, event_id)",
            [str(stores.events_dir / "*.parquet"), oldest, ids],
        ).fetchall()
    return {value for (value,) in found}


def _rewrite_rejected(stores: RawStores, plan: _Plan) -> None:
    """Rewrite the rejected files that hold replayed rows or rows with a new error (caller holds the lock)."""
    remove = set(plan.remove)
    for path in data_files(stores.rejected_dir):
        table = pq.read_table(path)
        ids = table.column("rejection_id").to_pylist()
        if not (remove.intersection(ids) or plan.new_errors.keys() & set(ids)):
            continue
        kept = [row for row in table.to_pylist() if row["rejection_id"] not in remove]
        if not kept:
            path.unlink()
            continue
        for row in kept:
            if row["rejection_id"] in plan.new_errors:
                row["reason"], row["error"] = plan.new_errors[row["rejection_id"]]
        columns = {name: [row.get(name) for row in kept] for name in REJECTED_EVENTS_ARROW_SCHEMA.names}
        write_parquet_atomically(
            stores.rejected_dir,
            pa.Table.from_pydict(columns, schema=REJECTED_EVENTS_ARROW_SCHEMA),
            file_name=path.name,
        )


def _replay_embedded(
    stores: RawStores,
    security: SecuritySettings,
    since: datetime | None,
    dry_run: bool,
    now: datetime,
    report: ReplayReport,
) -> None:
    if not stores.rejected_dir.is_dir():
        return
    with store_lock(stores.rejected_dir):
        plan = _plan(
            report,
            _read_embedded(stores, since),
            security,
            lambda ids, oldest: _stored_ids_embedded(stores, ids, oldest),
            lambda users: opted_out_users(stores.privacy_dir, users),
            now,
        )
        if dry_run:
            return
        append_rows_parquet(stores.events_dir, plan.to_write)  # first: see the module docstring
        _rewrite_rejected(stores, plan)
