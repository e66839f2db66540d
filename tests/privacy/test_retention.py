"""Retention removes exactly the raw events received more than RETENTION_DAYS ago, in both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import psycopg
import pytest

from ingest_service.storage.bulk_load import append_rows_parquet, copy_rows_postgres
from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import POSTGRES_DDL
from ingest_service.upkeep import retention
from ingest_service.upkeep.retention import apply_retention
from tests.support.events import raw_event

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


def test_bad_retention_days_is_a_clear_error(tmp_path):
    from ingest_service.upkeep.errors import LifecycleError

    with pytest.raises(LifecycleError, match="at least 1"):
        apply_retention(RawStores(database_url=None, data_dir=tmp_path), days=0, now=NOW)
