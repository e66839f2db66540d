"""Run the repository's real dbt project against a throw-away warehouse and read its marts back.

A `Warehouse` owns one raw store (the embedded Parquet store for DuckDB, or a fresh PostgreSQL
database's `raw` schema for the `prod` target), writes raw events and privacy rows through the
project's shared loaders, runs dbt and returns every mart as a list of dicts.

dbt runs in-process through `dbtRunner` so the suite pays for parsing the project once: the parsed
manifest is handed to later invocations (`dbtRunner(manifest=...)`); `--vars` / `--full-refresh`
and the profile (`env_var`: the DuckDB file, the PostgreSQL database) are still read per
invocation, but the raw store's location is fixed at parse time (see `Warehouse.fresh`).
Environment variables are set only while dbt runs.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pyarrow as pa
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner, dbtRunnerResult

from ingest_service.storage.bulk_load import append_rows_parquet, copy_rows_postgres
from ingest_service.storage.parquet_files import EMPTY_FILE_NAME, ensure_store, write_parquet_atomically
from ingest_service.storage.raw_schema import (
    POSTGRES_DDL,
    PRIVACY_EVENTS_ARROW_SCHEMA,
    PRIVACY_EVENTS_TABLE,
    RAW_EVENTS_ARROW_SCHEMA,
    RAW_EVENTS_TABLE,
    RAW_SCHEMA_NAME,
)
from orchestration.environment import environment_overrides
from tests.warehouse.reference_marts import MART_KEYS

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
MART_NAMES: tuple[str, ...] = tuple(MART_KEYS)
PG_SCHEMA = "analytics_test"


def _release_duckdb_file() -> None:
    """dbt-duckdb keeps its DuckDB connection in a class attribute between in-process
    invocations (it only drops it at interpreter exit); close it so the test can open the file."""
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
        DuckDBConnectionManager.close_all_connections()


def _failure_message(args: Sequence[str], result: dbtRunnerResult) -> str:
    lines = [f"dbt {' '.join(args)} failed"]
    if result.exception is not None:
        lines.append(f"exception: {result.exception!r}")
    for node_result in getattr(result.result, "results", None) or []:
        status = str(getattr(node_result, "status", ""))
        if status.lower() in ("error", "fail", "runtime error"):
            lines.append(f"{node_result.node.unique_id}: {node_result.message}")
    return "\n".join(lines)


def as_of_text(as_of: datetime) -> str:
    return as_of.isoformat()


class Warehouse:
    """One dbt target with its own raw store and warehouse; see the module docstring."""

    def __init__(
        self,
        work_dir: Path,
        target: str = "dev",
        postgres_url: str | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self.target = target
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir or work_dir / "data"
        self.events_dir = self.data_dir / RAW_SCHEMA_NAME / RAW_EVENTS_TABLE
        self.privacy_dir = self.data_dir / RAW_SCHEMA_NAME / PRIVACY_EVENTS_TABLE
        self.duckdb_path = work_dir / "warehouse.duckdb"
        self.postgres_url = postgres_url
        self._manifest: Any = None
        self._seeded = False
        ensure_store(self.events_dir, RAW_EVENTS_ARROW_SCHEMA)
        ensure_store(self.privacy_dir, PRIVACY_EVENTS_ARROW_SCHEMA)
        if target == "prod":
            if postgres_url is None:
                raise ValueError("the prod target needs a PostgreSQL database URL")
            with psycopg.connect(postgres_url) as connection:
                connection.execute(POSTGRES_DDL)

    def fresh(self, work_dir: Path) -> Warehouse:
        """An empty DuckDB warehouse that reuses this one's parsed project (parsing costs seconds).

        dbt resolves the raw store's location (`DATA_DIR`) at parse time, so the new warehouse
        shares the raw store directory, which is emptied here; its DuckDB file (named like this
        one's: dbt derives the database name from it) is its own. Only one may be in use at a time.
        PostgreSQL targets cannot share a parse: dbt fixes the database name in the manifest.
        """
        if self.target != "dev":
            raise ValueError("only DuckDB warehouses can share a parsed project")
        self._load_seeds()
        for directory in (self.events_dir, self.privacy_dir):
            for path in directory.glob("*.parquet"):
                if path.name != EMPTY_FILE_NAME:
                    path.unlink()
        other = Warehouse(work_dir, data_dir=self.data_dir)
        other._manifest = self._manifest
        # the seeds are the same for every warehouse: copy the loaded file instead of `dbt seed`
        for suffix in ("", ".wal"):
            source = self.duckdb_path.with_name(self.duckdb_path.name + suffix)
            if source.exists():
                shutil.copyfile(source, other.duckdb_path.with_name(other.duckdb_path.name + suffix))
        other._seeded = True
        return other

    # ---------------------------------------------------------------- raw data
    def append_events(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if self.target == "prod":
            with psycopg.connect(self.postgres_url) as connection:
                copy_rows_postgres(connection, rows)
        else:
            append_rows_parquet(self.events_dir, rows)

    def append_privacy(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if self.target == "prod":
            with psycopg.connect(self.postgres_url) as connection, connection.cursor() as cursor:
                cursor.executemany(
                    f"insert into {RAW_SCHEMA_NAME}.{PRIVACY_EVENTS_TABLE} (user_id, action, requested_at)"
                    " values (%(user_id)s, %(action)s, %(requested_at)s)",
                    list(rows),
                )
        else:
            columns = {name: [row[name] for row in rows] for name in PRIVACY_EVENTS_ARROW_SCHEMA.names}
            write_parquet_atomically(
                self.privacy_dir, pa.Table.from_pydict(columns, schema=PRIVACY_EVENTS_ARROW_SCHEMA)
            )

    # ---------------------------------------------------------------- dbt
    def environment(self) -> dict[str, str]:
        env = {
            "DATA_DIR": str(self.data_dir),
            "DBT_DUCKDB_PATH": str(self.duckdb_path),
        }
        if self.target == "prod":
            info = psycopg.conninfo.conninfo_to_dict(self.postgres_url)
            env.update(
                {
                    "PGHOST": str(info.get("host", "127.0.0.1")),
                    "PGPORT": str(info.get("port", "5432")),
                    "PGUSER": str(info.get("user", "postgres")),
                    "PGDATABASE": str(info["dbname"]),
                    "DBT_PG_SCHEMA": PG_SCHEMA,
                }
            )
        return env

    def _common_args(self) -> list[str]:
        return [
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            self.target,
            "--target-path",
            str(self.work_dir / "dbt_target"),
        ]

    def _invoke(self, args: list[str]) -> dbtRunnerResult:
        # logs go to the test's own directory: helpers share the checkout
        full_args = [*args, "--log-path", str(self.work_dir / "dbt_logs"), "--quiet"]
        with environment_overrides(self.environment()):
            try:
                result = dbtRunner(manifest=self._manifest).invoke(full_args)
            finally:
                _release_duckdb_file()
        if not result.success:
            raise AssertionError(_failure_message(full_args, result))
        return result

    def parse(self) -> None:
        result = self._invoke(["parse", *self._common_args()])
        self._manifest = result.result

    def _load_seeds(self) -> None:
        if self._manifest is None:
            self.parse()
        if not self._seeded:
            self._invoke(["seed", *self._common_args()])
            self._seeded = True

    def build(self, as_of: datetime | None, full_refresh: bool = False, command: str = "run") -> None:
        """`dbt run` (or `build`, with seeds and tests) with `as_of` (None: leave the variable unset,
        so the run's start time is used); seeds are loaded on first use."""
        self._load_seeds()
        args = [command, *self._common_args()]
        if as_of is not None:
            args += ["--vars", f'{{"as_of": "{as_of_text(as_of)}"}}']
        if full_refresh:
            args.append("--full-refresh")
        self._invoke(args)

    # ---------------------------------------------------------------- reading marts
    def read_marts(self, names: Sequence[str] = MART_NAMES) -> dict[str, list[dict[str, Any]]]:
        if self.target == "prod":
            return self._read_postgres(names)
        return self._read_duckdb(names)

    def _read_duckdb(self, names: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        marts = {}
        with duckdb.connect(str(self.duckdb_path), read_only=True) as connection:
            connection.execute("set TimeZone = 'UTC'")
            tables = connection.execute("select table_name from information_schema.tables").fetchall()
            built = {row[0] for row in tables}
            # a mart that was not built is left out, so the comparison reports it as "not built"
            for name in (name for name in names if name in built):
                cursor = connection.execute(f'select * from main."{name}"')
                columns = [column[0] for column in cursor.description]
                marts[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        return marts

    def _read_postgres(self, names: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        marts = {}
        with psycopg.connect(self.postgres_url) as connection, connection.cursor() as cursor:
            cursor.execute("set time zone 'UTC'")
            cursor.execute(
                "select table_name from information_schema.tables where table_schema = %s", (PG_SCHEMA,)
            )
            built = {row[0] for row in cursor.fetchall()}
            for name in (name for name in names if name in built):
                if not re.fullmatch(r"[a-z0-9_]+", name):
                    raise ValueError(f"not a mart name: {name!r}")
                cursor.execute(f'select * from {PG_SCHEMA}."{name}"')
                columns = [column.name for column in cursor.description]
                marts[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        return marts
