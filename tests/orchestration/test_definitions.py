"""The definitions load, and what the UI shows matches the contract (SPEC section 8, seed 004's cron)."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from ingest_service.storage.snapshots import SNAPSHOT_MARTS
from orchestration.definitions import build_definitions, defs
from orchestration.settings import OrchestrationSettings, SettingsError
from tests.support.reference_marts import MART_KEYS

#: the marts of SPEC section 5 (the reference's keys list them; staging is not a mart)
MARTS = tuple(name for name in MART_KEYS if name != "stg_interaction_events")
SEEDS = ("event_weights", "perfumes", "perfume_notes", "houses")
SNAPSHOT = dg.AssetKey("mart_snapshot")

#: Seed 004: stats and trending hourly, sessions and profiles daily at 02:00, report Sundays 00:00.
SCHEDULES = {
    "hourly_stats_and_trending_schedule": ("hourly_stats_and_trending", "0 * * * *"),
    "daily_sessions_and_profiles_schedule": ("daily_sessions_and_profiles", "0 2 * * *"),
    "weekly_report_schedule": ("weekly_report_job", "0 0 * * 0"),
}
LIFECYCLE_JOBS = {
    "raw_events_compaction",
    "raw_events_retention",
    "user_data_export",
    "user_erasure",
    "user_privacy_request",
}
PIPELINE_JOBS = {
    "incremental_pipeline",
    "hourly_stats_and_trending",
    "daily_sessions_and_profiles",
    "weekly_report_job",
}


@pytest.fixture(scope="module")
def local_defs(dbt_manifest, tmp_path_factory) -> dg.Definitions:
    data_dir = tmp_path_factory.mktemp("data")
    return build_definitions(OrchestrationSettings.from_env({"DATA_DIR": str(data_dir)}))


def _keys(names) -> set[dg.AssetKey]:
    return {dg.AssetKey(name) for name in names}


def _manifest(project) -> dict:
    return json.loads(project.manifest_path.read_text())


def test_workspace_entry_point_loads(dbt_manifest, data_dir, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    loaded = defs()
    assert isinstance(loaded, dg.Definitions)
    loaded.validate_loadable(loaded)


def test_every_dbt_model_and_seed_is_an_asset_in_a_readable_group(local_defs, dbt_manifest):
    graph = local_defs.resolve_asset_graph()
    nodes = _manifest(dbt_manifest)["nodes"].values()
    dbt_names = {node["name"] for node in nodes if node["resource_type"] in ("model", "seed")}
    assert set(MARTS) | set(SEEDS) | {"stg_interaction_events"} <= dbt_names
    # SPEC §11: the rejected events are an asset too; the privacy log and they are observed sources
    ours = {
        dg.AssetKey(["raw", "interaction_events"]),
        dg.AssetKey(["raw", "user_privacy_events"]),
        dg.AssetKey(["raw", "rejected_events"]),
    }
    # the erasure log (written by the erasure job, read by base_interaction_events): a dbt source
    erasure_log = dg.AssetKey(["raw", "erased_events"])
    assert _keys(dbt_names) | ours | {erasure_log, dg.AssetKey("weekly_report"), SNAPSHOT} == set(
        graph.get_all_asset_keys()
    )
    groups = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups[SNAPSHOT] == "snapshots"
    assert {groups[key] for key in _keys(MARTS)} == {"marts"}
    assert {groups[key] for key in _keys(SEEDS)} == {"catalog"}
    assert groups[dg.AssetKey("stg_interaction_events")] == "staging"
    # issue 13: the incremental state is models of its own, shown as such
    state_models = _keys({"incremental_manifest", "changed_sessions"})
    assert {groups[key] for key in state_models} == {"incremental_state"}
    assert {groups[key] for key in ours} == {"ingest"}
    assert groups[dg.AssetKey("weekly_report")] == "reports"


def test_raw_events_are_upstream_of_staging_and_the_report_downstream_of_the_marts(local_defs):
    graph = local_defs.resolve_asset_graph()
    raw = dg.AssetKey(["raw", "interaction_events"])
    assert raw in graph.get(dg.AssetKey("stg_interaction_events")).parent_keys or raw in {
        ancestor
        for parent in graph.get(dg.AssetKey("stg_interaction_events")).parent_keys
        for ancestor in graph.get(parent).parent_keys
    }
    assert {dg.AssetKey("sessions"), dg.AssetKey("stg_interaction_events")} <= graph.get(
        dg.AssetKey("weekly_report")
    ).parent_keys


def test_the_snapshot_is_downstream_of_every_snapshot_mart_dbt_builds(local_defs, dbt_manifest):
    nodes = _manifest(dbt_manifest)["nodes"].values()
    models = {node["name"] for node in nodes if node["resource_type"] == "model"}
    parents = local_defs.resolve_asset_graph().get(SNAPSHOT).parent_keys
    assert set(SNAPSHOT_MARTS) <= models
    assert parents == _keys(SNAPSHOT_MARTS)


def test_dbt_tests_are_asset_checks_and_raw_events_have_a_freshness_check(local_defs, dbt_manifest):
    nodes = _manifest(dbt_manifest)["nodes"].values()
    dbt_tests = {
        node["name"]
        for node in nodes
        if node["resource_type"] == "test"
        and (node.get("attached_node") or "").startswith(("model.", "seed."))
    }
    check_keys = local_defs.resolve_asset_graph().asset_check_keys
    ours = {"raw_events_are_fresh", "rejection_rate_is_low", "built_within_schedule"}
    assert {key.name for key in check_keys} == dbt_tests | ours
    assert dg.AssetCheckKey(dg.AssetKey(["raw", "interaction_events"]), "raw_events_are_fresh") in check_keys
    # SPEC §11: "visible as a Dagster asset with a check"
    assert dg.AssetCheckKey(dg.AssetKey(["raw", "rejected_events"]), "rejection_rate_is_low") in check_keys
    # issue 9: freshness checks on the marts — every mart, and only the marts
    freshness = {key.asset_key for key in check_keys if key.name == "built_within_schedule"}
    assert freshness == _keys(MARTS)


def test_jobs_schedules_and_sensor_snapshot(local_defs):
    jobs = {job.name for job in local_defs.resolve_all_job_defs()} - {"__ASSET_JOB"}
    assert jobs == PIPELINE_JOBS | LIFECYCLE_JOBS
    schedules = {schedule.name: schedule for schedule in local_defs.schedules}
    assert {
        name: (schedules[name].job_name, schedules[name].cron_schedule) for name in SCHEDULES
    } == SCHEDULES
    assert set(schedules) == set(SCHEDULES) | {"raw_events_compaction_hourly", "raw_events_retention_daily"}
    assert all(schedules[name].execution_timezone == "UTC" for name in SCHEDULES)
    sensors = {sensor.name: sensor for sensor in local_defs.sensors}
    assert set(sensors) == {"new_events_sensor", "run_failure_sensor"}
    assert sensors["new_events_sensor"].job_name == "incremental_pipeline"
    assert isinstance(sensors["run_failure_sensor"], dg.RunStatusSensorDefinition)


@pytest.mark.parametrize(
    ("setting", "schedule_status", "sensor_status"),
    [
        (None, dg.DefaultScheduleStatus.RUNNING, dg.DefaultSensorStatus.RUNNING),  # as before
        ("stopped", dg.DefaultScheduleStatus.STOPPED, dg.DefaultSensorStatus.STOPPED),
    ],
)
def test_automations_default_is_one_setting_for_every_schedule_and_sensor(
    dbt_manifest, data_dir, setting, schedule_status, sensor_status
):
    env = {"DATA_DIR": str(data_dir)} | ({"AUTOMATIONS_DEFAULT": setting} if setting else {})
    built = build_definitions(OrchestrationSettings.from_env(env))
    assert {schedule.default_status for schedule in built.schedules} == {schedule_status}
    assert {sensor.default_status for sensor in built.sensors} == {sensor_status}


def test_a_bad_automations_default_says_which_setting():
    with pytest.raises(SettingsError, match="AUTOMATIONS_DEFAULT"):
        OrchestrationSettings.from_env({"AUTOMATIONS_DEFAULT": "paused"})


def _selected(local_defs, job_name) -> set[dg.AssetKey]:
    return set(local_defs.resolve_job_def(job_name).asset_layer.selected_asset_keys)


def test_each_scheduled_job_builds_what_its_schedule_is_for(local_defs):
    raw = dg.AssetKey(["raw", "interaction_events"])
    hourly = _selected(local_defs, "hourly_stats_and_trending")
    assert (
        _keys(["perfume_interaction_stats", "trending_perfumes", "stg_interaction_events"]) | {raw} <= hourly
    )
    assert not _keys(["user_behavior_profile", "weekly_report"]) & hourly
    daily = _selected(local_defs, "daily_sessions_and_profiles")
    assert (
        _keys(
            [
                "sessions",
                "user_behavior_profile",
                "post_engagement",
                "user_engagement_30d",
                "identity_map",
                "user_item_interactions",
                "weekly_retention_cohorts",
            ]
        )
        | {raw}
        <= daily
    )
    assert dg.AssetKey("weekly_report") not in daily
    # the report reads staging, sessions and the catalog: the weekly job refreshes those first
    assert _keys(["stg_interaction_events", "sessions", "perfumes", "weekly_report"]) <= _selected(
        local_defs, "weekly_report_job"
    )
    incremental = _selected(local_defs, "incremental_pipeline")
    assert _keys(MARTS) | {raw} <= incremental and dg.AssetKey("weekly_report") not in incremental
    # every job that builds marts republishes the snapshot readers use
    for job_name in ("incremental_pipeline", "hourly_stats_and_trending", "daily_sessions_and_profiles"):
        assert SNAPSHOT in _selected(local_defs, job_name), job_name
    assert SNAPSHOT not in _selected(local_defs, "weekly_report_job")
    # every build records the state of the raw stores it read (issue 9: no source left "Missing")
    sources = {dg.AssetKey(["raw", "user_privacy_events"]), dg.AssetKey(["raw", "rejected_events"])}
    for job_name in ("incremental_pipeline", "hourly_stats_and_trending", "daily_sessions_and_profiles"):
        assert sources <= _selected(local_defs, job_name), job_name
        # …and checks the freshness of every mart, also those it does not build (issue 9)
        checks = local_defs.resolve_job_def(job_name).asset_layer.asset_graph.asset_check_keys
        assert {dg.AssetCheckKey(key, "built_within_schedule") for key in _keys(MARTS)} <= checks


def test_database_url_selects_the_prod_target_and_stays_a_secret(dbt_manifest, data_dir):
    settings = OrchestrationSettings.from_env(
        {"DATA_DIR": str(data_dir), "DATABASE_URL": "postgresql://app:s3cret@db.internal:5432/events"}
    )
    prod_defs = build_definitions(settings)
    assert prod_defs.resources["dbt"].target == "prod"
    for name in ("warehouse", "raw_events_store"):
        url = prod_defs.resources[name].database_url
        assert isinstance(url, dg.EnvVar) and url.env_var_name == "DATABASE_URL"
