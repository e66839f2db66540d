"""The warehouse: where dbt builds the marts, how to reach it, and the one writer at a time.

`WarehouseTarget.from_env()` is the one description every part uses (the Dagster resources, the
lifecycle CLI, the quickstart, the tests and the benchmarks): no `DATABASE_URL` → DuckDB file
`$DBT_DUCKDB_PATH` (default `$DATA_DIR/warehouse.duckdb`, schema `main`, dbt target `dev`); a
`DATABASE_URL` → the same PostgreSQL database, schema `$DBT_PG_SCHEMA` (default `analytics`, dbt
target `prod`, `PG*` derived from the URL for the dbt process).

Writers. DuckDB allows one writing process per file and fails the second at once, and two builds
of the PostgreSQL marts would interleave their delete+insert steps. So every writer — a Dagster run
of the dbt assets, the erasure rebuild (Dagster job or CLI) — holds `writer_lock()`, a lock across
processes: a file lock beside the DuckDB file, an advisory lock on PostgreSQL. Inside one Dagster
instance the writers also share the `warehouse` pool and their jobs the `warehouse: write` tag,
so the run queue does not even start two of them (`orchestration/deploy/dagster*.yaml`).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pyarrow as pa
from psycopg.rows import dict_row

from ingest_service.environment import SettingsError, sql_identifier
from ingest_service.storage.locations import (
    POSTGRES_URL_SCHEMES,
    RawStores,
    data_dir_from_env,
    database_url_from_env,
    marts_schema_from_env,
)
from ingest_service.upkeep.errors import LifecycleError
from orchestration.environment import environment_overrides
from orchestration.warehouse_arrow import json_as_text, postgres_arrow, with_utc_timestamps

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

#: Every mart of SPEC section 5, in the order reports list them.
MARTS = (
    "sessions",
    "perfume_interaction_stats",
    "trending_perfumes",
    "user_behavior_profile",
    "post_engagement",
    "user_engagement_30d",
    "identity_map",
    "user_item_interactions",
    "weekly_retention_cohorts",
)
#: Marts with rows of one user (per user, per user and event type, per session or browser of the
#: user): what an export returns and what an erasure must leave without the user. The other marts
#: aggregate over users.
PER_USER_MARTS = (
    "sessions",
    "user_behavior_profile",
    "user_engagement_30d",
    "identity_map",
    "user_item_interactions",
)
#: The model holding every raw delivery the warehouse has processed (see `processed_through`).
PROCESSED_EVENTS_MODEL = "base_interaction_events"
#: Columns holding JSON in `user_behavior_profile` (DuckDB returns them as text).
JSON_COLUMNS = frozenset({"preferred_houses", "preferred_notes", "preferred_price_range"})

#: Dagster: the concurrency pool of every op and asset that writes the warehouse…
WAREHOUSE_POOL = "warehouse"
#: …and the tag of every job that contains one; both are limited to 1 in the instance config.
WAREHOUSE_WRITE_TAG = {"warehouse": "write"}

_TRY_ADVISORY_LOCK_SQL = "select pg_try_advisory_lock(hashtext(%s))"


def postgres_env_from_url(database_url: str) -> dict[str, str]:
    """The libpq variables (`PG*`) the dbt `prod` profile reads, from a `postgresql://` URL
    (percent-escapes decoded, the password kept)."""
    if not database_url.startswith(POSTGRES_URL_SCHEMES):
        raise SettingsError("DATABASE_URL must be a postgresql:// URL (unset it for the embedded store)")
    try:
        info = psycopg.conninfo.conninfo_to_dict(database_url)
    except psycopg.ProgrammingError as exc:
        raise SettingsError(f"DATABASE_URL is not a valid PostgreSQL URL: {exc}") from None
    env = {
        "PGHOST": str(info.get("host") or "127.0.0.1"),
        "PGPORT": str(info.get("port") or "5432"),
        "PGUSER": str(info.get("user") or "postgres"),
        "PGDATABASE": str(info.get("dbname") or "postgres"),
    }
    if info.get("password"):
        env["PGPASSWORD"] = str(info["password"])
    return env


def validate_as_of(as_of: str) -> str:
    """dbt's `as_of` must be an ISO-8601 timestamp; say so here rather than deep inside a dbt error."""
    try:
        datetime.fromisoformat(as_of)
    except ValueError:
        raise LifecycleError(
            f"as_of must be an ISO timestamp such as 2026-05-01T12:00:00+00:00 (got {as_of!r})"
        ) from None
    return as_of


def as_of_vars(as_of: str | None) -> list[str]:
    """dbt arguments that set the `as_of` variable (none: the run's start time). A changed `--vars`
    makes dbt re-parse the project; `as_of_environment` does not."""
    return ["--vars", json.dumps({"as_of": validate_as_of(as_of)})] if as_of else []


#: read by the `as_of()` macro when the var is unset, at execution only, so partial parsing holds
AS_OF_ENVIRONMENT_VARIABLE = "DBT_AS_OF"


def as_of_environment(as_of: str | None) -> dict[str, str]:
    """The environment that gives a dbt run its `as_of` without re-parsing (none: run start)."""
    return {AS_OF_ENVIRONMENT_VARIABLE: validate_as_of(as_of)} if as_of else {}


@dataclass(frozen=True)
class WarehouseTarget:
    """One warehouse: a DuckDB file or a PostgreSQL schema (see the module docstring)."""

    data_dir: Path
    """`DATA_DIR`, absolute: where dbt's sources read the embedded raw store."""
    duckdb_path: Path
    """`DBT_DUCKDB_PATH`, absolute (default `$DATA_DIR/warehouse.duckdb`)."""
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    """`DATABASE_URL`: set → the marts live in this PostgreSQL database (dbt target `prod`)."""
    pg_schema: str = "analytics"
    """`DBT_PG_SCHEMA`: schema of the marts in PostgreSQL."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WarehouseTarget:
        env = os.environ if env is None else env
        data_dir = data_dir_from_env(env)
        duckdb_path = env.get("DBT_DUCKDB_PATH", "").strip()
        database_url = database_url_from_env(env)
        if database_url:
            postgres_env_from_url(database_url)  # a bad URL fails here, with the reason
        return cls(
            data_dir=data_dir,
            duckdb_path=Path(duckdb_path).resolve() if duckdb_path else data_dir / "warehouse.duckdb",
            database_url=database_url,
            pg_schema=marts_schema_from_env(env),
        )

    @property
    def raw_stores(self) -> RawStores:
        """The raw stores dbt's sources read."""
        return RawStores(data_dir=self.data_dir, database_url=self.database_url)

    @property
    def engine(self) -> str:
        return "postgres" if self.database_url else "duckdb"

    @property
    def dbt_target(self) -> str:
        return "prod" if self.database_url else "dev"

    @property
    def schema(self) -> str:
        return self.pg_schema if self.database_url else "main"

    def describe(self) -> str:
        if self.database_url:
            return f"postgresql schema {self.pg_schema}"
        return f"duckdb {self.duckdb_path.name}"

    # ------------------------------------------------------------------ dbt's environment
    def dbt_env(self) -> dict[str, str]:
        """What the dbt profiles read: absolute paths (dbt runs inside `dbt_project/`), the target
        and, for PostgreSQL, `PG*` and the schema."""
        env = {
            "DATA_DIR": str(self.data_dir),
            "DBT_DUCKDB_PATH": str(self.duckdb_path),
            "DBT_TARGET": self.dbt_target,
        }
        if self.database_url:
            env |= postgres_env_from_url(self.database_url)
            env |= {"DBT_PG_SCHEMA": self.pg_schema, "DATABASE_URL": self.database_url}
        return env

    @contextmanager
    def dbt_environment(self) -> Iterator[None]:
        """dbt (in-process or the process dagster-dbt starts) reads `os.environ`: set it for the call."""
        with environment_overrides(self.dbt_env()):
            yield

    # ------------------------------------------------------------------ one writer at a time
    @contextmanager
    def writer_lock(
        self, on_wait: Callable[[str], None] | None = None, timeout_s: float | None = None
    ) -> Iterator[None]:
        """Hold the warehouse's writer lock (across processes) for the block; waits for it.

        `on_wait` is told once when another writer holds it; `timeout_s` (None: wait as long as it
        takes) bounds the wait, after which LifecycleError says who to wait for.
        """
        if self.database_url:
            with self._postgres_writer_lock(on_wait, timeout_s):
                yield
        else:
            with self._duckdb_writer_lock(on_wait, timeout_s):
                yield

    @property
    def writer_lock_file(self) -> Path:
        return self.duckdb_path.with_name(self.duckdb_path.name + ".writer.lock")

    @contextmanager
    def _duckdb_writer_lock(self, on_wait, timeout_s) -> Iterator[None]:
        self.writer_lock_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.writer_lock_file, "a") as handle:
            _wait_for(
                lambda: _try_flock(handle.fileno()),
                on_wait,
                timeout_s,
                f"another process is writing {self.duckdb_path.name}",
            )
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @contextmanager
    def _postgres_writer_lock(self, on_wait, timeout_s) -> Iterator[None]:
        key = f"interaction_pipeline.warehouse_writer:{self.pg_schema}"
        with self._connect_postgres(autocommit=True) as connection:
            _wait_for(
                lambda: connection.execute(_TRY_ADVISORY_LOCK_SQL, (key,)).fetchone()[0],
                on_wait,
                timeout_s,
                f"another process is writing PostgreSQL schema {self.pg_schema}",
            )
            try:
                yield
            finally:
                if not connection.closed:
                    connection.execute("select pg_advisory_unlock(hashtext(%s))", (key,))

    # ------------------------------------------------------------------ reading
    def exists(self) -> bool:
        """Whether dbt has built this warehouse at least once (else nothing can be derived from a user)."""
        if not self.database_url:
            return self.duckdb_path.exists()
        with self._connect_postgres() as connection:
            row = connection.execute(
                "select count(*) from information_schema.tables where table_schema = %s", (self.pg_schema,)
            ).fetchone()
        return bool(row and row[0])

    def processed_through(self) -> datetime | None:
        """The newest `received_at` of the raw events the warehouse has processed; None before its
        first build. The one place that reads the warehouse's incremental state for others (the
        new-events sensor): `base_interaction_events` holds every processed delivery (the
        manifest, `incremental_manifest`, says when models were built, not which events)."""
        if not self.exists() or PROCESSED_EVENTS_MODEL not in self.relations():
            return None
        (row,) = self.query(f"select max(received_at) as latest from {PROCESSED_EVENTS_MODEL}")
        latest = row["latest"]
        if latest is None:
            return None
        return latest.replace(tzinfo=UTC) if latest.tzinfo is None else latest.astimezone(UTC)

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """One read-only query against the marts' schema (`%(name)s` parameters on both engines);
        timestamps come back in UTC, JSON columns parsed."""
        if self.database_url:
            with self._connect_postgres(row_factory=dict_row) as connection:
                connection.execute("set time zone 'UTC'")
                connection.execute(f'set search_path to "{self.pg_schema}", public')
                rows = list(connection.execute(sql, parameters).fetchall())
        else:
            duckdb_sql = re.sub(r"%\((\w+)\)s", r"$\1", sql)
            with self._connect_duckdb() as connection:
                connection.execute("set TimeZone = 'UTC'")
                cursor = connection.execute(duckdb_sql, dict(parameters or {}))
                names = [column[0] for column in cursor.description]
                rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return [_decode_json(row) for row in rows]

    def read_arrow(self, queries: Mapping[str, str]) -> dict[str, pa.Table]:
        """name → Arrow table of each read-only query, all from one view of the warehouse: one
        DuckDB connection, or one repeatable-read transaction on PostgreSQL (JSON as text,
        timestamps UTC; see `warehouse_arrow`). The caller holds the writer lock when the DuckDB
        file may be being built."""
        if self.database_url:
            with self._connect_postgres() as connection:
                json_as_text(connection)
                connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                connection.read_only = True
                connection.execute("set local time zone 'UTC'")
                connection.execute(f'set local search_path to "{self.pg_schema}", public')
                tables = {name: postgres_arrow(connection.execute(sql)) for name, sql in queries.items()}
        else:
            with self._connect_duckdb() as connection:
                connection.execute("set TimeZone = 'UTC'")
                tables = {name: connection.sql(sql).to_arrow_table() for name, sql in queries.items()}
        return {name: with_utc_timestamps(table) for name, table in tables.items()}

    def relations(self) -> set[str]:
        """Tables and views dbt has built in the marts' schema."""
        rows = self.query(
            "select table_name from information_schema.tables where table_schema = %(schema)s",
            {"schema": self.schema},
        )
        return {row["table_name"] for row in rows}

    def rows_of_user(self, user_id: str, marts: tuple[str, ...] = PER_USER_MARTS) -> dict[str, list[dict]]:
        """Every row of the per-user marts whose `user_id` is `user_id`; a mart not built yet is empty.

        Returns an empty mapping when the warehouse has never been built.
        """
        if not self.exists():
            return {}
        built = self.relations()
        return {
            mart: self.query(f'select * from "{sql_identifier(mart, "mart")}" where user_id = %(user_id)s',
                             {"user_id": user_id})
            if mart in built
            else []
            for mart in marts
        }  # fmt: skip

    def _connect_postgres(self, **kwargs: Any) -> psycopg.Connection:
        try:
            return psycopg.connect(self.database_url, connect_timeout=10, **kwargs)
        except psycopg.OperationalError as exc:
            raise LifecycleError(f"cannot connect to the PostgreSQL warehouse: {exc}") from exc

    def _connect_duckdb(self) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(self.duckdb_path), read_only=True)
        except duckdb.IOException as exc:
            raise LifecycleError(
                f"the DuckDB warehouse {self.duckdb_path} is open for writing by another process "
                f"(a dbt run or Dagster); retry when it has finished ({exc})"
            ) from exc


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait_for(
    try_once: Callable[[], bool], on_wait: Callable[[str], None] | None, timeout_s: float | None, who: str
) -> None:
    """Poll `try_once` until it succeeds: a writer waits for the one before it instead of failing."""
    if try_once():
        return
    if on_wait:
        on_wait(f"waiting for the warehouse: {who}")
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while not try_once():
        if deadline is not None and time.monotonic() > deadline:
            raise LifecycleError(f"gave up after {timeout_s:g} s: {who}; retry when it has finished")
        time.sleep(0.2)


def _decode_json(row: dict[str, Any]) -> dict[str, Any]:
    for name in JSON_COLUMNS & row.keys():
        if isinstance(row[name], str):
            row[name] = json.loads(row[name])
    return row
