"""Delete one user's data from every raw store (the first half of an erasure, SPEC section 7).

The user's data is one set (`user_data.find_user_data`): their own events and the events whose
resolved user is them — the anonymous events before their login in a session, and those of the
browsers they identified on first — over every stored event. Every stored delivery of those events
goes, and so do the rejected events they sent (by their user id, or, without one, from their
sessions or browsers). The deleted event ids are recorded in `raw.erased_events`
(`raw/erased_events/`): random ids and a time, nothing that names the person, so the warehouse
deletes exactly those and nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from ingest_service.storage.locations import RawStores
from ingest_service.storage.parquet_files import write_parquet_atomically
from ingest_service.storage.raw_schema import (
    ERASED_EVENTS_ARROW_SCHEMA,
    ERASED_EVENTS_RELATION,
    REJECTED_EVENTS_RELATION,
)
from ingest_service.upkeep.embedded_rewrite import RemovalReport, RewriteReport, remove_rows
from ingest_service.upkeep.postgres_store import RAW_EVENTS_RELATION, connect, has_raw_tables
from ingest_service.upkeep.user_data import (
    REJECTED_OF_USER_SQL,
    UserData,
    find_user_data,
    rejected_of_user_mask,
    rejected_of_user_parameters,
)


@dataclass(kw_only=True)
class RawErasureReport(RemovalReport):
    user_id: str
    own_events: int = 0
    stitched_events: int = 0
    rejected_rows_removed: int = 0
    embedded_rejected: RewriteReport | None = field(default=None, repr=False)

    def as_dict(self) -> dict:
        document = asdict(self) | {"rows_removed": self.rows_removed}
        document.pop("embedded_rejected")
        return document


def erase_raw_events(stores: RawStores, user_id: str, dry_run: bool = False) -> RawErasureReport:
    """Delete every stored delivery of the user's data; running it again finds nothing more."""
    data = find_user_data(stores, user_id)
    report = RawErasureReport(
        user_id=user_id,
        stores=stores.describe(),
        own_events=len(data.own_event_ids),
        stitched_events=len(data.stitched_event_ids),
    )
    event_ids = sorted(data.event_ids)
    if event_ids and not dry_run:
        _record_erased(stores, event_ids)
    if stores.database_url:
        report.postgres_rows_removed, report.rejected_rows_removed = _erase_postgres(
            stores, data, event_ids, dry_run
        )
    if stores.has_embedded_events:
        report.embedded = remove_rows(
            stores.events_dir,
            columns=["event_id"],
            removal_mask=lambda table: pc.is_in(table["event_id"], pa.array(event_ids, pa.string())),
            dry_run=dry_run,
        )
    if stores.rejected_dir.is_dir():
        report.embedded_rejected = remove_rows(
            stores.rejected_dir,
            columns=["user_id", "session_id", "anonymous_id"],
            removal_mask=lambda table: rejected_of_user_mask(table, data),
            dry_run=dry_run,
        )
        report.rejected_rows_removed += report.embedded_rejected.rows_removed
    return report


def _erase_postgres(
    stores: RawStores, data: UserData, event_ids: list[str], dry_run: bool
) -> tuple[int, int]:
    with connect(stores) as connection:
        if not has_raw_tables(connection):
            return 0, 0
        verb = "select count(*) from" if dry_run else "with gone as (delete from"
        end = "" if dry_run else " returning 1) select count(*) from gone"
        events = connection.execute(
            f"{verb} {RAW_EVENTS_RELATION} where event_id = any(%s::uuid[]){end}", (event_ids,)
        ).fetchone()[0]
        rejected = connection.execute(
            f"{verb} {REJECTED_EVENTS_RELATION} where {REJECTED_OF_USER_SQL}{end}",
            rejected_of_user_parameters(data),
        ).fetchone()[0]
    return int(events), int(rejected)


def _record_erased(stores: RawStores, event_ids: list[str]) -> None:
    """Before the deletion: a crash in between leaves ids recorded whose rows still exist, which
    the warehouse skips (it deletes only deliveries raw no longer holds); the reverse would not."""
    erased_at = datetime.now(UTC)
    if stores.database_url:
        with connect(stores) as connection, connection.cursor() as cursor:
            if has_raw_tables(connection):
                cursor.executemany(
                    f"insert into {ERASED_EVENTS_RELATION} (event_id, erased_at) values (%s, %s)",
                    [(event_id, erased_at) for event_id in event_ids],
                )
    if stores.has_embedded_events or not stores.database_url:
        table = pa.Table.from_pydict(
            {"event_id": event_ids, "erased_at": [erased_at] * len(event_ids)},
            schema=ERASED_EVENTS_ARROW_SCHEMA,
        )
        write_parquet_atomically(stores.erased_dir, table)
