"""Find every row, in any table or view of a warehouse or raw store, whose text mentions a user id.

Every column is cast to text and searched for the id as a substring, so the id is found inside
actor keys (`u:<id>`), JSON and arrays as well as in `user_id` columns. Relations derived from
the privacy log keep the user id on purpose (the proof of the erasure and the opt-out state) and
are left out by name.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg

PRIVACY_LOG_MARKER = "privacy"


def _where(columns: list[str], cast: str) -> str:
    return " or ".join(f'cast("{column}" as {cast}) like %(pattern)s' for column in columns)


def duckdb_mentions(database: Path, user_id: str) -> dict[str, int]:
    """Rows per relation of schema `main` of a DuckDB file (tables and views) that mention `user_id`."""
    found = {}
    with duckdb.connect(str(database), read_only=True) as connection:
        columns: dict[str, list[str]] = {}
        for table, column in connection.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'main'"
        ).fetchall():
            columns.setdefault(table, []).append(column)
        for table, names in sorted(columns.items()):
            if PRIVACY_LOG_MARKER in table:
                continue
            where = _where(names, "varchar").replace("%(pattern)s", "$pattern")
            [(count,)] = connection.execute(
                f'select count(*) from main."{table}" where {where}', {"pattern": f"%{user_id}%"}
            ).fetchall()
            if count:
                found[table] = count
    return found


def parquet_mentions(directory: Path, user_id: str) -> int:
    """Rows of an embedded store directory whose any column mentions `user_id`."""
    relation = duckdb.read_parquet(str(directory / "*.parquet"))
    where = _where(relation.columns, "varchar").replace("%(pattern)s", "$pattern")
    [(count,)] = duckdb.execute(
        f"select count(*) from read_parquet($glob) where {where}",
        {"glob": str(directory / "*.parquet"), "pattern": f"%{user_id}%"},
    ).fetchall()
    return count


def postgres_mentions(url: str, schemas: list[str], user_id: str) -> dict[str, int]:
    """Rows per relation (tables and views) of `schemas` in PostgreSQL that mention `user_id`."""
    found = {}
    with psycopg.connect(url) as connection:
        columns: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in connection.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where table_schema = any(%s)",
            (schemas,),
        ):
            columns.setdefault((schema, table), []).append(column)
        for (schema, table), names in sorted(columns.items()):
            if PRIVACY_LOG_MARKER in table:
                continue
            [count] = connection.execute(
                f'select count(*) from "{schema}"."{table}" where {_where(names, "text")}',
                {"pattern": f"%{user_id}%"},
            ).fetchone()
            if count:
                found[f"{schema}.{table}"] = count
    return found


def snapshot_mentions(snapshots_root: Path, user_id: str) -> dict[str, int]:
    """Rows per Parquet file of every published snapshot build under `snapshots_root` (any
    directory, current or not) that mention `user_id` in any column."""
    found = {}
    for path in sorted(snapshots_root.glob("*/*.parquet")):
        columns = duckdb.read_parquet(str(path)).columns
        where = _where(columns, "varchar").replace("%(pattern)s", "$pattern")
        [(count,)] = duckdb.execute(
            f"select count(*) from read_parquet($path) where {where}",
            {"path": str(path), "pattern": f"%{user_id}%"},
        ).fetchall()
        if count:
            found[f"{path.parent.name}/{path.name}"] = count
    return found
