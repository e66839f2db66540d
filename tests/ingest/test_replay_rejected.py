"""`python -m ingest_service replay-rejected` (SPEC §11): once the cause of a rejection is fixed, the
kept event goes through validation again and moves to the raw events — exactly once, however often
the replay runs and even after a crash between its two writes. Real service, real stores."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ingest_service.__main__ import main
from ingest_service.upkeep.replay_rejected import replay_rejected
from tests.ingest.conftest import FIREFOX_LINUX
from tests.support.raw_store import write_rejected

SESSION = "s-replay"
ANONYMOUS_ID = "3d8f2b2e-8c1a-4f5e-9a57-2f0f6c1b7e11"


def _old(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


@pytest.fixture
def rejected_batch(any_ingest):
    """One browser batch: a valid event, two events 40 days old (SPEC §1: a client without an API
    key may not send events older than 30 days) — one with its own eventId, one without — and one
    of an unknown type."""
    client_id = str(uuid.uuid4())
    events = [
        {"eventType": "PAGE_VIEW", "path": "/", "sessionId": SESSION},
        {
            "eventType": "PAGE_VIEW",
            "path": "/old-1",
            "sessionId": SESSION,
            "eventId": client_id,
            "timestamp": _old(40),
            "anonymousId": ANONYMOUS_ID,
        },
        {"eventType": "PERFUME_VIEW", "path": "/old-2", "perfumeId": "p-7", "timestamp": _old(40)},
        {"eventType": "NOT_A_TYPE", "path": "/x", "sessionId": SESSION},
    ]
    response = any_ingest.post("/api/analytics", {"events": events}, headers={"Cookie": "sid=cookie-sid"})
    assert response.status_code == 200
    assert [error["index"] for error in response.json()["errors"]] == [1, 2, 3]
    assert {row["reason"] for row in any_ingest.rejected_rows()} == {
        "timestamp_too_old",
        "unknown_event_type",
    }
    return any_ingest, client_id


def _security(harness, max_age_days: int):
    return replace(harness.settings.security, max_event_age_days=max_age_days)


def test_fixed_rejections_move_to_the_raw_events_once(rejected_batch):
    harness, client_id = rejected_batch
    stores = harness.settings.storage.raw_stores

    # the cause is not fixed yet: nothing moves, errors unchanged
    report = replay_rejected(stores, _security(harness, 30))
    assert (report.examined, report.accepted, report.still_rejected) == (3, 0, 3)
    assert len(harness.rows()) == 1

    # a dry run with the limit raised says what would move, and changes nothing
    report = replay_rejected(stores, _security(harness, 60), dry_run=True)
    assert (report.accepted, report.written, report.still_rejected) == (2, 2, 1)
    assert len(harness.rows()) == 1 and len(harness.rejected_rows()) == 3

    before_replay = datetime.now(UTC)
    report = replay_rejected(stores, _security(harness, 60))
    assert (report.accepted, report.written, report.still_rejected) == (2, 2, 1)
    assert report.still_rejected_reasons == {"unknown_event_type": 1}

    rows = {row["path"]: row for row in harness.rows()}
    assert set(rows) == {"/", "/old-1", "/old-2"}
    old_1, old_2 = rows["/old-1"], rows["/old-2"]
    assert str(old_1["event_id"]) == client_id  # the client's own id: a resend would dedupe against it
    assert old_1["anonymous_id"] == ANONYMOUS_ID and old_1["session_id"] == SESSION
    assert old_2["session_id"] == "cookie-sid"  # the sid cookie stood in, as it did at ingest
    for row in (old_1, old_2):
        # occurred_at is the client's timestamp (40 days back); received_at is the replay's time,
        # so the incremental warehouse, which reads by arrival, picks the event up
        assert timedelta(days=39) < row["received_at"] - row["occurred_at"] < timedelta(days=41)
        assert row["received_at"] >= before_replay - timedelta(seconds=1)
        # the request's User-Agent header was kept for the replay
        assert (row["user_agent"], row["browser"], row["is_bot"]) == (FIREFOX_LINUX, "Firefox", False)
    (still,) = harness.rejected_rows()
    assert still["reason"] == "unknown_event_type" and "NOT_A_TYPE" in still["error"]

    # a second replay finds nothing to move: still once
    again = replay_rejected(stores, _security(harness, 60))
    assert (again.examined, again.accepted, again.written) == (1, 0, 0)
    assert len(harness.rows()) == 3


def test_a_replay_interrupted_between_its_writes_never_duplicates(rejected_batch):
    harness, client_id = rejected_batch
    stores = harness.settings.storage.raw_stores
    kept = harness.rejected_rows()
    replay_rejected(stores, _security(harness, 60))
    written = {str(row["event_id"]) for row in harness.rows()}
    # the state a crash after the raw write and before the rejected rows' removal leaves (embedded
    # store; in PostgreSQL both are one transaction, and this is also a client's resend): the
    # replayed rejected rows are there again
    write_rejected(stores, [row for row in kept if row["reason"] == "timestamp_too_old"])

    report = replay_rejected(stores, _security(harness, 60))
    assert (report.accepted, report.already_in_raw_events, report.written) == (2, 2, 0)
    assert {str(row["event_id"]) for row in harness.rows()} == written and len(written) == 3
    assert [row["reason"] for row in harness.rejected_rows()] == ["unknown_event_type"]
    assert client_id in written


def test_still_invalid_events_stay_with_their_new_error(any_ingest):
    """Two faults, one fixed: the event stays rejected, with only the error that remains."""
    twice_wrong = {"eventType": "PERFUME_VIEW", "path": "/p", "timestamp": _old(40)}
    any_ingest.post("/api/analytics", {"events": [twice_wrong]})
    (before,) = any_ingest.rejected_rows()
    assert "perfumeId" in before["error"] and "30 days" in before["error"]

    report = replay_rejected(any_ingest.settings.storage.raw_stores, _security(any_ingest, 60))
    assert (report.accepted, report.still_rejected) == (0, 1)
    (after,) = any_ingest.rejected_rows()
    assert after["rejection_id"] == before["rejection_id"] and after["received_at"] == before["received_at"]
    assert (after["reason"], after["error"]) == (
        "missing_required",
        "events[0].perfumeId: required for PERFUME_VIEW",
    )
    assert after["event"] == before["event"] and any_ingest.rows() == []


def test_the_command_reports_and_refuses_bad_arguments(rejected_batch, monkeypatch, capsys):
    harness, _ = rejected_batch
    monkeypatch.setenv("DATA_DIR", str(harness.settings.data_dir))
    monkeypatch.setenv("INGEST_MAX_EVENT_AGE_DAYS", "60")
    if harness.settings.database_url:
        monkeypatch.setenv("DATABASE_URL", harness.settings.database_url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)

    assert main(["replay-rejected", "--dry-run", "--since", "2000-01-01T00:00:00+00:00"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["written"] == 2 and "2 would move to the raw events" in out.err
    assert len(harness.rejected_rows()) == 3

    with pytest.raises(SystemExit) as exit_info:
        main(["replay-rejected", "--since", "yesterday"])
    assert exit_info.value.code == 2 and "not an ISO-8601 time" in capsys.readouterr().err

    # --since after the rejections: nothing examined
    assert main(["replay-rejected", "--since", datetime.now(UTC).isoformat()]) == 0
    assert json.loads(capsys.readouterr().out)["examined"] == 0
    assert main(["replay-rejected"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == 2
    assert len(harness.rows()) == 3
