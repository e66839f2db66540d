"""Export holds every stored raw event and privacy request of the user, from both stores, and nothing else."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingest_service.storage.bulk_load import append_rows_parquet, copy_rows_postgres
from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import POSTGRES_DDL
from ingest_service.upkeep.privacy_requests import record_request
from orchestration.lifecycle.cli import main
from orchestration.lifecycle.export import export_user
from orchestration.warehouse import WarehouseTarget
from tests.support.events import raw_event

T0 = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)


@pytest.mark.postgres
def test_export_gathers_the_user_from_both_stores_and_nobody_else(
    tmp_path, postgres_url, monkeypatch, capsys
):
    stores = RawStores(database_url=postgres_url, data_dir=tmp_path)
    mine_embedded = [
        raw_event(received_at=T0, user_id="anna", event_type="RATING_COMPLETED", perfume_id="p-1", value=4.5,
                  event_data={"note": "é, 🌹"}),
        raw_event(received_at=T0 + timedelta(hours=1), user_id="anna", session_id="s-anna-2"),
    ]  # fmt: skip
    mine_postgres = [raw_event(received_at=T0 + timedelta(days=1), user_id="anna", event_type="POST_SHARE",
                               post_id="post-9")]  # fmt: skip
    # another user, an anonymous visitor in anna's session, and a user whose id contains anna's
    theirs = [
        raw_event(received_at=T0, user_id="bruno", session_id="s-bruno"),
        raw_event(received_at=T0, user_id=None, session_id="s-1"),
        raw_event(received_at=T0, user_id="annabel", session_id="s-annabel"),
    ]
    append_rows_parquet(stores.events_dir, mine_embedded + theirs)
    with psycopg.connect(postgres_url) as connection:
        connection.execute(POSTGRES_DDL)
        copy_rows_postgres(connection, mine_postgres + theirs)
    record_request(stores, "anna", "opt_out")
    record_request(stores, "bruno", "opt_out")

    document = export_user(
        stores, WarehouseTarget.from_env({"DATA_DIR": str(tmp_path), "DATABASE_URL": postgres_url}), "anna"
    )

    exported = {(event["event_id"], event["store"]) for event in document["raw_events"]}
    assert exported == {(e["event_id"], "embedded") for e in mine_embedded} | {
        (e["event_id"], "postgresql") for e in mine_postgres
    }
    rating = next(event for event in document["raw_events"] if event["event_type"] == "RATING_COMPLETED")
    assert (rating["value"], rating["perfume_id"], rating["event_data"]) == (4.5, "p-1", {"note": "é, 🌹"})
    assert rating["received_at"] == "2026-04-02T08:30:00+00:00"
    assert [(r["user_id"], r["action"]) for r in document["privacy_requests"]] == [("anna", "opt_out")]
    assert (document["sessions"], document["profile"], document["engagement_by_event_type"]) == ([], None, [])
    text = json.dumps(document)
    assert "bruno" not in text and "annabel" not in text and "s-bruno" not in text

    # the documented command writes the same document to a file
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    output = tmp_path / "out" / "anna.json"
    assert main(["export", "anna", "--output", str(output)]) == 0
    from_file = json.loads(output.read_text(encoding="utf-8"))
    assert from_file["raw_events"] == document["raw_events"]
    assert "wrote 3 raw events" in capsys.readouterr().err
