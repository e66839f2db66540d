"""The operations area (SPEC §11): the marts' freshness checks and the run-failure sensor."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.operations.freshness import build_mart_freshness_checks
from orchestration.defs.operations.run_failures import build_run_failure_sensor
from orchestration.settings import OrchestrationSettings


def build_defs(settings: OrchestrationSettings) -> dg.Definitions:
    return dg.Definitions(
        asset_checks=[build_mart_freshness_checks(settings.marts_freshness_slack_hours)],
        sensors=[build_run_failure_sensor(settings.data_dir, settings.sensor_default_status)],
    )
