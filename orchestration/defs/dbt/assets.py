"""Every dbt model and seed as a Dagster asset, and every dbt test as an asset check."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.resources import Warehouse
from orchestration.warehouse import WAREHOUSE_POOL

#: The dbt folders (staging → identity → intermediate → marts) become the asset groups in the UI.
FOLDER_GROUPS = {
    "incremental": "incremental_state",
    "staging": "staging",
    "identity": "identity",
    "intermediate": "intermediate",
    "marts": "marts",
}
SEED_GROUP = "catalog"
DBT_ASSETS_NAME = "dbt_models"


class PipelineDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return SEED_GROUP
        # fqn is [project, folder, ..., model]
        fqn = dbt_resource_props.get("fqn", [])
        folder = fqn[1] if len(fqn) > 2 else ""
        return FOLDER_GROUPS.get(folder, "dbt")


TRANSLATOR = PipelineDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_code_references=True)
)
#: The same asset keys for an op that runs dbt (the erasure's rebuild) and records materializations;
#: code references need the DbtProject of an `@dbt_assets` definition.
OP_TRANSLATOR = PipelineDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))


def build_dbt_models(project: DbtProject) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=TRANSLATOR,
        name=DBT_ASSETS_NAME,
        pool=WAREHOUSE_POOL,
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
        # `dbt build` runs the selected models incrementally and their tests (the asset checks).
        # The writer lock makes a lifecycle CLI erasure (outside Dagster) and this run take turns.
        with warehouse.writer_lock(on_wait=context.log.info), warehouse.dbt_environment():
            yield from dbt.cli(["build"], context=context).stream()

    return dbt_models
