"""The warehouse seen by the lifecycle: where the marts are, how to read one user's rows, how to run dbt.

The environment decides the engine the same way as everywhere else in the project (SPEC section 9):
no `DATABASE_URL` → DuckDB file `$DBT_DUCKDB_PATH` (default `$DATA_DIR/warehouse.duckdb`, schema
`main`, dbt target `dev`); a `DATABASE_URL` → the same PostgreSQL database, schema `$DBT_PG_SCHEMA`
(default `analytics`, dbt target `prod`). dbt reads its PostgreSQL connection from `PG*`, so they
are derived from `DATABASE_URL` for the dbt process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg.rows import dict_row

from ingest_service.lifecycle.stores import LifecycleError

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

#: Marts with one row per user (or per user and event type): what an export returns and what an
#: erasure must leave without the user. The other marts aggregate over users.
PER_USER_MARTS = ("sessions", "user_behavior_profile", "user_engagement_30d")
#: Columns holding JSON in `user_behavior_profile` (DuckDB returns them as text).
JSON_COLUMNS = frozenset({"preferred_houses", "preferred_notes", "preferred_price_range"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise LifecycleError(f"not a valid SQL identifier: {name!r}")
    return name


def postgres_env_from_url(database_url: str) -> dict[str, str]:
    """The libpq variables the dbt `prod` profile reads, from a `postgresql://` URL."""
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    env = {
        "PGHOST": str(info.get("host") or "127.0.0.1"),
        "PGPORT": str(info.get("port") or "5432"),
        "PGUSER": str(info.get("user") or "postgres"),
        "PGDATABASE": str(info.get("dbname") or "postgres"),
    }
    if info.get("password"):
        env["PGPASSWORD"] = str(info["password"])
    return env


@dataclass(frozen=True)
class WarehouseLocation:
    data_dir: Path
    duckdb_path: Path
    database_url: str | None = field(default=None, repr=False)
    pg_schema: str = "analytics"

    @classmethod
    def from_env(cls, data_dir: Path, database_url: str | None, env: Mapping[str, str] | None = None):
        env = os.environ if env is None else env
        data_dir = data_dir.resolve()
        duckdb_path = env.get("DBT_DUCKDB_PATH", "").strip()
        return cls(
            data_dir=data_dir,
            duckdb_path=Path(duckdb_path).resolve() if duckdb_path else data_dir / "warehouse.duckdb",
            database_url=database_url,
            pg_schema=_identifier(env.get("DBT_PG_SCHEMA", "").strip() or "analytics"),
        )

    @property
    def engine(self) -> str:
        return "postgres" if self.database_url else "duckdb"

    @property
    def dbt_target(self) -> str:
        return "prod" if self.database_url else "dev"

    def describe(self) -> str:
        if self.database_url:
            return f"postgresql schema {self.pg_schema}"
        return f"duckdb {self.duckdb_path.name}"

    def dbt_env(self) -> dict[str, str]:
        """Absolute paths (dbt runs inside `dbt_project/`, a relative path would move) and `PG*`."""
        env = {"DATA_DIR": str(self.data_dir), "DBT_DUCKDB_PATH": str(self.duckdb_path)}
        if self.database_url:
            env |= postgres_env_from_url(self.database_url)
            env |= {"DBT_PG_SCHEMA": self.pg_schema, "DATABASE_URL": self.database_url}
        return env

    def exists(self) -> bool:
        """Whether dbt has built this warehouse at least once (else nothing can be derived from a user)."""
        if not self.database_url:
            return self.duckdb_path.exists()
        try:
            with psycopg.connect(self.database_url, connect_timeout=10) as connection:
                row = connection.execute(
                    "select count(*) from information_schema.tables where table_schema = %s",
                    (self.pg_schema,),
                ).fetchone()
        except psycopg.OperationalError as exc:
            raise LifecycleError(f"cannot connect to the PostgreSQL warehouse: {exc}") from exc
        return bool(row and row[0])

    # ------------------------------------------------------------------ reading
    def rows_of_user(self, user_id: str, marts: tuple[str, ...] = PER_USER_MARTS) -> dict[str, list[dict]]:
        """Every row of the per-user marts whose `user_id` is `user_id`; a mart not built yet is empty.

        Returns an empty mapping when the warehouse has never been built.
        """
        if self.database_url:
            return self._postgres_rows(user_id, marts)
        return self._duckdb_rows(user_id, marts)

    def _duckdb_rows(self, user_id: str, marts: tuple[str, ...]) -> dict[str, list[dict]]:
        if not self.duckdb_path.exists():
            return {}
        try:
            connection = duckdb.connect(str(self.duckdb_path), read_only=True)
        except duckdb.IOException as exc:
            raise LifecycleError(
                f"the DuckDB warehouse {self.duckdb_path} is open for writing by another process "
                f"(a dbt run or Dagster); retry when it has finished ({exc})"
            ) from exc
        with connection:
            connection.execute("set TimeZone = 'UTC'")
            existing = {
                row[0]
                for row in connection.execute(
                    "select table_name from information_schema.tables where table_schema = 'main'"
                ).fetchall()
            }
            result = {}
            for mart in marts:
                if mart not in existing:
                    result[mart] = []
                    continue
                cursor = connection.execute(
                    f'select * from main."{_identifier(mart)}" where user_id = ? order by all', [user_id]
                )
                names = [column[0] for column in cursor.description]
                result[mart] = [_decode_json(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]
        return result

    def _postgres_rows(self, user_id: str, marts: tuple[str, ...]) -> dict[str, list[dict]]:
        try:
            connection = psycopg.connect(self.database_url, connect_timeout=10, row_factory=dict_row)
        except psycopg.OperationalError as exc:
            raise LifecycleError(f"cannot connect to the PostgreSQL warehouse: {exc}") from exc
        with connection:
            connection.execute("set time zone 'UTC'")
            existing = {
                row["table_name"]
                for row in connection.execute(
                    "select table_name from information_schema.tables where table_schema = %s",
                    (self.pg_schema,),
                )
            }
            if not existing:
                return {}
            result = {}
            for mart in marts:
                if mart not in existing:
                    result[mart] = []
                    continue
                rows = connection.execute(
                    f'select * from "{self.pg_schema}"."{_identifier(mart)}" where user_id = %s',
                    (user_id,),
                ).fetchall()
                result[mart] = [_decode_json(row) for row in rows]
        return result

    # ------------------------------------------------------------------ building
    def run_dbt(
        self,
        args: list[str],
        env: Mapping[str, str] | None = None,
        timeout_s: float = 3600,
        on_line: Callable[[str], None] | None = None,
    ) -> None:
        """Run `dbt <args>` on this warehouse's target in its own process, passing each output line
        to `on_line` as it comes (progress for a long run); raises LifecycleError when dbt fails.

        A separate process, because dbt keeps global state (adapters, DuckDB connections) that a
        long-lived caller such as a Dagster run worker should not inherit.
        """
        command = [
            dbt_executable(),
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            self.dbt_target,
        ]
        process_env = {**(os.environ if env is None else env), **self.dbt_env()}
        # its own artifacts directory: a lifecycle run never rewrites the manifest Dagster loads
        process_env.setdefault("DBT_TARGET_PATH", str(DBT_PROJECT_DIR / "target" / "lifecycle"))
        process_env.setdefault("DBT_USE_COLORS", "false")
        output: list[str] = []
        with subprocess.Popen(
            command, env=process_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as process:
            watchdog = threading.Timer(timeout_s, process.kill)
            watchdog.start()
            try:
                for line in process.stdout:
                    output.append(line.rstrip())
                    if on_line:
                        on_line(line.rstrip())
            finally:
                watchdog.cancel()
            returncode = process.wait()
        if returncode != 0:
            reason = (
                f"was stopped after {timeout_s:.0f} s" if returncode < 0 else f"failed (exit {returncode})"
            )
            raise LifecycleError(
                f"dbt {' '.join(args)} {reason} on target {self.dbt_target}: {dbt_error(output)}"
            )

    def run_incremental(self, as_of: str | None = None, on_line: Callable[[str], None] | None = None) -> None:
        """An incremental `dbt run`: re-derives users with new privacy-log rows (SPEC 6 and 7)."""
        args = ["run"]
        if as_of:
            args += ["--vars", json.dumps({"as_of": validate_as_of(as_of)})]
        self.run_dbt(args, on_line=on_line)


def validate_as_of(as_of: str) -> str:
    """dbt's `as_of` must be an ISO-8601 timestamp; say so here rather than deep inside a dbt error."""
    try:
        datetime.fromisoformat(as_of)
    except ValueError:
        raise LifecycleError(
            f"as_of must be an ISO timestamp such as 2026-05-01T12:00:00+00:00 (got {as_of!r})"
        ) from None
    return as_of


def dbt_executable() -> str:
    """dbt of this interpreter's environment (callers such as `make` do not activate the venv)."""
    beside_python = Path(sys.executable).with_name("dbt")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if found is None:
        raise LifecycleError("dbt is not installed: run `make install` (it installs dbt into .venv)")
    return found


_TIMESTAMP = re.compile(r"^\d\d:\d\d:\d\d\s+")


def dbt_error(output: list[str]) -> str:
    """The part of dbt's output that says what failed, without the Python traceback around it."""
    lines = [_TIMESTAMP.sub("", line) for line in output]
    for marker, keep in (("Encountered an error:", 3), ("Completed with", 15)):
        starts = [index for index, line in enumerate(lines) if line.startswith(marker)]
        if starts:
            picked = [
                line
                for line in lines[starts[-1] : starts[-1] + keep]
                if line.strip() and not line.startswith("Traceback")
            ]
            break
    else:
        picked = lines[-15:]
    message = "\n".join(picked)
    if "lock" in message.lower():
        message += (
            "\nAnother process (a dbt run, Dagster) is using the warehouse: retry when it has finished."
        )
    return message


def _decode_json(row: dict[str, Any]) -> dict[str, Any]:
    for name in JSON_COLUMNS & row.keys():
        if isinstance(row[name], str):
            row[name] = json.loads(row[name])
    return row
