"""The published snapshot of the marts as a Dagster asset, downstream of the marts it holds.

Materializing it publishes a new snapshot under `$DATA_DIR/snapshots/` (`orchestration/snapshots.py`)
from whatever the warehouse holds now, so every dbt job selects it after its models: the hourly
job republishes with fresh trending figures, the daily one with fresh profiles. It waits for the
warehouse's writer lock like every reader of the DuckDB file, and is in the `warehouse` pool.
"""

# no `from __future__ import annotations`: Dagster reads the context and resource annotations at runtime
from collections.abc import Set
from typing import Any

import dagster as dg

from ingest_service.storage.snapshots import SNAPSHOT_MARTS
from ingest_service.upkeep.errors import LifecycleError
from orchestration.defs.shared_names import MART_SNAPSHOT_KEY
from orchestration.resources import Warehouse
from orchestration.snapshots import PublishReport, publish_snapshot
from orchestration.warehouse import WAREHOUSE_POOL


def snapshot_metadata(report: PublishReport) -> dict[str, Any]:
    marts = report.manifest["marts"]
    metadata: dict[str, Any] = {
        "build_id": report.build_id,
        "as_of": report.manifest["as_of"],
        "path": dg.MetadataValue.path(str(report.directory)),
        "deleted_builds": len(report.deleted),
    }
    for mart, entry in marts.items():
        metadata[f"rows/{mart}"] = entry.get("rows", "not built")
    return metadata


def build_mart_snapshot(dbt_models: Set[str]) -> dg.AssetsDefinition:
    """The asset, depending on the snapshot marts that are models of the dbt project (a listed
    mart that is not a model yet is skipped at run time, with a warning)."""

    @dg.asset(
        key=MART_SNAPSHOT_KEY,
        group_name="snapshots",
        deps=[dg.AssetKey(mart) for mart in SNAPSHOT_MARTS if mart in dbt_models],
        kinds={"parquet"},
        pool=WAREHOUSE_POOL,
        description=(
            f"Parquet snapshot of {', '.join(SNAPSHOT_MARTS)} under `$DATA_DIR/snapshots/<build>/` "
            "with a manifest; `CURRENT` is switched to it atomically, older builds are pruned. "
            "What the read endpoints and the recommendation service read."
        ),
    )
    def mart_snapshot(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        try:
            with warehouse.writer_lock(on_wait=context.log.info):
                report = publish_snapshot(warehouse.target, on_warning=context.log.warning)
        except LifecycleError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        context.log.info(
            f"snapshot {report.build_id} (as_of {report.manifest['as_of']}) is current; "
            f"pruned {len(report.deleted)} older build(s)"
        )
        return dg.MaterializeResult(metadata=snapshot_metadata(report))

    return mart_snapshot
