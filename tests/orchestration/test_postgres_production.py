"""Production wiring on a real PostgreSQL: the same definitions with DATABASE_URL set, and the
production `dagster.yaml` keeping Dagster's own state in PostgreSQL (dagster-postgres)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from ingest_service.storage.bulk_load import copy_rows_postgres
from ingest_service.storage.raw_schema import POSTGRES_DDL
from orchestration.definitions import build_definitions
from orchestration.sample_traffic import raw_rows
from orchestration.settings import REPO_ROOT, OrchestrationSettings
from orchestration.warehouse import postgres_env_from_url

PRODUCTION_INSTANCE_CONFIG = REPO_ROOT / "orchestration" / "deploy" / "dagster.yaml"


@pytest.mark.postgres
def test_production_dagster_yaml_keeps_runs_events_and_schedules_in_postgres(
    make_postgres_database, tmp_path: Path, monkeypatch
):
    dagster_database = make_postgres_database("dagster")
    libpq = postgres_env_from_url(dagster_database)
    monkeypatch.setenv("DAGSTER_PG_HOST", libpq["PGHOST"])
    monkeypatch.setenv("DAGSTER_PG_PORT", libpq["PGPORT"])
    monkeypatch.setenv("DAGSTER_PG_USER", libpq["PGUSER"])
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", libpq.get("PGPASSWORD", ""))  # trust auth in tests
    monkeypatch.setenv("DAGSTER_PG_DB", libpq["PGDATABASE"])
    shutil.copyfile(PRODUCTION_INSTANCE_CONFIG, tmp_path / "dagster.yaml")

    @dg.asset
    def probe() -> int:
        return 1

    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        result = dg.materialize([probe], instance=instance)
        assert result.success
        assert [run.status for run in instance.get_runs()] == [dg.DagsterRunStatus.SUCCESS]
    with psycopg.connect(dagster_database) as connection:
        assert connection.execute("select count(*) from runs").fetchone()[0] == 1


@pytest.mark.postgres
@pytest.mark.slow
def test_every_asset_builds_on_postgres_when_database_url_is_set(
    dbt_manifest, postgres_url, data_dir, small_traffic, monkeypatch
):
    with psycopg.connect(postgres_url) as connection:
        connection.execute(POSTGRES_DDL)
        copy_rows_postgres(connection, raw_rows(small_traffic))
    # EnvVar("DATABASE_URL") is resolved when the run starts, from the process environment.
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    settings = OrchestrationSettings.from_env({"DATA_DIR": str(data_dir), "DATABASE_URL": postgres_url})
    defs = build_definitions(settings)

    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )

    assert result.success
    assert [e.check_name for e in result.get_asset_check_evaluations() if not e.passed] == []
    warehouse = settings.warehouse
    assert warehouse.query("select count(*) as n from sessions")[0]["n"] == sum(
        not session.client.is_bot for session in small_traffic.sessions
    )
    with psycopg.connect(postgres_url) as connection:
        schemas = {row[0] for row in connection.execute("select table_schema from information_schema.tables")}
    assert "analytics" in schemas  # the marts went to DBT_PG_SCHEMA's default, not to DuckDB
    assert not warehouse.duckdb_path.exists()
    assert list((data_dir / "reports").glob("weekly_report_*.md"))
