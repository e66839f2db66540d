"""A user's data in the raw stores (SPEC section 7): one set for erasure and export.

"Their own events and the events whose resolved user (section 5) is them", resolved over every
stored event — deduplicated (the earliest delivery of an event id wins), whatever the `occurred_at`,
bots included:
- a session's user is the user of its earliest event that has one; when none has, the user of its
  browser: the `anonymous_id` of its earliest event that has one, claimed by the first event
  RECEIVED that carries both that anonymous id and a user id;
- an event is the user's when it is theirs (`user_id`), or has no user and its session is theirs.
The warehouse resolves the same way over the staged events for the marts (dbt_project/models/
identity); here the input is every stored delivery, so that an erasure reaches everything.

The user's rejected events (SPEC section 11) follow from the same set: those with their verified
user id, and those without a user id sent from their sessions or browsers (`rejected_of_user_*`,
one rule for erasure and export, in SQL for PostgreSQL and as an Arrow mask for Parquet).

Only the rows that can matter are read: the user's own events, every delivery carrying an
anonymous id they claimed, and every delivery of the sessions those touch (and, for
deduplication, every delivery of those events), repeated until the set stops growing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from psycopg.rows import dict_row

from ingest_service.storage.locations import RawStores
from ingest_service.storage.parquet_files import EMPTY_FILE_NAME
from ingest_service.storage.raw_schema import RAW_EVENT_COLUMN_NAMES
from ingest_service.upkeep.embedded_rewrite import data_files, store_lock
from ingest_service.upkeep.postgres_store import RAW_EVENTS_RELATION, connect, has_raw_tables

Row = dict[str, Any]
_LOOKUP_COLUMNS = ("user_id", "anonymous_id", "session_id", "event_id")
#: the set converges in two or three rounds; more means a store keeps changing under us
_MAX_ROUNDS = 10


@dataclass
class UserData:
    """Which stored events are one user's, and through what."""

    user_id: str
    own_event_ids: set[str] = field(default_factory=set)
    """Events with the user's `user_id`."""
    stitched_event_ids: set[str] = field(default_factory=set)
    """Events without a user of their own whose session resolves to the user."""
    session_ids: set[str] = field(default_factory=set)
    """Sessions whose user (session_user) is the user."""
    anonymous_ids: set[str] = field(default_factory=set)
    """Browsers (anonymous ids) the user claimed first."""
    deliveries: list[Row] = field(default_factory=list)
    """Every stored delivery of the user's events, each with the `store` it came from."""

    @property
    def event_ids(self) -> set[str]:
        return self.own_event_ids | self.stitched_event_ids


#: The user's rows of `raw.rejected_events`; parameters from `rejected_of_user_parameters`.
REJECTED_OF_USER_SQL = (
    "user_id = %s or (user_id is null and (session_id = any(%s) or anonymous_id = any(%s)))"
)


def rejected_of_user_parameters(data: UserData) -> tuple[str, list[str], list[str]]:
    return data.user_id, sorted(data.session_ids), sorted(data.anonymous_ids)


def rejected_of_user_mask(table: pa.Table, data: UserData) -> pa.ChunkedArray:
    """`REJECTED_OF_USER_SQL` over a table of rejected events (columns user_id, session_id,
    anonymous_id); false, never null, where a column is null."""
    theirs = pc.equal(table["user_id"], data.user_id)
    anonymous = pc.is_null(table["user_id"])
    from_their_visits = pc.or_(
        pc.is_in(table["session_id"], pa.array(sorted(data.session_ids), pa.string())),
        pc.is_in(table["anonymous_id"], pa.array(sorted(data.anonymous_ids), pa.string())),
    )
    return pc.or_(pc.fill_null(theirs, False), pc.and_(anonymous, pc.fill_null(from_their_visits, False)))


def _order(row: Row) -> tuple:
    return (row["occurred_at"], row["received_at"], row["event_id"])


def _arrival(row: Row) -> tuple:
    return (row["received_at"], row["occurred_at"], row["event_id"])


class _Deliveries:
    """Raw deliveries read from every store, by the value of a lookup column."""

    def __init__(self, stores: RawStores) -> None:
        self.stores = stores
        self.rows: dict[tuple[str, str, Any], Row] = {}  # (store, event_id, received_at) → row
        self._asked: dict[str, set[str]] = {column: set() for column in _LOOKUP_COLUMNS}

    def fetch(self, column: str, values: Iterable[str]) -> None:
        wanted = sorted(set(values) - self._asked[column])
        if not wanted:
            return
        self._asked[column].update(wanted)
        if self.stores.database_url:
            self._add("postgresql", _postgres_rows(self.stores, column, wanted))
        if self.stores.has_embedded_events:
            self._add("embedded", _embedded_rows(self.stores.events_dir, column, wanted))

    def _add(self, store: str, rows: list[Row]) -> None:
        for row in rows:
            row["event_id"] = str(row["event_id"])
            self.rows[(store, row["event_id"], row["received_at"])] = {**row, "store": store}

    def winners(self) -> dict[str, Row]:
        """The earliest delivery of each event id (SPEC section 5's dedup)."""
        winners: dict[str, Row] = {}
        for row in self.rows.values():
            current = winners.get(row["event_id"])
            if current is None or (row["received_at"], _order(row)) < (
                current["received_at"],
                _order(current),
            ):
                winners[row["event_id"]] = row
        return winners


def find_user_data(stores: RawStores, user_id: str) -> UserData:
    """The user's data over every stored event (see the module docstring); read only."""
    deliveries = _Deliveries(stores)
    deliveries.fetch("user_id", [user_id])
    for _ in range(_MAX_ROUNDS):
        winners = deliveries.winners()
        own = [row for row in winners.values() if row["user_id"] == user_id]
        claimed = {row["anonymous_id"] for row in own if row["anonymous_id"]}
        deliveries.fetch("anonymous_id", claimed)
        candidate_sessions = {row["session_id"] for row in deliveries.rows.values()
                              if row["user_id"] == user_id or row["anonymous_id"] in claimed}  # fmt: skip
        deliveries.fetch("session_id", candidate_sessions)
        deliveries.fetch("event_id", {row["event_id"] for row in deliveries.rows.values()})
        if deliveries.winners().keys() == winners.keys():
            break
    return _resolve(user_id, deliveries)


def _resolve(user_id: str, deliveries: _Deliveries) -> UserData:
    winners = list(deliveries.winners().values())
    claims: dict[str, Row] = {}
    by_session: dict[str, list[Row]] = {}
    for row in winners:
        by_session.setdefault(row["session_id"], []).append(row)
        if row["anonymous_id"] and row["user_id"]:
            current = claims.get(row["anonymous_id"])
            if current is None or _arrival(row) < _arrival(current):
                claims[row["anonymous_id"]] = row
    data = UserData(user_id=user_id)
    data.anonymous_ids = {
        anonymous_id for anonymous_id, claim in claims.items() if claim["user_id"] == user_id
    }
    for session_id, rows in by_session.items():
        ordered = sorted(rows, key=_order)
        first_user = next((row["user_id"] for row in ordered if row["user_id"]), None)
        browser = next((row["anonymous_id"] for row in ordered if row["anonymous_id"]), None)
        if first_user == user_id or (first_user is None and browser in data.anonymous_ids):
            data.session_ids.add(session_id)
    for row in winners:
        if row["user_id"] == user_id:
            data.own_event_ids.add(row["event_id"])
        elif row["user_id"] is None and row["session_id"] in data.session_ids:
            data.stitched_event_ids.add(row["event_id"])
    data.deliveries = sorted(
        (row for row in deliveries.rows.values() if row["event_id"] in data.event_ids),
        key=lambda row: (row["occurred_at"], row["received_at"], row["event_id"], row["store"]),
    )
    return data


def _postgres_rows(stores: RawStores, column: str, values: list[str]) -> list[Row]:
    with connect(stores) as connection:
        if not has_raw_tables(connection):
            return []
        connection.execute("set time zone 'UTC'")
        cast = "::uuid[]" if column == "event_id" else ""
        with connection.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(
                f"select {', '.join(RAW_EVENT_COLUMN_NAMES)} from {RAW_EVENTS_RELATION}"
                f" where {column} = any(%s{cast})",
                (values,),
            ).fetchall()


def _embedded_rows(directory: Path, column: str, values: list[str]) -> list[Row]:
    # the lock keeps retention/erasure/compaction from replacing a file between listing and reading
    with store_lock(directory):
        files = data_files(directory)
        if not files:
            return []
        # files written before a column was added lack it: the empty file has the current schema
        empty = directory / EMPTY_FILE_NAME
        if empty.exists():
            files.append(empty)
        with duckdb.connect() as connection:
            connection.execute("set TimeZone = 'UTC'")
            cursor = connection.execute(
                f"select {', '.join(RAW_EVENT_COLUMN_NAMES)} from read_parquet(?, union_by_name = true)"
                f" where {column} in (select unnest(?))",
                [[str(path) for path in files], values],
            )
            names = [description[0] for description in cursor.description]
            rows = [dict(zip(names, record, strict=True)) for record in cursor.fetchall()]
    for row in rows:
        row["event_data"] = json.loads(row["event_data"]) if row["event_data"] else {}
    return rows
