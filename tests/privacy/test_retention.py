"""Retention removes exactly the raw events and the rejected events received more than
RETENTION_DAYS ago, in both stores (SPEC section 11: rejected events are "removed by retention like
raw events")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import psycopg
import pytest

from ingest_service.storage.bulk_load import append_rows_parquet, copy_rows_postgres
from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import POSTGRES_DDL
from ingest_service.upkeep import retention
from ingest_service.upkeep.retention import apply_retention
from orchestration.lifecycle.cli import main
from tests.support.events import raw_event, rejected_event
from tests.support.raw_store import write_rejected

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
#: 90 days before NOW, written out rather than computed by the code under test
CUTOFF = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _batches() -> dict[str, list[dict]]:
    """Three files: only old rows, old and recent rows around the cut-off, only recent rows."""
    return {
        "old": [
            raw_event(received_at=datetime(2025, 12, 1, tzinfo=UTC)),
            raw_event(received_at=CUTOFF - timedelta(days=1), user_id="u-1"),
        ],
        "mixed": [
            raw_event(received_at=CUTOFF - MICROSECOND),
            # occurred long ago but received inside the window: age is by received_at, so it stays
            raw_event(received_at=CUTOFF, occurred_at=datetime(2025, 1, 1, tzinfo=UTC)),
            raw_event(received_at=CUTOFF + timedelta(days=3), user_id="u-2"),
        ],
        "recent": [
            raw_event(received_at=NOW - timedelta(hours=1)),
            raw_event(received_at=CUTOFF + MICROSECOND),
        ],
    }


def _expected_kept(batches: dict[str, list[dict]]) -> set[str]:
    return {row["event_id"] for rows in batches.values() for row in rows if row["received_at"] >= CUTOFF}


def _parquet_ids(directory) -> set[str]:
    rows = duckdb.sql(f"select event_id from read_parquet('{directory}/*.parquet')").fetchall()
    return {row[0] for row in rows}


def test_embedded_store_loses_only_old_rows_and_recent_files_stay_untouched(tmp_path):
    stores = RawStores(database_url=None, data_dir=tmp_path)
    batches = _batches()
    files = {name: append_rows_parquet(stores.events_dir, rows) for name, rows in batches.items()}
    recent_stat = files["recent"].stat()

    dry = apply_retention(stores, days=90, now=NOW, dry_run=True)
    assert dry.embedded.rows_removed == 3
    assert len(_parquet_ids(stores.events_dir)) == 7

    report = apply_retention(stores, days=90, now=NOW)

    assert report.cutoff == CUTOFF
    assert _parquet_ids(stores.events_dir) == _expected_kept(batches)
    assert report.rows_removed == report.embedded.rows_removed == 3
    assert (report.embedded.files_deleted, report.embedded.files_rewritten) == (1, 1)
    assert report.postgres_rows_removed is None
    assert not files["old"].exists()
    # the recent file is neither read for rows nor replaced
    assert files["recent"].stat().st_ino == recent_stat.st_ino
    assert report.embedded.files_scanned == 2

    again = apply_retention(stores, days=90, now=NOW)
    assert again.rows_removed == 0
    assert _parquet_ids(stores.events_dir) == _expected_kept(batches)


@pytest.mark.postgres
def test_postgres_store_loses_only_old_rows(tmp_path, postgres_url, monkeypatch):
    # batches of 2 rows: the 3 old rows take two delete transactions
    monkeypatch.setattr(retention, "POSTGRES_BATCH_ROWS", 2)
    stores = RawStores(database_url=postgres_url, data_dir=tmp_path)
    batches = _batches()
    with psycopg.connect(postgres_url) as connection:
        connection.execute(POSTGRES_DDL)
        for rows in batches.values():
            copy_rows_postgres(connection, rows)

    assert apply_retention(stores, days=90, now=NOW, dry_run=True).postgres_rows_removed == 3
    report = apply_retention(stores, days=90, now=NOW)

    with psycopg.connect(postgres_url) as connection:
        kept = {row[0] for row in connection.execute("select event_id::text from raw.interaction_events")}
    assert kept == _expected_kept(batches)
    assert report.postgres_rows_removed == 3
    assert report.embedded is None  # no embedded store was ever created under this DATA_DIR


def _rejected_batches() -> list[list[dict]]:
    """Two writes: only old rejections; old and recent ones around the cut-off."""
    sent = {"eventType": "NOT_A_TYPE"}
    return [
        [rejected_event(sent, received_at=datetime(2025, 11, 1, tzinfo=UTC), user_id="u-1")],
        [
            rejected_event(sent, received_at=CUTOFF - MICROSECOND, session_id="s-1"),
            rejected_event(sent, received_at=CUTOFF),  # exactly at the cut-off: stays
            rejected_event(sent, received_at=NOW - timedelta(hours=2), user_id="u-2"),
        ],
    ]


def _kept_rejections(batches: list[list[dict]]) -> set[str]:
    return {row["rejection_id"] for rows in batches for row in rows if row["received_at"] >= CUTOFF}


def test_embedded_rejected_events_expire_like_raw_events(tmp_path):
    stores = RawStores(database_url=None, data_dir=tmp_path)
    append_rows_parquet(stores.events_dir, [raw_event(received_at=CUTOFF - timedelta(days=1))])
    batches = _rejected_batches()
    for rows in batches:
        write_rejected(stores, rows)

    dry = apply_retention(stores, days=90, now=NOW, dry_run=True)
    assert (dry.rows_removed, dry.rejected_rows_removed) == (1, 2)
    assert len(_rejection_ids(stores.rejected_dir)) == 4

    report = apply_retention(stores, days=90, now=NOW)

    assert _rejection_ids(stores.rejected_dir) == _kept_rejections(batches)
    assert (report.rows_removed, report.rejected_rows_removed) == (1, 2)
    assert (report.embedded_rejected.files_deleted, report.embedded_rejected.files_rewritten) == (1, 1)
    assert report.as_dict()["rejected_rows_removed"] == 2
    assert apply_retention(stores, days=90, now=NOW).rejected_rows_removed == 0


def test_the_retention_command_reports_rejected_events(tmp_path, monkeypatch, capsys):
    stores = RawStores(database_url=None, data_dir=tmp_path)
    now = datetime.now(UTC)  # the command measures age from the real clock
    sent = {"eventType": "NOT_A_TYPE"}
    recent = rejected_event(sent, received_at=now - timedelta(hours=1))
    write_rejected(stores, [rejected_event(sent, received_at=now - timedelta(days=2)), recent])
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)

    assert main(["retention", "--days", "1"]) == 0

    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert (report["rows_removed"], report["rejected_rows_removed"]) == (0, 1)
    assert "removed 0 rows and 1 rejected events" in captured.err
    assert _rejection_ids(stores.rejected_dir) == {recent["rejection_id"]}


@pytest.mark.postgres
def test_postgres_rejected_events_expire_like_raw_events(tmp_path, postgres_url, monkeypatch):
    # batches of 1 row: the 2 old rejections take two delete transactions (and a third finding none)
    monkeypatch.setattr(retention, "POSTGRES_BATCH_ROWS", 1)
    stores = RawStores(database_url=postgres_url, data_dir=tmp_path)
    batches = _rejected_batches()
    for rows in batches:
        write_rejected(stores, rows)

    assert apply_retention(stores, days=90, now=NOW, dry_run=True).rejected_rows_removed == 2
    report = apply_retention(stores, days=90, now=NOW)

    with psycopg.connect(postgres_url) as connection:
        kept = {row[0] for row in connection.execute("select rejection_id::text from raw.rejected_events")}
    assert kept == _kept_rejections(batches)
    assert (report.rows_removed, report.rejected_rows_removed) == (0, 2)


def _rejection_ids(directory) -> set[str]:
    rows = duckdb.sql(f"select rejection_id from read_parquet('{directory}/*.parquet')").fetchall()
    return {row[0] for row in rows}


def test_bad_retention_days_is_a_clear_error(tmp_path):
    from ingest_service.upkeep.errors import LifecycleError

    with pytest.raises(LifecycleError, match="at least 1"):
        apply_retention(RawStores(database_url=None, data_dir=tmp_path), days=0, now=NOW)
