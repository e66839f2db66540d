"""Every rule of SPEC §1, each with its message, checked through the API as one bad event in a batch.

The bad event sits at index 1 behind a valid one, so each case also proves partial batches: the
valid event is stored, the bad one is reported with its index and a message naming field and rule.
"""

from __future__ import annotations

import pytest

from tests.ingest.conftest import bearer
from tests.support.reference_marts import EVENT_CATEGORIES

VALID = {"eventType": "PAGE_VIEW", "path": "/"}

# SPEC §1's table, written out here (not imported) so the test checks the code against the spec
NEEDS = {
    "PERFUME_VIEW": "perfumeId",
    "HOUSE_VIEW": "houseId",
    "SEARCH_RESULT_CLICKED": "perfumeId",
    "RATING_COMPLETED": "perfumeId",
    "REVIEW_SUBMITTED": "perfumeId",
    "WISHLIST_ADD": "perfumeId",
    "WISHLIST_REMOVE": "perfumeId",
    "COLLECTION_ADD": "perfumeId",
    "SIMILAR_CLICKED": "perfumeId",
    "POST_VIEW": "postId",
    "POST_CLICK": "postId",
    "POST_LIKE": "postId",
    "POST_SHARE": "postId",
}
CATEGORY = EVENT_CATEGORIES  # SPEC §1, transcribed once for all tests


def _complete(event_type: str) -> dict:
    event = {"eventType": event_type, "path": "/x"}
    if event_type in NEEDS:
        event[NEEDS[event_type]] = "id-1"
    if event_type == "RATING_COMPLETED":
        event["value"] = 4
    return event


def _post_one_bad(ingest, bad_event):
    response = ingest.post("/api/analytics", {"events": [VALID, bad_event]})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["count"] == 1
    return [error["error"] for error in body["errors"] if error["index"] == 1]


@pytest.mark.parametrize("event_type", sorted(NEEDS))
def test_required_id_per_event_type(embedded_ingest, event_type):
    event = _complete(event_type)
    del event[NEEDS[event_type]]

    assert _post_one_bad(embedded_ingest, event) == [
        f"events[1].{NEEDS[event_type]}: required for {event_type}"
    ]


@pytest.mark.parametrize("event_type", sorted(CATEGORY))
def test_category_is_derived_and_every_type_is_accepted(embedded_ingest, event_type):
    response = embedded_ingest.post("/api/analytics", {"events": [_complete(event_type)]})

    assert response.json() == {"success": True, "count": 1, "errors": []}
    [row] = embedded_ingest.rows()
    assert (row["event_type"], row["event_category"]) == (event_type, CATEGORY[event_type])


def test_agreeing_client_category_is_fine_and_a_disagreeing_one_is_an_error(embedded_ingest):
    agreeing = {**_complete("PERFUME_VIEW"), "eventCategory": "VIEW"}
    disagreeing = {**_complete("PERFUME_VIEW"), "eventCategory": "SEARCH"}
    response = embedded_ingest.post("/api/analytics", {"events": [agreeing, disagreeing]})

    assert response.json() == {
        "success": True,
        "count": 1,
        "errors": [
            {
                "index": 1,
                "error": "events[1].eventCategory: 'SEARCH' disagrees with eventType PERFUME_VIEW (category VIEW)",  # noqa: E501
            }
        ],
    }


OVER_8_KIB = {"blob": "x" * 8200}
EXACTLY_8_KIB = {"blob": "x" * (8192 - len('{"blob":""}'))}

RULES = [
    ({"path": "/"}, "events[1].eventType: required"),
    ({"eventType": "CLICKED", "path": "/"}, "events[1].eventType: unknown event type 'CLICKED'"),
    ({"eventType": "PAGE_VIEW"}, "events[1].path: required for /api/analytics"),
    ({**VALID, "path": "/" * 2049}, "events[1].path: at most 2048 characters"),
    ({**VALID, "referrer": "r" * 2049}, "events[1].referrer: at most 2048 characters"),
    ({**VALID, "sessionId": "s" * 129}, "events[1].sessionId: at most 128 characters"),
    (
        {"eventType": "PERFUME_VIEW", "path": "/", "perfumeId": "p" * 65},
        "events[1].perfumeId: at most 64 characters",
    ),
    (
        {"eventType": "HOUSE_VIEW", "path": "/", "houseId": "h" * 65},
        "events[1].houseId: at most 64 characters",
    ),
    ({"eventType": "POST_LIKE", "path": "/", "postId": "x" * 65}, "events[1].postId: at most 64 characters"),
    (
        {"eventType": "PERFUME_VIEW", "path": "/", "perfumeId": 17},
        "events[1].perfumeId: expected a string, got int",
    ),
    ({**VALID, "duration": -1}, "events[1].duration: must be between 0 and 86400000"),
    ({**VALID, "duration": 86_400_001}, "events[1].duration: must be between 0 and 86400000"),
    ({**VALID, "duration": "5"}, "events[1].duration: expected an integer, got str"),
    (
        {"eventType": "RATING_COMPLETED", "path": "/", "perfumeId": "p"},
        "events[1].value: required for RATING_COMPLETED",
    ),
    (
        {"eventType": "RATING_COMPLETED", "path": "/", "perfumeId": "p", "value": 5.5},
        "events[1].value: must be between 1 and 5 for RATING_COMPLETED",
    ),
    (
        {"eventType": "RATING_COMPLETED", "path": "/", "perfumeId": "p", "value": 0},
        "events[1].value: must be between 1 and 5 for RATING_COMPLETED",
    ),
    ({**VALID, "eventData": OVER_8_KIB}, "events[1].eventData: at most 8192 bytes as JSON"),
    ({**VALID, "eventData": [1, 2]}, "events[1].eventData: expected an object, got array"),
    ({**VALID, "eventData": {"source": "s" * 65}}, "events[1].eventData.source: at most 64 characters"),
    ({**VALID, "eventData": {"source": 3}}, "events[1].eventData.source: expected a string, got int"),
    ({**VALID, "eventId": "not-a-uuid"}, "events[1].eventId: must be a UUID other than the nil UUID"),
    (
        {**VALID, "timestamp": "yesterday"},
        "events[1].timestamp: must be ISO-8601 with a zone or epoch milliseconds",
    ),
    (
        {**VALID, "timestamp": "2026-01-02T03:04:05"},
        "events[1].timestamp: needs a time zone (ISO-8601 with zone, or epoch milliseconds)",
    ),
    (
        {**VALID, "timestamp": True},
        "events[1].timestamp: expected epoch milliseconds or an ISO-8601 string, got bool",
    ),
    ({**VALID, "path": "/a\u0000b"}, "events[1].path: must not contain control characters"),
    ({**VALID, "eventData": {"k": "a\u0000"}}, "events[1].eventData: must not contain NUL characters"),
    (
        {
            "eventType": "SEARCH_PERFORMED",
            "path": "/",
            "eventData": {"query": "x", "resultPerfumeIds": "p-1"},
        },
        "events[1].eventData.resultPerfumeIds: must be a list of perfume ids (strings of 1..64 characters)",
    ),
    ("not an object", "events[1]: must be an object"),
]


@pytest.mark.parametrize(("bad_event", "message"), RULES, ids=[message for _, message in RULES])
def test_rule_and_its_message(embedded_ingest, bad_event, message):
    assert _post_one_bad(embedded_ingest, bad_event) == [message]
    [stored] = embedded_ingest.rows()
    assert stored["event_type"] == "PAGE_VIEW"  # the valid event of the batch


def test_limits_are_inclusive(embedded_ingest):
    at_limits = [
        {**VALID, "duration": 0},
        {**VALID, "duration": 86_400_000, "path": "/" * 2048, "sessionId": "s" * 128},
        {"eventType": "RATING_COMPLETED", "path": "/", "perfumeId": "p" * 64, "value": 1},
        {"eventType": "RATING_COMPLETED", "path": "/", "perfumeId": "p", "value": 5},
        {**VALID, "eventData": EXACTLY_8_KIB},
    ]
    response = embedded_ingest.post("/api/analytics", {"events": at_limits})

    assert response.json() == {"success": True, "count": 5, "errors": []}


def test_several_broken_rules_are_all_reported(embedded_ingest):
    bad = {"eventType": "RATING_COMPLETED", "value": 9}
    assert sorted(_post_one_bad(embedded_ingest, bad)) == [
        "events[1].path: required for /api/analytics",
        "events[1].perfumeId: required for RATING_COMPLETED",
        "events[1].value: must be between 1 and 5 for RATING_COMPLETED",
    ]


def test_client_event_id_is_kept(embedded_ingest):
    event_id = "6f1c0a52-8d39-4f4e-9d2b-3a0c7f1e2d11"
    upper = "6F1C0A52-8D39-4F4E-9D2B-3A0C7F1E2D12"
    embedded_ingest.post(
        "/api/analytics",
        {"events": [{**VALID, "eventId": event_id}, {**VALID, "path": "/2", "eventId": upper}]},
    )

    assert sorted(row["event_id"] for row in embedded_ingest.rows()) == [event_id, upper.lower()]


TRACK_RULES = [
    ({"interaction_type": "view"}, "interactions[0].post_id: required for POST_VIEW"),
    ({"post_id": "p"}, "interactions[0].interaction_type: required, one of view, click, like, share"),
    (
        {"post_id": "p", "interaction_type": "view", "metadata": {"scroll_depth": 101}},
        "interactions[0].metadata.scroll_depth: must be between 0 and 100",
    ),
    (
        {"post_id": "p", "interaction_type": "view", "metadata": {"duration": -5}},
        "interactions[0].metadata.duration: must be between 0 and 86400000",
    ),
    (
        {"post_id": "p", "interaction_type": "view", "metadata": {"duration": 1.5}},
        "interactions[0].metadata.duration: expected an integer, got float",
    ),
    (
        {"post_id": "p", "interaction_type": "view", "metadata": "x"},
        "interactions[0].metadata: expected an object, got str",
    ),
]


@pytest.mark.parametrize(("bad", "message"), TRACK_RULES, ids=[message for _, message in TRACK_RULES])
def test_track_rule_and_its_message(embedded_ingest, bad, message):
    response = embedded_ingest.post("/api/track", {"interactions": [bad]}, headers=bearer("u-1"))

    assert response.status_code == 200
    assert response.json() == {"success": False, "tracked": 0, "errors": [{"index": 0, "error": message}]}
    assert embedded_ingest.rows() == []
