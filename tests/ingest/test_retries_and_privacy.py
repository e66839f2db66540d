"""Retries with the same event ids, and opt-out / opt-in (SPEC §2 and §7), on both stores."""

from __future__ import annotations

import uuid

import pytest

from ingest_service.storage.privacy_log import opted_out_users, record_privacy_action
from tests.ingest.conftest import API_KEY, bearer

pytestmark = pytest.mark.postgres


def _batch(count: int) -> list[dict]:
    return [{"eventType": "PAGE_VIEW", "path": f"/{i}", "eventId": str(uuid.uuid4())} for i in range(count)]


def test_retried_batch_keeps_its_event_ids(any_ingest):
    events = _batch(5)
    first = any_ingest.post("/api/analytics", {"events": events})
    retry = any_ingest.post("/api/analytics", {"events": events})

    assert first.json() == retry.json() == {"success": True, "count": 5, "errors": []}
    rows = any_ingest.rows()
    # raw storage keeps both deliveries; they carry the same ids, so staging's dedup sees 5 events
    assert len(rows) == 10
    assert sorted({row["event_id"] for row in rows}) == sorted(event["eventId"] for event in events)


def test_opted_out_user_is_answered_as_accepted_but_not_stored(any_ingest):
    user = bearer("user-out")
    before = any_ingest.post("/api/analytics", {"events": _batch(2)}, headers=user)
    opt_out = any_ingest.post("/api/privacy/opt-out", b"", headers=user)
    during = any_ingest.post("/api/analytics", {"events": _batch(3)}, headers=user)
    tracked = any_ingest.post("/api/track", {"post_id": "p", "interaction_type": "like"}, headers=user)
    someone_else = any_ingest.post("/api/analytics", {"events": _batch(1)}, headers=bearer("user-in"))
    anonymous = any_ingest.post("/api/analytics", {"events": _batch(1)})

    assert opt_out.status_code == 200
    assert opt_out.json() == {"success": True, "userId": "user-out", "action": "opt_out"}
    # exactly the answers of stored events
    assert during.json() == {"success": True, "count": 3, "errors": []}
    assert tracked.json() == {"success": True, "tracked": 1, "errors": []}
    assert before.status_code == someone_else.status_code == anonymous.status_code == 200

    users = sorted(str(row["user_id"]) for row in any_ingest.rows())
    assert users == ["None", "user-in", "user-out", "user-out"]  # only the 2 events sent before opting out

    opt_in = any_ingest.post("/api/privacy/opt-in", b"", headers=user)
    after = any_ingest.post("/api/analytics", {"events": _batch(1)}, headers=user)
    assert opt_in.json()["action"] == "opt_in" and after.json()["count"] == 1
    assert sum(row["user_id"] == "user-out" for row in any_ingest.rows()) == 3


def test_server_client_opts_a_user_out_and_the_log_functions_agree(any_ingest):
    response = any_ingest.post("/api/privacy/opt-out", {"userId": "u-9"}, headers={"X-Api-Key": API_KEY})
    assert response.json() == {"success": True, "userId": "u-9", "action": "opt_out"}

    store = any_ingest.settings.storage.raw_stores.privacy_store
    assert opted_out_users(store, ["u-9", "u-10"]) == {"u-9"}
    # written by the lifecycle CLI, without the web app: the running service sees it on the next batch
    record_privacy_action(store, "u-10", "opt_out")
    record_privacy_action(store, "u-9", "opt_in")
    assert opted_out_users(store) == {"u-10"}

    any_ingest.post(
        "/api/analytics",
        {
            "events": [
                {**event, "userId": user} for event, user in zip(_batch(2), ["u-9", "u-10"], strict=True)
            ]
        },
        headers={"X-Api-Key": API_KEY},
    )
    assert [row["user_id"] for row in any_ingest.rows()] == ["u-9"]


def test_erase_rows_do_not_change_the_opt_out_state(any_ingest):
    store = any_ingest.settings.storage.raw_stores.privacy_store
    record_privacy_action(store, "u-1", "opt_out")
    record_privacy_action(store, "u-1", "erase")
    record_privacy_action(store, "u-2", "erase")

    assert opted_out_users(store) == {"u-1"}


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, b"", 401),  # nobody to opt out
        ({}, {"userId": "victim"}, 401),  # an anonymous body cannot name a user
        ({"X-Api-Key": API_KEY}, b"", 401),  # a server client must name the user
        ({"X-Api-Key": "nope"}, {"userId": "x"}, 401),
        ({"X-Api-Key": API_KEY}, {"userId": 5}, 400),
        ({"X-Api-Key": API_KEY}, b"{", 400),
    ],
)
def test_privacy_requests_need_an_identity(embedded_ingest, headers, body, status):
    response = embedded_ingest.post("/api/privacy/opt-out", body, headers=headers)

    assert response.status_code == status
    assert opted_out_users(embedded_ingest.settings.storage.raw_stores.privacy_store) == set()


def test_privacy_log_functions_work_on_a_fresh_database_url(postgres_url):
    # the lifecycle CLI may run before any ingest process created the tables
    assert opted_out_users(postgres_url) == set()
    record_privacy_action(postgres_url, "u-1", "opt_out")

    assert opted_out_users(postgres_url, ["u-1", "u-2"]) == {"u-1"}
    with pytest.raises(ValueError, match="action must be one of"):
        record_privacy_action(postgres_url, "u-1", "forget")
