"""Retention: delete raw events and rejected events older than `RETENTION_DAYS` from every raw store.

Age is measured on `received_at`, the server's clock when the event was accepted: `occurred_at` is
the client's claim (it may lie in the past by any amount), while `received_at` is trustworthy, is
what the PostgreSQL table is indexed by, and bounds how long we have held the data. An event is
removed when `received_at < now - RETENTION_DAYS days`; one exactly at the cut-off stays.

Rejected events (SPEC section 11) expire the same way, by their own `received_at`: they are events
as sent, so they are kept no longer than the accepted ones. The privacy log is kept: it is the
record that a request was honoured and what keeps an opt-out in force.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.compute as pc

from ingest_service.settings import DEFAULT_RETENTION_DAYS
from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import REJECTED_EVENTS_RELATION
from ingest_service.upkeep.embedded_rewrite import RemovalReport, RewriteReport, column_minimum, remove_rows
from ingest_service.upkeep.errors import LifecycleError
from ingest_service.upkeep.postgres_store import RAW_EVENTS_RELATION, connect, has_raw_tables


@dataclass(kw_only=True)
class RetentionReport(RemovalReport):
    """How many raw events a retention run removed (or would remove, on a dry run): `rows_removed`
    counts raw events, `rejected_rows_removed` rejected events (both stores), as in an erasure."""

    retention_days: int
    cutoff: datetime
    dry_run: bool
    rejected_rows_removed: int = 0
    embedded_rejected: RewriteReport | None = field(default=None, repr=False)

    def as_dict(self) -> dict:
        document = asdict(self)
        document.pop("embedded_rejected")
        document["cutoff"] = self.cutoff.isoformat()
        document["rows_removed"] = self.rows_removed
        return document


def retention_cutoff(days: int, now: datetime | None = None) -> datetime:
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise LifecycleError(f"retention days must be a whole number of at least 1 (got {days!r})")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise LifecycleError("retention needs a timezone-aware 'now'")
    return now.astimezone(UTC) - timedelta(days=days)


#: Rows deleted per transaction: short transactions keep locks, WAL bursts and vacuum debt small on
#: a large table; an interrupted run leaves a consistent table and the next run goes on from there.
POSTGRES_BATCH_ROWS = 50_000


def _delete_postgres(stores: RawStores, cutoff: datetime, dry_run: bool) -> tuple[int, int]:
    """(raw events, rejected events) removed from PostgreSQL."""
    with connect(stores) as connection:
        if not has_raw_tables(connection):
            return 0, 0
        events = _delete_older(connection, RAW_EVENTS_RELATION, cutoff, dry_run)
        rejected = 0
        if has_raw_tables(connection, REJECTED_EVENTS_RELATION):
            rejected = _delete_older(connection, REJECTED_EVENTS_RELATION, cutoff, dry_run)
    return events, rejected


def _delete_older(connection: psycopg.Connection, relation: str, cutoff: datetime, dry_run: bool) -> int:
    """Rows of `relation` (indexed by `received_at`) received before `cutoff`, in batches."""
    if dry_run:
        sql = f"select count(*) from {relation} where received_at < %s"
        return int(connection.execute(sql, (cutoff,)).fetchone()[0])
    connection.commit()  # so that each batch below is its own transaction, not a savepoint
    removed = 0
    while True:
        with connection.transaction():
            batch = connection.execute(
                f"delete from {relation} where ctid = any(array("
                f" select ctid from {relation} where received_at < %s limit %s))",
                (cutoff, POSTGRES_BATCH_ROWS),
            ).rowcount
        removed += batch
        if batch < POSTGRES_BATCH_ROWS:
            return removed


def _delete_embedded(directory: Path, cutoff: datetime, dry_run: bool) -> RewriteReport:
    """Rows of the Parquet files under `directory` (raw or rejected events) received before `cutoff`."""
    cutoff_scalar = pa.scalar(cutoff, type=pa.timestamp("us", tz="UTC"))

    def holds_old_rows(metadata) -> bool:
        oldest = column_minimum(metadata, "received_at")
        return oldest is None or oldest < cutoff

    return remove_rows(
        directory,
        columns=["received_at"],
        removal_mask=lambda table: pc.less(table["received_at"], cutoff_scalar),
        may_hold_rows=holds_old_rows,
        dry_run=dry_run,
    )


def apply_retention(
    stores: RawStores,
    days: int = DEFAULT_RETENTION_DAYS,
    now: datetime | None = None,
    dry_run: bool = False,
) -> RetentionReport:
    """Delete (or with `dry_run`, count) raw and rejected events received more than `days` days
    before `now`."""
    cutoff = retention_cutoff(days, now)
    report = RetentionReport(retention_days=days, cutoff=cutoff, dry_run=dry_run, stores=stores.describe())
    if stores.database_url:
        report.postgres_rows_removed, report.rejected_rows_removed = _delete_postgres(stores, cutoff, dry_run)
    if stores.has_embedded_events:
        report.embedded = _delete_embedded(stores.events_dir, cutoff, dry_run)
    if stores.rejected_dir.is_dir():
        report.embedded_rejected = _delete_embedded(stores.rejected_dir, cutoff, dry_run)
        report.rejected_rows_removed += report.embedded_rejected.rows_removed
    return report
