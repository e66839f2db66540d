"""The lifecycle finds the same warehouse as dbt and Dagster, from the same environment (SPEC 9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest_service.lifecycle.stores import LifecycleError
from ingest_service.lifecycle.warehouse import WarehouseLocation, dbt_error, postgres_env_from_url


def test_no_database_url_means_duckdb_under_data_dir(tmp_path):
    location = WarehouseLocation.from_env(tmp_path, None, env={})
    assert (location.dbt_target, location.engine) == ("dev", "duckdb")
    assert location.duckdb_path == tmp_path.resolve() / "warehouse.duckdb"
    assert location.dbt_env() == {
        "DATA_DIR": str(tmp_path.resolve()),
        "DBT_DUCKDB_PATH": str(location.duckdb_path),
    }


def test_database_url_means_postgres_with_the_libpq_variables_dbt_reads(tmp_path):
    url = "postgresql://ana:s%40cret@db.internal:6543/events"
    location = WarehouseLocation.from_env(tmp_path, url, env={"DBT_PG_SCHEMA": "marts"})
    assert (location.dbt_target, location.pg_schema) == ("prod", "marts")
    assert postgres_env_from_url(url) == {
        "PGHOST": "db.internal",
        "PGPORT": "6543",
        "PGUSER": "ana",
        "PGDATABASE": "events",
        "PGPASSWORD": "s@cret",
    }
    assert location.dbt_env()["DBT_PG_SCHEMA"] == "marts"
    assert "s@cret" not in repr(location)


def test_a_schema_name_that_is_not_an_identifier_is_refused(tmp_path):
    with pytest.raises(LifecycleError, match="identifier"):
        WarehouseLocation.from_env(tmp_path, "postgresql://x@h/d", env={"DBT_PG_SCHEMA": 'x"; drop'})


def test_dbt_error_keeps_what_failed_and_drops_the_traceback():
    output = [
        "02:31:31  Running with dbt=1.11.16",
        "02:31:31  Encountered an error:",
        'IO Error: Could not set lock on file "/data/warehouse.duckdb": Conflicting lock is held',
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
    ]
    message = dbt_error(output)
    assert message.splitlines()[:2] == [
        "Encountered an error:",
        'IO Error: Could not set lock on file "/data/warehouse.duckdb": Conflicting lock is held',
    ]
    assert "Traceback" not in message and "File " not in message
    assert "Another process" in message


def test_an_unbuilt_warehouse_has_no_rows_to_export(tmp_path: Path):
    assert WarehouseLocation.from_env(tmp_path, None, env={}).rows_of_user("anyone") == {}
