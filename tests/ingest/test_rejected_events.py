"""SPEC §11: every event answered with a per-event error is kept in `raw.rejected_events` /
`raw/rejected_events/`, with what identifies it and the event as sent — never the address, the
Authorization header or cookies, and nothing of opted-out users."""

from __future__ import annotations

import json
import uuid

from ingest_service.storage.raw_schema import REJECTED_EVENT_COLUMN_NAMES
from tests.ingest.conftest import API_KEY, bearer, make_token
from tests.ingest.test_operations import _metric

VALID = {"eventType": "PAGE_VIEW", "path": "/"}
ANONYMOUS_ID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"


def test_rejected_events_are_kept_with_their_identity_and_as_sent(any_ingest):
    bad = {
        "eventType": "PERFUME_VIEW",
        "path": "/p",
        "sessionId": "s-1",
        "anonymousId": ANONYMOUS_ID,
        "custom": {"kept": ["as", "sent"]},
    }
    token = make_token("anna")
    response = any_ingest.post(
        "/api/analytics",
        {"events": [VALID, bad]},
        headers={"Authorization": f"Bearer {token}", "Cookie": "sid=cookie-session"},
    )

    assert response.json()["errors"] == [
        {"index": 1, "error": "events[1].perfumeId: required for PERFUME_VIEW"}
    ]
    (accepted,) = any_ingest.rows()
    (rejected,) = any_ingest.rejected_rows()
    assert set(rejected) == set(REJECTED_EVENT_COLUMN_NAMES)
    uuid.UUID(rejected["rejection_id"])
    assert rejected["received_at"] == accepted["received_at"]
    assert {name: rejected[name] for name in ("endpoint", "reason", "error", "user_id", "session_id")} == {
        "endpoint": "/api/analytics",
        "reason": "missing_required",
        "error": "events[1].perfumeId: required for PERFUME_VIEW",
        "user_id": "anna",
        "session_id": "s-1",
    }
    assert rejected["anonymous_id"] == ANONYMOUS_ID
    assert json.loads(rejected["event"]) == bad and rejected["event_truncated"] is False
    stored_text = json.dumps(rejected, default=str)
    assert token not in stored_text and "cookie-session" not in stored_text and "127.0.0.1" not in stored_text


def test_a_rejected_single_event_and_a_rejected_interaction_are_kept(any_ingest):
    single = any_ingest.post("/api/analytics", {"event": {"eventType": "NOPE", "path": "/"}})
    track = any_ingest.post(
        "/api/track",
        {"interactions": [{"post_id": "p", "interaction_type": "poke", "session_id": "s-t"}]},
        headers=bearer("bruno"),
    )

    assert single.status_code == 400 and track.json()["tracked"] == 0
    rows = {row["endpoint"]: row for row in any_ingest.rejected_rows()}
    assert rows["/api/analytics"]["error"] == "event.eventType: unknown event type 'NOPE'"
    assert rows["/api/analytics"]["session_id"] is None and rows["/api/analytics"]["user_id"] is None
    assert (rows["/api/track"]["user_id"], rows["/api/track"]["session_id"]) == ("bruno", "s-t")
    assert json.loads(rows["/api/track"]["event"])["interaction_type"] == "poke"


def test_unreadable_identity_fields_are_left_out_and_cookie_session_stands_in(embedded_ingest):
    bad = {**VALID, "sessionId": "s\x1b", "anonymousId": "not-a-uuid", "userId": "u\x07"}

    embedded_ingest.post(
        "/api/analytics", {"events": [bad]}, headers={"X-Api-Key": API_KEY, "Cookie": "sid=c-1"}
    )

    (rejected,) = embedded_ingest.rejected_rows()
    assert (rejected["session_id"], rejected["anonymous_id"], rejected["user_id"]) == ("c-1", None, None)
    assert json.loads(rejected["event"]) == bad  # the event itself keeps what was sent


def test_a_server_clients_user_id_is_kept(embedded_ingest):
    embedded_ingest.post(
        "/api/analytics", {"events": [{"userId": "server-user", "path": "/"}]}, headers={"X-Api-Key": API_KEY}
    )

    assert [row["user_id"] for row in embedded_ingest.rejected_rows()] == ["server-user"]


def test_an_event_above_8_kib_is_cut_and_marked(embedded_ingest):
    bad = {"eventType": "PERFUME_VIEW", "path": "/", "eventData": {"notes": "é" * 9000}}

    embedded_ingest.post("/api/analytics", {"events": [bad]})

    (rejected,) = embedded_ingest.rejected_rows()
    assert rejected["event_truncated"] is True
    assert 8 * 1024 - 2 <= len(rejected["event"].encode()) <= 8 * 1024  # cut on a character boundary
    assert rejected["event"].startswith('{"eventType":"PERFUME_VIEW"')


def test_nothing_is_kept_for_opted_out_users(any_ingest):
    assert any_ingest.post("/api/privacy/opt-out", b"", headers=bearer("carol")).status_code == 200

    any_ingest.post("/api/analytics", {"events": [{"path": "/"}]}, headers=bearer("carol"))
    any_ingest.post("/api/analytics", {"events": [{"path": "/"}]}, headers=bearer("dave"))

    assert [row["user_id"] for row in any_ingest.rejected_rows()] == ["dave"]


def test_a_failed_rejected_write_never_fails_the_accepted_events(make_harness):
    harness = make_harness()
    rejected_dir = harness.settings.storage.raw_stores.rejected_dir
    for path in sorted(rejected_dir.iterdir()):
        path.unlink()
    rejected_dir.rmdir()
    rejected_dir.write_text("a file where the directory should be")  # every write there fails

    response = harness.post("/api/analytics", {"events": [VALID, {"path": "/bad"}]})

    assert response.status_code == 200 and response.json()["count"] == 1
    assert len(harness.rows()) == 1
    metrics = harness.client.get("/metrics").text
    assert _metric(metrics, "ingest_rejected_events_lost_total") == 1
    assert _metric(metrics, "ingest_rejected_events_written_total") == 0
