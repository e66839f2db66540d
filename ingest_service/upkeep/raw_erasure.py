"""Delete one user's raw events from every raw store (the first half of an erasure).

"Their events" are the rows whose `user_id` is the user: the only link the raw store has to a
person (no IP, fingerprint or location is ever stored, SPEC section 1). Anonymous events of the
same browser session carry no user id and stay, as they would for any other visitor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pyarrow.compute as pc

from ingest_service.storage.locations import RawStores
from ingest_service.upkeep.embedded_rewrite import RemovalReport, remove_rows
from ingest_service.upkeep.postgres_store import RAW_EVENTS_RELATION, connect, has_raw_tables


@dataclass(kw_only=True)
class RawErasureReport(RemovalReport):
    user_id: str

    def as_dict(self) -> dict:
        return asdict(self) | {"rows_removed": self.rows_removed}


def erase_raw_events(stores: RawStores, user_id: str, dry_run: bool = False) -> RawErasureReport:
    """Delete every raw event of `user_id`; running it again finds nothing and removes nothing."""
    report = RawErasureReport(user_id=user_id, stores=stores.describe())
    if stores.database_url:
        with connect(stores) as connection:
            removed = 0
            if has_raw_tables(connection):
                sql = (
                    f"select count(*) from {RAW_EVENTS_RELATION} where user_id = %s"
                    if dry_run
                    else f"with gone as (delete from {RAW_EVENTS_RELATION} where user_id = %s returning 1)"
                    " select count(*) from gone"
                )
                removed = connection.execute(sql, (user_id,)).fetchone()[0]
            report.postgres_rows_removed = int(removed)
    if stores.has_embedded_events:
        report.embedded = remove_rows(
            stores.events_dir,
            columns=["user_id"],
            removal_mask=lambda table: pc.equal(table["user_id"], user_id),
            dry_run=dry_run,
        )
    return report
