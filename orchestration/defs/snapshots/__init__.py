"""The snapshots area: the published Parquet snapshot of the marts, refreshed by every dbt job."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt_project import dbt_model_names, dbt_project
from orchestration.defs.snapshots.assets import build_mart_snapshot
from orchestration.settings import OrchestrationSettings


def build_defs(settings: OrchestrationSettings) -> dg.Definitions:  # noqa: ARG001 - one interface
    return dg.Definitions(assets=[build_mart_snapshot(dbt_model_names(dbt_project()))])
