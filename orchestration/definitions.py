"""Everything Dagster shows, merged from the areas; `workspace.yaml` loads `defs` from here.

Each area (`orchestration.defs.<area>`) exposes `build_defs(settings)`. `@dg.definitions` defers the
work to load time, so importing this module reads no environment and parses nothing; tests call
`build_definitions(settings)` with settings of their own.
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs import dbt, ingest, lifecycle, operations, reports, snapshots
from orchestration.resources import RawEventStore, Warehouse
from orchestration.settings import OrchestrationSettings

AREAS = (dbt, ingest, lifecycle, operations, reports, snapshots)


def shared_resources(settings: OrchestrationSettings) -> dict[str, dg.ConfigurableResource]:
    """The stores, configured from the settings; the URL stays an `EnvVar`, resolved per run."""
    database_url = dg.EnvVar("DATABASE_URL") if settings.uses_postgres else None
    return {
        "raw_events_store": RawEventStore(
            data_dir=str(settings.data_dir),
            database_url=database_url,
            retention_days=settings.retention_days,
        ),
        "warehouse": Warehouse.of(settings.warehouse, database_url=database_url),
    }


def build_definitions(settings: OrchestrationSettings) -> dg.Definitions:
    return dg.Definitions.merge(
        dg.Definitions(resources=shared_resources(settings)),
        *(area.build_defs(settings) for area in AREAS),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(OrchestrationSettings.from_env())
