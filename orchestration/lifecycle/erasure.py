"""Erasure (SPEC section 7): delete a user's raw events, log it, and rebuild what was derived from them.

Steps, each safe to repeat, holding the warehouse's writer lock so no build runs in between:
1. delete every stored delivery of the user's data in every raw store — their own events and the
   events resolved to them (ingest_service.upkeep.user_data), and their rejected events — after
   recording the deleted event ids in `raw.erased_events`, from which the warehouse deletes them;
2. append an `erase` row to the privacy log (the proof that the request was carried out, and the
   signal that makes the next incremental dbt run re-derive the user's rows);
3. run dbt incrementally now, then check that no per-user mart row of the user is left;
4. publish a snapshot of the rebuilt marts and delete every older one (SPEC section 7: published
   snapshots hold no erased data). Without a rebuild (`--skip-dbt`, or no warehouse yet) every
   snapshot is deleted instead: the read endpoints answer 503 until the next build publishes.

Re-running finds no raw row, logs another `erase` and rebuilds again, which is how a run whose
dbt step failed is finished. The privacy log keeps the user id: it is what proves the erasure and
keeps an opt-out in force.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ingest_service.storage.locations import RawStores
from ingest_service.upkeep.errors import LifecycleError
from ingest_service.upkeep.privacy_requests import record_request, validate_user_id
from ingest_service.upkeep.raw_erasure import RawErasureReport, erase_raw_events
from orchestration.dbt_project import run_dbt
from orchestration.snapshots import publish_after_erasure, remove_all_snapshots
from orchestration.warehouse import WarehouseTarget, as_of_vars, validate_as_of


@dataclass
class ErasureReport:
    user_id: str
    raw: RawErasureReport
    logged_at: datetime
    warehouse: str | None = None
    """The warehouse that was rebuilt, or None when it was not (never built, or not asked)."""
    mart_rows_left: dict[str, int] = field(default_factory=dict)
    snapshot: str | None = None
    """The snapshot published from the rebuilt marts (None: none could be published)."""
    snapshots_deleted: list[str] = field(default_factory=list)
    """The older snapshots deleted (every one but `snapshot`)."""

    def as_dict(self) -> dict:
        return {
            "user_id": self.user_id,
            "raw_rows_removed": self.raw.rows_removed,
            "raw": self.raw.as_dict(),
            "logged_at": self.logged_at.isoformat(),
            "warehouse": self.warehouse,
            "mart_rows_left": self.mart_rows_left,
            "snapshot": self.snapshot,
            "snapshots_deleted": self.snapshots_deleted,
        }


def retry_hint(user_id: str) -> str:
    return (
        "The raw events are deleted and the erasure is logged, but the marts may still hold the user's "
        f"rows: run `python -m orchestration.lifecycle erase {shlex.quote(user_id)}` again once dbt works."
    )


def mart_rows_left(target: WarehouseTarget, user_id: str) -> dict[str, int]:
    """The per-user mart rows of the user after the rebuild (all 0), or LifecycleError."""
    rows_left = {mart: len(rows) for mart, rows in target.rows_of_user(user_id).items()}
    if any(rows_left.values()):
        raise LifecycleError(
            f"after the dbt run the warehouse still holds rows of {user_id!r}: {rows_left}; "
            "the dbt project did not re-derive the user (check its privacy-log handling)"
        )
    return rows_left


def rebuild_warehouse_without(
    target: WarehouseTarget,
    user_id: str,
    report: ErasureReport,
    as_of: str | None = None,
    on_line: Callable[[str], None] | None = None,
) -> None:
    """Run dbt incrementally after the raw rows are gone, check no per-user mart row is left, and
    republish the snapshots (the caller holds the writer lock, so no build slips in between);
    fills `report`. Raises LifecycleError when dbt fails or a row is left."""
    try:
        run_dbt(target, ["run", *as_of_vars(as_of)], on_line=on_line)
        report.mart_rows_left = mart_rows_left(target, user_id)
        published, report.snapshots_deleted = publish_after_erasure(target, on_warning=on_line)
    except LifecycleError as exc:
        raise LifecycleError(f"{exc}\n{retry_hint(user_id)}") from exc
    report.snapshot = published.build_id if published else None
    report.warehouse = target.describe()


def erase_user(
    stores: RawStores,
    target: WarehouseTarget,
    user_id: str,
    rebuild_warehouse: bool = True,
    as_of: str | None = None,
    on_line: Callable[[str], None] | None = None,
) -> ErasureReport:
    """Erase `user_id` everywhere (see the module docstring); raises LifecycleError with what to do."""
    validate_user_id(user_id)
    if as_of is not None:
        validate_as_of(as_of)  # before anything is deleted
    with target.writer_lock(on_wait=on_line):
        raw = erase_raw_events(stores, user_id)
        report = ErasureReport(user_id=user_id, raw=raw, logged_at=record_request(stores, user_id, "erase"))
        if rebuild_warehouse and target.exists():
            rebuild_warehouse_without(target, user_id, report, as_of=as_of, on_line=on_line)
        else:
            report.snapshots_deleted = remove_all_snapshots(target.data_dir)
    return report
