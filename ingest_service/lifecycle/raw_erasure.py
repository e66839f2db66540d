"""Delete one user's raw events from every raw store (the first half of an erasure).

"Their events" are the rows whose `user_id` is the user: the only link the raw store has to a
person (no IP, fingerprint or location is ever stored, SPEC section 1). Anonymous events of the
same browser session carry no user id and stay, as they would for any other visitor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pyarrow.compute as pc

from ingest_service.lifecycle.embedded_rewrite import RewriteReport, remove_rows
from ingest_service.lifecycle.stores import POSTGRES_EVENTS, RawStores, postgres_has_raw_tables


@dataclass
class RawErasureReport:
    user_id: str
    postgres_rows_removed: int | None = None
    embedded: RewriteReport | None = None
    stores: list[str] = field(default_factory=list)

    @property
    def rows_removed(self) -> int:
        return (self.postgres_rows_removed or 0) + (self.embedded.rows_removed if self.embedded else 0)

    def as_dict(self) -> dict:
        return asdict(self) | {"rows_removed": self.rows_removed}


def erase_raw_events(stores: RawStores, user_id: str, dry_run: bool = False) -> RawErasureReport:
    """Delete every raw event of `user_id`; running it again finds nothing and removes nothing."""
    report = RawErasureReport(user_id=user_id, stores=stores.describe())
    if stores.database_url:
        with stores.connect() as connection:
            removed = 0
            if postgres_has_raw_tables(connection):
                sql = (
                    f"select count(*) from {POSTGRES_EVENTS} where user_id = %s"
                    if dry_run
                    else f"with gone as (delete from {POSTGRES_EVENTS} where user_id = %s returning 1)"
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
