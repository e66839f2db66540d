"""The one dbt harness: the repository's real dbt project against a throw-away warehouse.

A `Warehouse` owns one raw store (the embedded Parquet store for DuckDB, or a fresh PostgreSQL
database's `raw` schema for the `prod` target), writes raw events and privacy rows through the
project's shared loaders (and erases users with the upkeep code), runs dbt and returns every mart
as a list of dicts. Where things are comes from the project's own `RawStores` and
`WarehouseTarget`, so the tests run dbt exactly as the orchestration does.

dbt runs in-process through `dbtRunner` so the suite pays for parsing the project once: the parsed
manifest is handed to later invocations (`dbtRunner(manifest=...)`); `--vars` / `--full-refresh`
and the profile (`env_var`: the DuckDB file, the PostgreSQL database) are still read per
invocation, but the raw store's location is fixed at parse time (see `Warehouse.fresh`).
Environment variables are set only while dbt runs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner, dbtRunnerResult

from ingest_service.storage.locations import RawStores
from ingest_service.storage.parquet_files import EMPTY_FILE_NAME
from ingest_service.storage.raw_schema import (
    POSTGRES_DDL,
)
from ingest_service.upkeep.privacy_requests import record_request
from ingest_service.upkeep.raw_erasure import erase_raw_events
from orchestration.warehouse import DBT_PROJECT_DIR, WarehouseTarget
from tests.support.raw_store import write_events, write_privacy
from tests.support.reference_marts import MART_KEYS

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
        self.postgres_url = postgres_url
        self.stores = RawStores(
            data_dir=self.data_dir, database_url=postgres_url if target == "prod" else None
        )
        self.events_dir = self.stores.events_dir
        self.privacy_dir = self.stores.privacy_dir
        self.duckdb_path = work_dir / "warehouse.duckdb"
        self.location = WarehouseTarget(
            data_dir=self.data_dir,
            duckdb_path=self.duckdb_path,
            database_url=self.stores.database_url,
            pg_schema=PG_SCHEMA,
        )
        self._manifest: Any = None
        self._seeded = False
        self.stores.ensure_embedded()
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
        write_events(self.stores, rows)

    def append_privacy(self, rows: Sequence[Mapping[str, Any]]) -> None:
        write_privacy(self.stores, rows)

    def erase_user(self, user_id: str) -> None:
        """Delete the user's raw events and log the erasure, as the lifecycle's erasure does."""
        erase_raw_events(self.stores, user_id)
        record_request(self.stores, user_id, "erase")

    # ---------------------------------------------------------------- dbt

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
        with self.location.dbt_environment():
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

    def build(
        self,
        as_of: datetime | None,
        full_refresh: bool = False,
        command: str = "run",
        extra_vars: Mapping[str, Any] | None = None,
        select: str | None = None,
    ) -> None:
        """`dbt run` (or `build`, with seeds and tests) with `as_of` (None: leave the variable unset,
        so the run's start time is used) and any other dbt vars, of the `select`ed models (None:
        all); seeds are loaded on first use."""
        self._load_seeds()
        args = [command, *self._common_args()]
        if select:
            args += ["--select", select]
        variables = dict(extra_vars or {})
        if as_of is not None:
            variables["as_of"] = as_of_text(as_of)
        if variables:
            args += ["--vars", json.dumps(variables)]
        if full_refresh:
            args.append("--full-refresh")
        self._invoke(args)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Any read-only query against the warehouse's schema (models, seeds, intermediate tables)."""
        return self.location.query(sql)

    # ---------------------------------------------------------------- reading marts
    def read_marts(self, names: Sequence[str] = MART_NAMES) -> dict[str, list[dict[str, Any]]]:
        """Every named mart that was built (a mart not built is left out, so the comparison reports
        it as "not built"), as lists of rows; JSON columns parsed, timestamps in UTC."""
        built = self.location.relations()
        return {name: self.query(f'select * from "{name}"') for name in names if name in built}
