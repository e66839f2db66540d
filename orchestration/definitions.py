"""Everything Dagster shows, merged from the areas; `workspace.yaml` loads `defs` from here.

`@dg.definitions` defers the work to load time, so importing this module reads no environment and
parses nothing; tests call `build_definitions(settings)` with settings of their own.
"""

from __future__ import annotations

import dagster as dg

from orchestration import dbt, ingest, lifecycle, reports
from orchestration.resources import RawEventStore, Warehouse
from orchestration.settings import OrchestrationSettings


def shared_resources(settings: OrchestrationSettings) -> dict[str, dg.ConfigurableResource]:
    """The stores, configured from the environment; the URL stays an `EnvVar`, resolved per run."""
    database_url = dg.EnvVar("DATABASE_URL") if settings.uses_postgres else None
    return {
        "raw_events_store": RawEventStore(data_dir=str(settings.data_dir), database_url=database_url),
        "warehouse": Warehouse(
            data_dir=str(settings.data_dir),
            duckdb_path=str(settings.warehouse_path),
            database_url=database_url,
            pg_schema=settings.dbt_pg_schema,
        ),
    }


def build_definitions(settings: OrchestrationSettings) -> dg.Definitions:
    return dg.Definitions.merge(
        dg.Definitions(resources=shared_resources(settings)),
        dbt.build_defs(settings),
        ingest.build_defs(settings, incremental_job_name=dbt.INCREMENTAL_JOB_NAME),
        reports.build_defs(),
        lifecycle.defs,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(OrchestrationSettings.from_env())
