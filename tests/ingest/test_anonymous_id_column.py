"""SPEC §1's `anonymous_id` and `USER_IDENTIFIED`: accepted from any client, validated, stored in both
stores; stores made before the column existed keep working (PostgreSQL migrated in place, older
Parquet files still read) and export includes it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import duckdb
import psycopg
import pyarrow as pa
import pytest

from ingest_service.storage.locations import RawStores
from ingest_service.storage.parquet_files import write_parquet_atomically
from ingest_service.storage.raw_schema import RAW_EVENT_COLUMNS
from orchestration.lifecycle.export import export_user
from orchestration.warehouse import WarehouseTarget
from tests.ingest.conftest import bearer

VALID = {"eventType": "PAGE_VIEW", "path": "/"}
ANONYMOUS_ID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"


def test_anonymous_id_is_stored_from_both_endpoints(any_ingest):
    upper = "{6F1C0A52-8D39-4F4E-9D2B-3A0C7F1E2D11}"
    analytics = any_ingest.post(
        "/api/analytics",
        {"events": [{**VALID, "anonymousId": ANONYMOUS_ID}, {**VALID, "path": "/2", "anonymousId": upper}]},
    )
    track = any_ingest.post(
        "/api/track",
        {"post_id": "p-1", "interaction_type": "like", "anonymous_id": ANONYMOUS_ID},
        headers=bearer("u-1"),
    )

    assert analytics.json()["count"] == 2 and track.json()["tracked"] == 1
    stored = sorted((row["path"] or "", row["anonymous_id"]) for row in any_ingest.rows())
    assert stored == [("", ANONYMOUS_ID), ("/", ANONYMOUS_ID), ("/2", "6f1c0a52-8d39-4f4e-9d2b-3a0c7f1e2d11")]


@pytest.mark.parametrize(
    "bad", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "", "1b4e28ba-2fa1-41d2-883f-0016d3cca42"]
)
def test_anything_but_a_random_uuid_is_that_events_error(embedded_ingest, bad):
    response = embedded_ingest.post("/api/analytics", {"events": [VALID, {**VALID, "anonymousId": bad}]})

    assert response.json() == {
        "success": True,
        "count": 1,
        "errors": [{"index": 1, "error": "events[1].anonymousId: must be a random UUID (not the nil UUID)"}],
    }


def test_user_identified_is_an_engagement_event_that_needs_nothing(embedded_ingest):
    event = {"eventType": "USER_IDENTIFIED", "path": "/login", "anonymousId": ANONYMOUS_ID}

    response = embedded_ingest.post("/api/analytics", {"event": event}, headers=bearer("anna"))

    assert response.status_code == 200
    (row,) = embedded_ingest.rows()
    assert (row["event_type"], row["event_category"], row["user_id"], row["anonymous_id"]) == (
        "USER_IDENTIFIED",
        "ENGAGEMENT",
        "anna",
        ANONYMOUS_ID,
    )


OLD_COLUMNS = [column for column in RAW_EVENT_COLUMNS if column[0] != "anonymous_id"]
OLD_DDL = "create schema raw; create table raw.interaction_events ({})".format(
    ", ".join(
        f"{name} {pg_type}{'' if nullable else ' not null'}" for name, pg_type, _, nullable in OLD_COLUMNS
    )
)


def _old_row() -> dict:
    now = datetime.now(UTC)
    return {
        "event_id": str(uuid.uuid4()), "received_at": now, "occurred_at": now, "session_id": "s-old",
        "user_id": "anna", "event_type": "PAGE_VIEW", "event_category": "VIEW", "perfume_id": None,
        "house_id": None, "post_id": None, "path": "/old", "referrer": None, "user_agent": None,
        "device_type": "desktop", "browser": "Firefox", "os": "Linux", "is_bot": False,
        "duration_ms": None, "scroll_depth": None, "value": None, "source": None, "event_data": "{}",
    }  # fmt: skip


@pytest.mark.postgres
def test_postgres_table_of_an_older_release_is_migrated_in_place(make_harness, postgres_url):
    old = _old_row()
    with psycopg.connect(postgres_url) as connection:
        connection.execute(OLD_DDL)
        names = list(old)
        placeholders = ", ".join(["%s"] * len(names))
        connection.execute(
            f"insert into raw.interaction_events ({', '.join(names)}) values ({placeholders})",
            [old[name] for name in names],
        )

    harness = make_harness(postgres_url)
    response = harness.post(
        "/api/analytics", {"events": [{**VALID, "path": "/new", "anonymousId": ANONYMOUS_ID}]}
    )

    assert response.json()["count"] == 1
    assert {row["path"]: row["anonymous_id"] for row in harness.rows()} == {
        "/old": None,
        "/new": ANONYMOUS_ID,
    }


def test_parquet_files_of_an_older_release_still_read_and_export(make_harness, tmp_path):
    harness = make_harness(INGEST_API_KEYS="k")
    events_dir = harness.settings.storage.raw_stores.events_dir
    old_schema = pa.schema(
        [pa.field(name, arrow, nullable=nullable) for name, _, arrow, nullable in OLD_COLUMNS]
    )
    old = _old_row()
    write_parquet_atomically(events_dir, pa.Table.from_pylist([old], schema=old_schema))
    # the old release also left its empty schema file: the new service must replace it at start
    write_parquet_atomically(events_dir, old_schema.empty_table(), file_name="_empty.parquet")
    only_old = f"read_parquet('{events_dir}/*.parquet', union_by_name = true)"

    restarted = make_harness(DATA_DIR=str(harness.settings.data_dir))
    assert duckdb.sql(f"select anonymous_id from {only_old}").fetchall() == [(None,)]
    restarted.post(
        "/api/analytics",
        {"events": [{**VALID, "path": "/new", "anonymousId": ANONYMOUS_ID}]},
        headers=bearer("anna"),
    )

    assert sorted(duckdb.sql(f"select path, anonymous_id from {only_old}").fetchall()) == [
        ("/new", ANONYMOUS_ID),
        ("/old", None),
    ]
    stores = RawStores(database_url=None, data_dir=harness.settings.data_dir)
    document = export_user(stores, WarehouseTarget.from_env({"DATA_DIR": str(tmp_path / "wh")}), "anna")
    assert sorted((event["path"], event["anonymous_id"]) for event in document["raw_events"]) == [
        ("/new", ANONYMOUS_ID),
        ("/old", None),
    ]
