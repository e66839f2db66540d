"""Issue 9, defects 2 and 10: identities and text fields hold nothing a store cannot keep, ids are
real, values bounded, compressed and BOM-prefixed bodies decoded. Each case failed before its fix."""

from __future__ import annotations

import gzip
import zlib

import pytest

from tests.ingest.conftest import API_KEY, bearer

VALID = {"eventType": "PAGE_VIEW", "path": "/"}
CONTROL = "must not contain control characters"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sessionId", "s-\x1b[31m"),
        ("sessionId", "s\n2"),
        ("path", "/a\x07b"),
        ("referrer", "https://x.example/\r\nSet-Cookie: a=b"),
        ("perfumeId", "p\x00"),
        ("deviceType", "desk\x85top"),
    ],
)
def test_control_characters_in_one_line_fields_are_that_events_error(embedded_ingest, field, value):
    response = embedded_ingest.post("/api/analytics", {"events": [VALID, {**VALID, field: value}]})

    assert response.json() == {
        "success": True,
        "count": 1,
        "errors": [{"index": 1, "error": f"events[1].{field}: {CONTROL}"}],
    }


def test_control_characters_in_a_server_clients_user_id(embedded_ingest):
    response = embedded_ingest.post(
        "/api/analytics", {"events": [{**VALID, "userId": "u\x1b1"}]}, headers={"X-Api-Key": API_KEY}
    )

    assert response.json()["errors"] == [{"index": 0, "error": f"events[0].userId: {CONTROL}"}]


def test_free_text_in_event_data_may_hold_newlines(embedded_ingest):
    event = {"eventType": "SEARCH_PERFORMED", "path": "/s", "eventData": {"query": "rose\noud\ttonka"}}

    assert embedded_ingest.post("/api/analytics", {"events": [event]}).json()["count"] == 1


def test_the_nil_uuid_is_not_an_event_id(embedded_ingest):
    response = embedded_ingest.post(
        "/api/analytics", {"event": {**VALID, "eventId": "00000000-0000-0000-0000-000000000000"}}
    )

    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "errors": ["event.eventId: must be a UUID other than the nil UUID"],
    }


@pytest.mark.parametrize("value", [1.6e308, -1.6e308, 1e9 + 1])
def test_value_of_other_events_is_bounded(embedded_ingest, value):
    response = embedded_ingest.post(
        "/api/analytics", {"events": [{**VALID, "value": value}, {**VALID, "value": -1e9}]}
    )

    assert response.json() == {
        "success": True,
        "count": 1,
        "errors": [{"index": 0, "error": "events[0].value: must be between -1e+09 and 1e+09"}],
    }


@pytest.mark.parametrize("sub", ["\ud800evil", "evil\udfff", "a\x1bb"])
def test_a_signed_token_whose_sub_cannot_be_stored_is_a_401_everywhere(any_ingest, sub):
    """A lone surrogate in `sub` failed every request of its group commit (503) and opt-out (500)."""
    headers = bearer(sub)

    analytics = any_ingest.post("/api/analytics", {"events": [VALID]}, headers=headers)
    opt_out = any_ingest.post("/api/privacy/opt-out", b"", headers=headers)
    others = any_ingest.post("/api/analytics", {"events": [VALID]})

    assert analytics.status_code == 401 and opt_out.status_code == 401
    assert "`sub`" in analytics.json()["error"]
    assert others.status_code == 200
    assert len(any_ingest.rows()) == 1


def test_a_server_client_opting_out_an_unstorable_user_id_is_a_400(embedded_ingest):
    response = embedded_ingest.post(
        "/api/privacy/opt-out", b'{"userId": "u\\u001b"}', headers={"X-Api-Key": API_KEY}
    )

    assert response.status_code == 400 and response.json() == {"error": "Invalid request body"}


def test_gzip_and_deflate_bodies_are_decoded(embedded_ingest):
    body = b'{"events": [{"eventType": "PAGE_VIEW", "path": "/gz"}]}'

    gzipped = embedded_ingest.post(
        "/api/analytics", gzip.compress(body), headers={"Content-Encoding": "gzip"}
    )
    deflated = embedded_ingest.post(
        "/api/analytics", zlib.compress(body), headers={"Content-Encoding": "deflate"}
    )
    track = embedded_ingest.post(
        "/api/track",
        gzip.compress(b'{"post_id": "p", "interaction_type": "like"}'),
        headers={"Content-Encoding": "gzip", **bearer("u-1")},
    )

    assert gzipped.json()["count"] == 1 and deflated.json()["count"] == 1 and track.json()["tracked"] == 1
    assert len(embedded_ingest.rows()) == 3


def test_the_size_limit_applies_to_the_decoded_body(embedded_ingest):
    bomb = gzip.compress(b'{"events": [], "padding": "' + b"x" * (2 * 1024 * 1024) + b'"}')
    assert len(bomb) < 1024 * 1024

    response = embedded_ingest.post("/api/analytics", bomb, headers={"Content-Encoding": "gzip"})

    assert response.status_code == 413
    assert response.json() == {"error": "Request body is larger than 1 MiB once decompressed"}


@pytest.mark.parametrize(
    ("encoding", "body", "status"),
    [
        ("br", b"\x0b\x02\x80{}\x03", 415),
        ("gzip", b"not gzip at all", 400),
        ("gzip", gzip.compress(b"{}")[:-6], 400),
    ],
)
def test_unknown_or_broken_encodings(embedded_ingest, encoding, body, status):
    response = embedded_ingest.post("/api/analytics", body, headers={"Content-Encoding": encoding})

    assert response.status_code == status
    assert set(response.json()) == {"error"}


def test_a_utf8_byte_order_mark_is_accepted(embedded_ingest):
    body = b'\xef\xbb\xbf{"event": {"eventType": "PAGE_VIEW", "path": "/bom"}}'

    for content_type in ("application/json", "text/plain"):
        assert embedded_ingest.post("/api/analytics", body, content_type=content_type).status_code == 200
    assert [row["path"] for row in embedded_ingest.rows()] == ["/bom", "/bom"]
