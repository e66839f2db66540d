"""Issue 9's operations: the marts' freshness checks (last successful build older than the schedule
allows → fails; builds read from the real warehouse dbt built) and the run-failure sensor (a real
failed Dagster run is recorded as a JSON log line and in `$DATA_DIR/logs/run_failures.jsonl`)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration.defs.operations.freshness import (
    build_mart_freshness_checks,
    freshness_verdict,
    mart_intervals,
)
from orchestration.defs.operations.run_failures import build_run_failure_sensor
from orchestration.resources import Warehouse
from orchestration.sample_traffic import raw_rows
from orchestration.warehouse import MARTS, WarehouseTarget
from tests.support.warehouse_harness import Warehouse as DbtWarehouse


def test_each_mart_may_be_as_old_as_its_schedule_allows():
    # seed 004's cron (SPEC §8): stats and trending hourly, everything else daily at 02:00
    hourly = {"perfume_interaction_stats", "trending_perfumes"}
    assert mart_intervals() == {
        mart: timedelta(hours=1) if mart in hourly else timedelta(days=1) for mart in MARTS
    }
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert freshness_verdict(now - timedelta(minutes=119), timedelta(hours=2), now)[0]
    assert not freshness_verdict(now - timedelta(minutes=121), timedelta(hours=2), now)[0]
    assert not freshness_verdict(None, timedelta(hours=2), now)[0]


def _evaluate(warehouse: Warehouse, slack_hours: float) -> dict[str, dg.AssetCheckEvaluation]:
    defs = dg.Definitions(
        asset_checks=[build_mart_freshness_checks(slack_hours)], resources={"warehouse": warehouse}
    )
    job = dg.define_asset_job("freshness", selection=dg.AssetSelection.all_asset_checks())
    defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    result = defs.resolve_job_def("freshness").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    return {evaluation.asset_key.path[-1]: evaluation for evaluation in result.get_asset_check_evaluations()}


def test_freshness_checks_read_the_builds_from_the_warehouse(tmp_path, small_traffic):
    never = Warehouse.of(WarehouseTarget(data_dir=tmp_path, duckdb_path=tmp_path / "none.duckdb"))
    evaluations = _evaluate(never, slack_hours=1)
    assert set(evaluations) == set(MARTS)
    assert not any(evaluation.passed for evaluation in evaluations.values())

    built = DbtWarehouse(tmp_path / "warehouse")
    built.append_events(raw_rows(small_traffic))
    built.build(as_of=None, select="+trending_perfumes")
    evaluations = _evaluate(Warehouse.of(built.location), slack_hours=1)
    assert evaluations["trending_perfumes"].passed  # just built
    assert not evaluations["sessions"].passed  # never built by this run
    assert "never built" in evaluations["sessions"].description
    # a negative slack makes even a build of a moment ago older than the hourly limit allows
    assert not _evaluate(Warehouse.of(built.location), slack_hours=-1.5)["trending_perfumes"].passed


def test_a_failed_run_is_recorded_in_the_log_and_the_failures_file(data_dir, caplog):
    @dg.op
    def breaks():
        raise RuntimeError("the warehouse is on fire")

    @dg.job(tags={"trigger": "test"})
    def fragile_job():
        breaks()

    instance = dg.DagsterInstance.ephemeral()
    result = fragile_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(event for event in result.all_events if event.event_type_value == "PIPELINE_FAILURE")
    sensor = build_run_failure_sensor(data_dir, dg.DefaultSensorStatus.RUNNING)
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    ).for_run_failure()
    with caplog.at_level(logging.ERROR, logger="orchestration.run_failures"):
        sensor(context)

    (line,) = (data_dir / "logs" / "run_failures.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert (record["job"], record["run_id"], record["trigger"]) == ("fragile_job", result.run_id, "test")
    assert record["event"] == "dagster_run_failed" and record["error"]
    # only this logger's lines: Dagster's own error records of the failed run are captured too
    ours = [entry for entry in caplog.records if entry.name == "orchestration.run_failures"]
    (logged,) = [json.loads(entry.getMessage()) for entry in ours]
    assert logged == record
