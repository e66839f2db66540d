"""Run the real dbt project in-process (dbtRunner) against a warehouse of the test's own.

Each warehouse gets its own target/log directories, so tests never share dbt's partial-parse
state with each other or with anyone running dbt in the checkout at the same time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import psycopg
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner

from ingest_service.storage.raw_schema import POSTGRES_DDL
from orchestration.environment import environment_overrides

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


@dataclass
class Warehouse:
    """One dbt target with its raw store: `dev` (DuckDB + Parquet) or `prod` (PostgreSQL)."""

    target: str
    work_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    postgres_url: str | None = None
    manifest: object | None = None

    def dbt(
        self,
        *args: str,
        as_of: str | None = None,
        extra_vars: Mapping[str, object] | None = None,
        expect_success: bool = True,
    ):
        variables = dict(extra_vars or {})
        if as_of is not None:
            variables["as_of"] = as_of
        command = [
            *args,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target",
            self.target,
            "--target-path",
            str(self.work_dir / "dbt_target"),
            "--log-path",
            str(self.work_dir / "dbt_logs"),
        ]
        if variables:
            command += ["--vars", json.dumps(variables)]
        with environment_overrides(self.env):
            try:
                if self.manifest is None:
                    # parse once per warehouse: the raw store's location is fixed at parse time
                    parsed = dbtRunner().invoke(["parse", *command[len(args) :]])
                    assert parsed.success, f"dbt parse failed: {parsed.exception}"
                    self.manifest = parsed.result
                result = dbtRunner(manifest=self.manifest).invoke(command)
            finally:
                _release_duckdb_file()
        if expect_success:
            assert result.success, f"dbt {' '.join(args)} failed: {result.exception or _failures(result)}"
        return result

    def query(self, sql: str) -> list[tuple]:
        if self.target == "dev":
            import duckdb

            connection = duckdb.connect(self.env["DBT_DUCKDB_PATH"], read_only=True)
            try:
                return connection.execute(sql).fetchall()
            finally:
                connection.close()
        with psycopg.connect(self.postgres_url) as connection:
            connection.execute(f"set search_path to {self.env['DBT_PG_SCHEMA']}")
            return connection.execute(sql).fetchall()

    def columns(self, relation: str) -> list[str]:
        if self.target == "dev":
            import duckdb

            connection = duckdb.connect(self.env["DBT_DUCKDB_PATH"], read_only=True)
            try:
                return [
                    column[0]
                    for column in connection.execute(f"select * from {relation} limit 0").description
                ]
            finally:
                connection.close()
        with psycopg.connect(self.postgres_url) as connection:
            cursor = connection.execute(f"select * from {self.env['DBT_PG_SCHEMA']}.{relation} limit 0")
            return [column.name for column in cursor.description]


def _release_duckdb_file() -> None:
    """dbt-duckdb keeps its DuckDB connection in a class attribute between in-process
    invocations; close it so the test (or the next target) can open the file."""
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
        DuckDBConnectionManager.close_all_connections()


def _failures(result) -> str:
    try:
        return "; ".join(
            f"{node.node.name}: {node.message}"
            for node in result.result
            if node.status not in ("success", "pass")
        )
    except TypeError:
        return str(result.result)


def duckdb_warehouse(work_dir: Path) -> Warehouse:
    data_dir = work_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    return Warehouse(
        target="dev",
        work_dir=work_dir,
        env={"DATA_DIR": str(data_dir), "DBT_DUCKDB_PATH": str(data_dir / "warehouse.duckdb")},
    )


def postgres_warehouse(work_dir: Path, url: str, schema: str = "analytics") -> Warehouse:
    parts = urlparse(url)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(POSTGRES_DDL)
    return Warehouse(
        target="prod",
        work_dir=work_dir,
        postgres_url=url,
        env={
            "PGHOST": parts.hostname or "127.0.0.1",
            "PGPORT": str(parts.port or 5432),
            "PGUSER": parts.username or "postgres",
            "PGPASSWORD": parts.password or "",
            "PGDATABASE": parts.path.lstrip("/"),
            "DBT_PG_SCHEMA": schema,
            "DATA_DIR": str(work_dir / "unused_data"),
        },
    )


def mart_rows(warehouse: Warehouse, relation: str, order_by: Sequence[str]) -> list[dict]:
    names = warehouse.columns(relation)
    rows = warehouse.query(f"select * from {relation} order by {', '.join(order_by)}")
    return [dict(zip(names, row, strict=True)) for row in rows]
