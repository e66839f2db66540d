"""The shared write primitives keep both stores identical and never expose half-written files."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import duckdb
import psycopg

from ingest_service.storage.bulk_load import append_rows_parquet, copy_rows_postgres
from ingest_service.storage.raw_schema import POSTGRES_DDL, RAW_EVENT_COLUMN_NAMES


def _row(**overrides):
    row = {name: None for name in RAW_EVENT_COLUMN_NAMES}
    row.update(
        event_id=uuid.uuid4(),
        received_at=datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        occurred_at=datetime(2026, 1, 2, 3, 4, 0, tzinfo=UTC),
        session_id="s-1",
        event_type="PERFUME_VIEW",
        event_category="VIEW",
        perfume_id="p-1",
        device_type="desktop",
        browser="Firefox",
        os="Linux",
        is_bot=False,
        duration_ms=1500,
        event_data={"note": "é"},
    )
    row.update(overrides)
    return row


def test_parquet_and_postgres_hold_the_same_values(tmp_path, postgres_url):
    rows = [_row(), _row(user_id="u-1", value=4.0, event_type="RATING_COMPLETED", event_category="RATING")]
    store = tmp_path / "raw"
    append_rows_parquet(store, rows)

    with psycopg.connect(postgres_url) as connection:
        connection.execute(POSTGRES_DDL)
        assert copy_rows_postgres(connection, rows) == 2
        pg_rows = connection.execute(
            "select event_id::text, received_at, user_id, value, event_data::text"
            " from raw.interaction_events order by event_type"
        ).fetchall()

    parquet_rows = duckdb.sql(
        f"select event_id, received_at, user_id, value, event_data from read_parquet('{store}/*.parquet')"
        " order by event_type"
    ).fetchall()
    assert [(str(r[0]), r[1], r[2], r[3]) for r in parquet_rows] == [
        (r[0], r[1], r[2], r[3]) for r in pg_rows
    ]
    assert parquet_rows[0][4] == '{"note":"é"}'
    assert "_empty.parquet" in {p.name for p in store.iterdir()}
    assert not [p for p in store.iterdir() if p.name.endswith(".tmp")]
