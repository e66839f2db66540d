"""The privacy log (SPEC section 7): append opt-out / opt-in / erase requests, read who is opted out.

Plain functions, usable without the web app (the upkeep commands call them too). A `PrivacyStore`
is an open `psycopg.Connection` (works inside the caller's transaction), a `postgresql://` URL, or
the `Path` of the embedded `user_privacy_events` directory (`RawStores.privacy_store` gives the one
of a deployment).

A user's current state is their latest opt_out/opt_in row; `erase` rows record erasures and do not
change it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from ingest_service.storage.locations import POSTGRES_URL_SCHEMES
from ingest_service.storage.parquet_files import EMPTY_FILE_NAME, write_parquet_atomically
from ingest_service.storage.raw_schema import (
    POSTGRES_DDL,
    PRIVACY_ACTIONS,
    PRIVACY_EVENTS_ARROW_SCHEMA,
    PRIVACY_EVENTS_RELATION,
)

_STATE_ACTIONS = ("opt_out", "opt_in")

_LATEST_STATE_SQL = f"""
select user_id from (
    select distinct on (user_id) user_id, action
    from {PRIVACY_EVENTS_RELATION}
    where action in ('opt_out', 'opt_in') {{filter}}
    order by user_id, requested_at desc
) latest
where action = 'opt_out'
"""


INSERT_SQL = f"insert into {PRIVACY_EVENTS_RELATION} (user_id, action, requested_at) values (%s, %s, %s)"
#: the opted-out users among `%s` (a list of user ids)
OPTED_OUT_AMONG_SQL = _LATEST_STATE_SQL.format(filter="and user_id = any(%s)")


PrivacyStore = psycopg.Connection | str | Path


def _checked(store: PrivacyStore) -> PrivacyStore:
    if isinstance(store, str) and not store.startswith(POSTGRES_URL_SCHEMES):
        raise ValueError("a privacy store given as text must be a postgresql:// URL")
    return store


def record_privacy_action(
    store: PrivacyStore, user_id: str, action: str, requested_at: datetime | None = None
) -> datetime:
    """Append one request to the log; durable when this returns. Returns its `requested_at`."""
    if action not in PRIVACY_ACTIONS:
        raise ValueError(f"action must be one of {', '.join(PRIVACY_ACTIONS)}, got {action!r}")
    if not user_id:
        raise ValueError("user_id must be a non-empty string")
    requested_at = requested_at or datetime.now(UTC)
    target = _checked(store)
    if isinstance(target, Path):
        table = pa.Table.from_pydict(
            {"user_id": [user_id], "action": [action], "requested_at": [requested_at]},
            schema=PRIVACY_EVENTS_ARROW_SCHEMA,
        )
        write_parquet_atomically(target, table)
        return requested_at
    if isinstance(target, psycopg.Connection):
        target.execute(INSERT_SQL, (user_id, action, requested_at))
    else:
        with psycopg.connect(target) as connection:
            connection.execute(POSTGRES_DDL)  # a CLI may run before the service ever created the tables
            connection.execute(INSERT_SQL, (user_id, action, requested_at))
    return requested_at


def _opted_out_postgres(connection: psycopg.Connection, user_ids: list[str] | None) -> set[str]:
    if user_ids is None:
        rows = connection.execute(_LATEST_STATE_SQL.format(filter="")).fetchall()
    else:
        rows = connection.execute(OPTED_OUT_AMONG_SQL, (user_ids,)).fetchall()
    return {row[0] for row in rows}


def _privacy_files(directory: Path) -> tuple[str, ...]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return ()
    return tuple(sorted(name for name in names if name.endswith(".parquet") and name != EMPTY_FILE_NAME))


def _opted_out_from_files(directory: Path, names: tuple[str, ...]) -> set[str]:
    latest: dict[str, tuple[datetime, str]] = {}
    for name in names:
        try:
            table = pq.read_table(directory / name, columns=["user_id", "action", "requested_at"])
        except FileNotFoundError:  # replaced by a compaction between listing and reading
            continue
        for user_id, action, requested_at in zip(
            *(table.column(column).to_pylist() for column in ("user_id", "action", "requested_at")),
            strict=True,
        ):
            if action in _STATE_ACTIONS and (user_id not in latest or requested_at >= latest[user_id][0]):
                latest[user_id] = (requested_at, action)
    return {user_id for user_id, (_, action) in latest.items() if action == "opt_out"}


def opted_out_users(store: PrivacyStore, user_ids: Iterable[str] | None = None) -> set[str]:
    """The users (of `user_ids`, or all) whose latest opt_out/opt_in request is an opt_out."""
    wanted = None if user_ids is None else sorted(set(user_ids))
    if wanted == []:
        return set()
    target = _checked(store)
    if isinstance(target, Path):
        opted_out = _opted_out_from_files(target, _privacy_files(target))
    elif isinstance(target, psycopg.Connection):
        opted_out = _opted_out_postgres(target, wanted)
    else:
        with psycopg.connect(target) as connection:
            connection.execute(POSTGRES_DDL)
            opted_out = _opted_out_postgres(connection, wanted)
    return opted_out if wanted is None else opted_out & set(wanted)


class EmbeddedOptOutCache:
    """Opted-out users of an embedded privacy directory, reloaded whenever its files change.

    Files are immutable and uniquely named, so the sorted list of names identifies the content:
    listing the directory before every check (one syscall) means an opt-out written by any process
    before a batch is checked is never missed, while the files are parsed only when they change.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._names: tuple[str, ...] | None = None
        self._opted_out: set[str] = set()
        self._lock = threading.Lock()

    def opted_out(self, user_ids: Iterable[str]) -> set[str]:
        names = _privacy_files(self.directory)
        with self._lock:
            if names != self._names:
                self._opted_out = _opted_out_from_files(self.directory, names)
                self._names = names
            return self._opted_out.intersection(user_ids)
