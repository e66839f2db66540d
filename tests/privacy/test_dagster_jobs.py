"""The lifecycle Dagster jobs run for real (in-process) and report what they did as metadata."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from ingest_service.storage.bulk_load import append_rows_parquet
from ingest_service.storage.locations import RawStores
from ingest_service.storage.privacy_log import opted_out_users
from orchestration.dbt_project import dbt_resource
from orchestration.definitions import build_definitions, shared_resources
from orchestration.defs.lifecycle.jobs import (
    raw_events_retention,
    user_data_export,
    user_erasure,
    user_privacy_request,
)
from orchestration.settings import OrchestrationSettings
from tests.support.events import raw_event, rejected_event
from tests.support.raw_store import write_rejected


def _settings(tmp_path) -> OrchestrationSettings:
    # an environment of its own: the embedded store whatever DATABASE_URL the test runner has
    return OrchestrationSettings.from_env({"DATA_DIR": str(tmp_path)})


def _resources(tmp_path) -> dict:
    settings = _settings(tmp_path)
    return {**shared_resources(settings), "dbt": dbt_resource(settings.warehouse)}


def _output_metadata(result: dg.ExecuteInProcessResult, op_name: str) -> dict:
    [event] = [e for e in result.events_for_node(op_name) if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    return {key: value.value for key, value in event.step_output_data.metadata.items()}


def test_definitions_hold_the_lifecycle_jobs_and_the_daily_retention_schedule(tmp_path, dbt_manifest):
    repository = build_definitions(_settings(tmp_path)).get_repository_def()
    assert {job.name for job in repository.get_all_jobs()} >= {
        "raw_events_retention",
        "user_data_export",
        "user_erasure",
        "user_privacy_request",
    }
    schedule = repository.get_schedule_def("raw_events_retention_daily")
    assert (schedule.job_name, schedule.cron_schedule) == ("raw_events_retention", "30 3 * * *")


def test_retention_job_deletes_old_rows_and_reports_counts(tmp_path):
    stores = RawStores(database_url=None, data_dir=tmp_path)
    now = datetime.now(UTC)
    append_rows_parquet(
        stores.events_dir,
        [raw_event(received_at=now - timedelta(days=d)) for d in (100, 91, 89, 1)],
    )
    sent = {"eventType": "NOT_A_TYPE"}
    write_rejected(stores, [rejected_event(sent, received_at=now - timedelta(days=d)) for d in (95, 2)])

    result = raw_events_retention.execute_in_process(
        run_config={"ops": {"delete_expired_raw_events": {"config": {}}}}, resources=_resources(tmp_path)
    )

    assert result.success
    metadata = _output_metadata(result, "delete_expired_raw_events")
    assert (metadata["retention_days"], metadata["rows_removed"], metadata["embedded_files_rewritten"]) == (
        90,
        2,
        1,
    )
    assert metadata["rejected_rows_removed"] == 1
    observations = result.asset_observations_for_node("delete_expired_raw_events")
    assert [o.asset_key for o in observations] == [dg.AssetKey(["raw", "interaction_events"])]
    remaining = duckdb.sql(f"select count(*) from read_parquet('{stores.events_dir}/*.parquet')").fetchall()
    assert remaining == [(2,)]


def test_export_job_writes_the_users_document_under_exports(tmp_path):
    stores = RawStores(database_url=None, data_dir=tmp_path)
    now = datetime.now(UTC)
    mine = [raw_event(received_at=now, user_id="user/1", event_type="PERFUME_VIEW", perfume_id="p-9")]
    append_rows_parquet(stores.events_dir, mine + [raw_event(received_at=now, user_id="user-2")])
    rejected = [rejected_event({"eventType": "NOPE"}, received_at=now, user_id=u) for u in ("user/1", "u-2")]
    write_rejected(stores, rejected)

    result = user_data_export.execute_in_process(
        run_config={"ops": {"export_user_data": {"config": {"user_id": "user/1"}}}},
        resources=_resources(tmp_path),
    )

    path = result.output_for_node("export_user_data")
    assert path.startswith(str(tmp_path / "exports" / "user_1-"))
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    assert [event["event_id"] for event in document["raw_events"]] == [mine[0]["event_id"]]
    assert [row["rejection_id"] for row in document["rejected_events"]] == [rejected[0]["rejection_id"]]
    metadata = _output_metadata(result, "export_user_data")
    assert (metadata["raw_events"], metadata["rejected_events"]) == (1, 1)


def test_erasure_and_privacy_request_jobs(tmp_path):
    stores = RawStores(database_url=None, data_dir=tmp_path)
    now = datetime.now(UTC)
    append_rows_parquet(stores.events_dir, [raw_event(received_at=now, user_id=u) for u in ("gone", "stays")])

    erased = user_erasure.execute_in_process(
        run_config={"ops": {"erase_user_raw_events": {"config": {"user_id": "gone"}}}},
        resources=_resources(tmp_path),
    )
    opted = user_privacy_request.execute_in_process(
        run_config={"ops": {"record_privacy_request": {"config": {"user_id": "stays", "action": "opt_out"}}}},
        resources=_resources(tmp_path),
    )

    assert erased.success and opted.success
    assert _output_metadata(erased, "erase_user_raw_events")["raw_rows_removed"] == 1
    # no warehouse was ever built: nothing to publish, and no snapshot may be left
    assert _output_metadata(erased, "republish_snapshots_without_user") == {
        "snapshot": "none",
        "snapshots_deleted": 0,
    }
    users = duckdb.sql(f"select user_id from read_parquet('{stores.events_dir}/*.parquet')").fetchall()
    assert users == [("stays",)]
    assert opted_out_users(stores.privacy_dir) == {"stays"}


def test_a_bad_user_id_fails_the_step_with_a_clear_message(tmp_path):
    result = user_erasure.execute_in_process(
        run_config={"ops": {"erase_user_raw_events": {"config": {"user_id": " "}}}},
        resources=_resources(tmp_path),
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "non-empty" in failure.step_failure_data.user_failure_data.description
