"""Export holds every stored raw event, rejected event and privacy request of the user, from both
stores, and nothing else."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pyarrow.parquet as pq
import pytest

from ingest_service.storage.bulk_load import append_rows_parquet, copy_rows_postgres, rejected_rows_to_arrow
from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import POSTGRES_DDL
from ingest_service.upkeep.privacy_requests import record_request
from orchestration.lifecycle.cli import main
from orchestration.lifecycle.export import export_user
from orchestration.warehouse import WarehouseTarget
from tests.support.events import raw_event, rejected_event
from tests.support.raw_store import write_rejected

T0 = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)


def _export_with_the_command(tmp_path, postgres_url, monkeypatch, user_id: str) -> dict:
    """The document `python -m orchestration.lifecycle export USER --output FILE` writes."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    output = tmp_path / "out" / f"{user_id}.json"
    assert main(["export", user_id, "--output", str(output)]) == 0
    return json.loads(output.read_text(encoding="utf-8"))


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
    from_file = _export_with_the_command(tmp_path, postgres_url, monkeypatch, "anna")
    assert from_file["raw_events"] == document["raw_events"]
    assert "wrote 3 raw events" in capsys.readouterr().err


@pytest.mark.postgres
def test_export_holds_the_users_rejected_events_from_both_stores_and_nobody_elses(
    tmp_path, postgres_url, monkeypatch, capsys
):
    """SPEC section 11: export covers rejected events — those with the user's verified id, and,
    as erasure takes them, those without one sent from the user's sessions or browsers."""
    embedded = RawStores(database_url=None, data_dir=tmp_path)
    stores = RawStores(database_url=postgres_url, data_dir=tmp_path)
    browser = "0b5c6f52-3a3e-4d7c-9d52-6f0c1b1f4a11"
    # anna's session s-anna, in a browser she identified on (so the browser is hers)
    visit = raw_event(received_at=T0, user_id="anna", session_id="s-anna", anonymous_id=browser)
    append_rows_parquet(embedded.events_dir, [visit])
    sent = {"eventType": "PERFUME_VIEW", "note": "é 🌹"}
    own_embedded = rejected_event(sent, received_at=T0 + timedelta(minutes=1), user_id="anna",
                                  session_id="s-9")  # fmt: skip
    from_her_session = rejected_event(sent, received_at=T0 + timedelta(minutes=2), session_id="s-anna")
    from_her_browser = rejected_event(sent, received_at=T0 + timedelta(minutes=3), session_id="s-new",
                                      anonymous_id=browser)  # fmt: skip
    own_postgres = rejected_event(sent, received_at=T0 + timedelta(days=1), user_id="anna",
                                  error="events[0].perfumeId: required")  # fmt: skip
    # another verified user in her session, an anonymous stranger, a user whose id contains hers
    others = [
        rejected_event(sent, received_at=T0, user_id="bruno", session_id="s-anna"),
        rejected_event(sent, received_at=T0, session_id="s-stranger"),
        rejected_event(sent, received_at=T0, user_id="annabel", session_id="s-annabel"),
    ]
    write_rejected(embedded, [own_embedded, from_her_session, *others])
    # a file kept before `request_context` existed: it lacks the column
    old_file = rejected_rows_to_arrow([from_her_browser]).drop_columns(["request_context"])
    pq.write_table(old_file, embedded.rejected_dir / "00-before-request-context.parquet")
    write_rejected(stores, [own_postgres, *others])

    document = export_user(
        stores, WarehouseTarget.from_env({"DATA_DIR": str(tmp_path), "DATABASE_URL": postgres_url}), "anna"
    )

    assert [(row["rejection_id"], row["store"]) for row in document["rejected_events"]] == [
        (own_embedded["rejection_id"], "embedded"),
        (from_her_session["rejection_id"], "embedded"),
        (from_her_browser["rejection_id"], "embedded"),
        (own_postgres["rejection_id"], "postgresql"),
    ]
    kept = document["rejected_events"][-1]
    assert json.loads(kept["event"]) == sent  # the event as she sent it
    assert (kept["error"], kept["received_at"], kept["user_id"]) == (
        "events[0].perfumeId: required",
        "2026-04-03T08:30:00+00:00",
        "anna",
    )
    assert document["rejected_events"][2]["request_context"] is None
    text = json.dumps(document)
    assert "bruno" not in text and "annabel" not in text and "s-stranger" not in text

    from_file = _export_with_the_command(tmp_path, postgres_url, monkeypatch, "anna")
    assert from_file["rejected_events"] == document["rejected_events"]
    assert "wrote 1 raw events, 4 rejected events" in capsys.readouterr().err
