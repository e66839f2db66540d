"""Erasure's store half: every raw row of the user goes, from both stores, and nothing else does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import psycopg
import pytest

from ingest_service.storage.bulk_load import append_rows_parquet, copy_rows_postgres
from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import POSTGRES_DDL
from ingest_service.storage.snapshots import published_builds, read_snapshot, snapshots_dir
from ingest_service.upkeep.errors import LifecycleError
from ingest_service.upkeep.raw_erasure import erase_raw_events
from orchestration.lifecycle.erasure import erase_user
from orchestration.snapshots import publish_snapshot
from orchestration.warehouse import WarehouseTarget
from tests.support.events import raw_event, rejected_event
from tests.support.raw_store import write_events, write_rejected
from tests.support.read_fixture import hand_made_warehouse

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _rows(user_id: str | None, count: int, session_id: str) -> list[dict]:
    return [
        raw_event(received_at=T0 + timedelta(minutes=i), user_id=user_id, session_id=session_id)
        for i in range(count)
    ]


def _embedded_ids(stores: RawStores) -> set[tuple[str, str | None]]:
    rows = duckdb.sql(
        f"select event_id, user_id from read_parquet('{stores.events_dir}/*.parquet')"
    ).fetchall()
    return set(rows)


def _postgres_ids(url: str) -> set[tuple[str, str | None]]:
    with psycopg.connect(url) as connection:
        return set(connection.execute("select event_id::text, user_id from raw.interaction_events"))


def _privacy_actions(stores: RawStores) -> list[tuple[str, str]]:
    with psycopg.connect(stores.database_url) as connection:
        return list(
            connection.execute("select user_id, action from raw.user_privacy_events order by requested_at")
        )


@pytest.mark.postgres
def test_erasure_removes_the_users_rows_from_both_stores_and_is_idempotent(tmp_path, postgres_url):
    stores = RawStores(database_url=postgres_url, data_dir=tmp_path)
    warehouse = WarehouseTarget.from_env({"DATA_DIR": str(tmp_path), "DATABASE_URL": postgres_url})
    # the same user in a mixed file and a file of their own, plus files without them; the
    # anonymous event in their session s-a is theirs too (SPEC 7: resolved to them), the one in
    # keep-me's session s-b is not
    mixed = (
        _rows("erase-me", 2, "s-a")
        + _rows("keep-me", 2, "s-b")
        + _rows(None, 1, "s-a")
        + _rows(None, 1, "s-b")
    )
    only_user = _rows("erase-me", 3, "s-c")
    others = _rows("keep-me", 2, "s-d")
    append_rows_parquet(stores.events_dir, mixed)
    append_rows_parquet(stores.events_dir, only_user)
    others_file = append_rows_parquet(stores.events_dir, others)
    others_inode = others_file.stat().st_ino
    with psycopg.connect(postgres_url) as connection:
        connection.execute(POSTGRES_DDL)
        copy_rows_postgres(connection, _rows("erase-me", 4, "s-e") + _rows("keep-me", 1, "s-f"))
    all_rows = mixed + only_user + others
    expected_embedded = {
        (r["event_id"], r["user_id"])
        for r in all_rows
        if r["user_id"] != "erase-me" and not (r["user_id"] is None and r["session_id"] == "s-a")
    }
    expected_postgres = {(e, u) for e, u in _postgres_ids(postgres_url) if u != "erase-me"}

    report = erase_user(stores, warehouse, "erase-me")

    assert _embedded_ids(stores) == expected_embedded
    assert _postgres_ids(postgres_url) == expected_postgres
    assert (report.raw.postgres_rows_removed, report.raw.embedded.rows_removed) == (4, 6)
    assert (report.raw.own_events, report.raw.stitched_events) == (9, 1)
    assert (report.raw.embedded.files_rewritten, report.raw.embedded.files_deleted) == (1, 1)
    assert others_file.stat().st_ino == others_inode
    assert report.warehouse is None  # no warehouse was ever built here, so there is nothing to rebuild
    assert _privacy_actions(stores) == [("erase-me", "erase")]

    again = erase_user(stores, warehouse, "erase-me")
    assert again.raw.rows_removed == 0
    assert _embedded_ids(stores) == expected_embedded
    assert _postgres_ids(postgres_url) == expected_postgres
    assert _privacy_actions(stores) == [("erase-me", "erase"), ("erase-me", "erase")]


def test_erasure_of_an_unknown_user_changes_nothing_and_a_bad_id_is_refused(tmp_path):
    stores = RawStores(database_url=None, data_dir=tmp_path)
    warehouse = WarehouseTarget.from_env({"DATA_DIR": str(tmp_path)})
    rows = _rows("someone", 3, "s-1")
    append_rows_parquet(stores.events_dir, rows)

    report = erase_user(stores, warehouse, "nobody")

    assert report.raw.rows_removed == 0
    assert _embedded_ids(stores) == {(r["event_id"], "someone") for r in rows}
    with pytest.raises(LifecycleError, match="at most 128"):
        erase_user(stores, warehouse, "x" * 129)
    with pytest.raises(LifecycleError, match="non-empty"):
        erase_user(stores, warehouse, "  ")


@pytest.mark.slow
def test_a_busy_warehouse_fails_the_rebuild_with_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt_logs"))
    stores = RawStores(database_url=None, data_dir=tmp_path)
    append_rows_parquet(stores.events_dir, _rows("busy-user", 2, "s-1"))
    warehouse = WarehouseTarget.from_env({"DATA_DIR": str(tmp_path)})
    # this process holds DuckDB's write lock, as a running dbt or Dagster process would
    with duckdb.connect(str(warehouse.duckdb_path)), pytest.raises(LifecycleError) as failure:
        erase_user(stores, warehouse, "busy-user")

    message = str(failure.value)
    assert "dbt run failed" in message and "lock" in message
    assert "Another process" in message and "erase busy-user` again" in message
    assert "Traceback" not in message
    # the raw half is done and logged, so re-running only has the rebuild left to do
    assert _embedded_ids(stores) == set()
    logged = duckdb.sql(f"select user_id, action from read_parquet('{stores.privacy_dir}/*.parquet')")
    assert logged.fetchall() == [("busy-user", "erase")]


def test_an_erasure_without_a_rebuild_deletes_every_published_snapshot(tmp_path):
    warehouse = hand_made_warehouse(tmp_path)
    stores = RawStores(database_url=None, data_dir=warehouse.data_dir)
    append_rows_parquet(stores.events_dir, _rows("erase-me", 2, "s-1"))
    published = [publish_snapshot(warehouse).build_id for _ in range(2)]

    # the marts are not rebuilt, so no snapshot without the user can be published: none is left
    report = erase_user(stores, warehouse, "erase-me", rebuild_warehouse=False)

    root = snapshots_dir(warehouse.data_dir)
    assert sorted(report.snapshots_deleted) == published and report.snapshot is None
    assert published_builds(root) == [] and read_snapshot(root) is None


@pytest.mark.parametrize("mode", ["embedded", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_erasure_removes_the_users_rejected_events_and_no_others(tmp_path, mode, request):
    """SPEC section 11: erasure covers rejected events — with the user's verified id, or without
    one, sent from their sessions or browsers; another user's (even in her session) stay."""
    url = request.getfixturevalue("postgres_url") if mode == "postgresql" else None
    stores = RawStores(database_url=url, data_dir=tmp_path)
    browser = "5d0f1c7e-8a52-4b8e-a0a4-9a3b3e0c2d17"
    write_events(
        stores, [raw_event(received_at=T0, user_id="anna", session_id="s-anna", anonymous_id=browser)]
    )
    sent = {"eventType": "NOT_A_TYPE"}
    hers = [
        rejected_event(sent, received_at=T0, user_id="anna", session_id="s-9"),
        rejected_event(sent, received_at=T0, session_id="s-anna"),
        rejected_event(sent, received_at=T0, session_id="s-new", anonymous_id=browser),
    ]
    others = [
        rejected_event(sent, received_at=T0, user_id="bruno", session_id="s-anna"),
        rejected_event(sent, received_at=T0, session_id="s-stranger"),
    ]
    write_rejected(stores, hers + others)

    report = erase_raw_events(stores, "anna")

    assert report.rejected_rows_removed == 3
    assert _rejection_ids(stores) == {row["rejection_id"] for row in others}


def _rejection_ids(stores: RawStores) -> set[str]:
    if stores.database_url:
        with psycopg.connect(stores.database_url) as connection:
            return {
                row[0] for row in connection.execute("select rejection_id::text from raw.rejected_events")
            }
    rows = duckdb.sql(f"select rejection_id from read_parquet('{stores.rejected_dir}/*.parquet')").fetchall()
    return {row[0] for row in rows}
