"""One description of where things are (SPEC 9): the lifecycle, Dagster, the tests and the
benchmarks find the same raw stores and the same warehouse from the same environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest_service.environment import SettingsError
from orchestration.settings import OrchestrationSettings
from orchestration.warehouse import WarehouseTarget, postgres_env_from_url


def test_no_database_url_means_duckdb_under_data_dir(tmp_path):
    settings = OrchestrationSettings.from_env({"DATA_DIR": str(tmp_path)})
    target = settings.warehouse
    assert (target.dbt_target, target.engine, target.schema) == ("dev", "duckdb", "main")
    assert target.duckdb_path == tmp_path.resolve() / "warehouse.duckdb"
    assert target.dbt_env() == {
        "DATA_DIR": str(tmp_path.resolve()),
        "DBT_DUCKDB_PATH": str(target.duckdb_path),
        "DBT_TARGET": "dev",
    }
    assert settings.raw_stores.events_dir == tmp_path / "raw" / "interaction_events"
    assert settings.raw_stores.privacy_dir == tmp_path / "raw" / "user_privacy_events"
    assert settings.reports_dir == tmp_path / "reports"


def test_database_url_means_postgres_with_the_libpq_variables_dbt_reads(tmp_path):
    url = "postgresql://ana:s%40cret@db.internal:6543/events"
    settings = OrchestrationSettings.from_env(
        {"DATA_DIR": str(tmp_path), "DATABASE_URL": url, "DBT_PG_SCHEMA": "marts"}
    )
    target = settings.warehouse
    assert (target.dbt_target, target.pg_schema, target.schema) == ("prod", "marts", "marts")
    assert settings.raw_stores.database_url == url
    assert postgres_env_from_url(url) == {
        "PGHOST": "db.internal",
        "PGPORT": "6543",
        "PGUSER": "ana",
        "PGDATABASE": "events",
        "PGPASSWORD": "s@cret",
    }
    assert target.dbt_env()["DBT_PG_SCHEMA"] == "marts"
    assert "s@cret" not in repr(target) and "s@cret" not in repr(settings)


def test_pg_variables_come_from_the_url_decoded():
    assert postgres_env_from_url("postgresql://an%40alyst:p%2Fw@db:6543/marts") == {
        "PGHOST": "db",
        "PGPORT": "6543",
        "PGUSER": "an@alyst",
        "PGPASSWORD": "p/w",
        "PGDATABASE": "marts",
    }


def test_relative_data_dir_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = OrchestrationSettings.from_env({"DATA_DIR": "here"})
    assert settings.data_dir == tmp_path / "here"
    assert settings.warehouse.data_dir == tmp_path / "here"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL must be a postgresql:// URL"),
        ({"DATABASE_URL": "postgresql://x@h/d", "DBT_PG_SCHEMA": 'x"; drop'}, "not a valid SQL identifier"),
        ({"DBT_PG_SCHEMA": "has space"}, "not a valid SQL identifier"),  # validated without PostgreSQL too
        ({"NEW_EVENTS_THRESHOLD": "lots"}, "NEW_EVENTS_THRESHOLD='lots' is not an integer"),
        ({"NEW_EVENTS_THRESHOLD": "0"}, "NEW_EVENTS_THRESHOLD=0 must be at least 1"),
        ({"RAW_EVENTS_MAX_LAG_HOURS": "-1"}, "RAW_EVENTS_MAX_LAG_HOURS=-1 must be at least"),
        ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS=0 must be at least 1"),
    ],
)
def test_bad_settings_say_which_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        OrchestrationSettings.from_env(env)


def test_an_unbuilt_warehouse_has_no_rows_to_export(tmp_path: Path):
    assert WarehouseTarget.from_env({"DATA_DIR": str(tmp_path)}).rows_of_user("anyone") == {}
