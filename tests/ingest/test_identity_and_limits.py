"""SPEC §3 identities and §2 limits: tokens, API keys, 401/405/413/415/429, malformed input never 5xx."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest.conftest import API_KEY, bearer, make_token

PAGE = {"eventType": "PAGE_VIEW", "path": "/"}
POST_VIEW = {"post_id": "post-1", "interaction_type": "view"}


@pytest.mark.postgres
def test_bearer_token_sets_the_user(pg_ingest):
    response = pg_ingest.post("/api/analytics", {"events": [PAGE]}, headers=bearer("user-7"))

    assert response.status_code == 200
    assert [row["user_id"] for row in pg_ingest.rows()] == ["user-7"]


def test_body_user_id_from_an_anonymous_client_is_never_used(embedded_ingest):
    response = embedded_ingest.post(
        "/api/analytics", {"events": [{**PAGE, "userId": "admin", "userAgent": "Googlebot/2.1"}]}
    )

    assert response.status_code == 200
    [row] = embedded_ingest.rows()
    assert row["user_id"] is None
    assert row["browser"] == "Firefox" and row["is_bot"] is False  # the header's agent, not the body's


def test_body_user_id_from_a_token_holder_does_not_override_the_token(embedded_ingest):
    embedded_ingest.post(
        "/api/analytics", {"events": [{**PAGE, "userId": "someone-else"}]}, headers=bearer("me")
    )

    assert [row["user_id"] for row in embedded_ingest.rows()] == ["me"]


def test_server_client_may_set_user_and_user_agent(embedded_ingest):
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    response = embedded_ingest.post(
        "/api/analytics",
        {"events": [{**PAGE, "userId": "u-backfill", "userAgent": googlebot}]},
        headers={"X-Api-Key": API_KEY},
    )
    track = embedded_ingest.post(
        "/api/track", {"interactions": [{**POST_VIEW, "user_id": "u-2"}]}, headers={"X-Api-Key": API_KEY}
    )

    assert response.status_code == 200 and track.json() == {"success": True, "tracked": 1, "errors": []}
    rows = {row["event_type"]: row for row in embedded_ingest.rows()}
    assert rows["PAGE_VIEW"]["user_id"] == "u-backfill"
    assert rows["PAGE_VIEW"]["user_agent"] == googlebot and rows["PAGE_VIEW"]["is_bot"] is True
    assert rows["POST_VIEW"]["user_id"] == "u-2"


def test_server_client_track_interaction_without_user_is_an_error_for_that_interaction(embedded_ingest):
    response = embedded_ingest.post(
        "/api/track",
        {"interactions": [{**POST_VIEW, "user_id": "u-1"}, POST_VIEW]},
        headers={"X-Api-Key": API_KEY},
    )

    assert response.json() == {
        "success": False,
        "tracked": 1,
        "errors": [
            {
                "index": 1,
                "error": "interactions[1].user_id: required: /api/track records interactions of identified users",  # noqa: E501
            }
        ],
    }


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({"Authorization": "Bearer not.a.token"}, "Bearer token is invalid"),
        (
            {"Authorization": f"Bearer {make_token('u', secret='another-secret-another-secret-xx')}"},
            "invalid",
        ),
        ({"Authorization": f"Bearer {make_token('u', expires_in_s=-60)}"}, "Bearer token has expired"),
        ({"Authorization": f"Bearer {make_token('u', algorithm='HS512')}"}, "invalid"),
        ({"Authorization": f"Basic {make_token('u')}"}, "Authorization must be `Bearer <token>`"),
        ({"X-Api-Key": "wrong-key"}, "X-Api-Key is not valid"),
    ],
    ids=["garbage", "wrong-secret", "expired", "wrong-algorithm", "not-bearer", "bad-api-key"],
)
@pytest.mark.parametrize("endpoint", ["/api/analytics", "/api/track"])
def test_bad_credentials_are_401_never_anonymous(embedded_ingest, headers, fragment, endpoint):
    body = {"events": [PAGE]} if endpoint == "/api/analytics" else POST_VIEW
    response = embedded_ingest.post(endpoint, body, headers=headers)

    assert response.status_code == 401
    assert fragment in response.json()["error"]
    assert embedded_ingest.rows() == []


def test_token_without_sub_is_401(embedded_ingest):
    import jwt

    from tests.ingest.conftest import JWT_SECRET

    token = jwt.encode({"name": "x"}, JWT_SECRET, algorithm="HS256")
    response = embedded_ingest.post(
        "/api/analytics", {"events": [PAGE]}, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401


def test_track_without_identity_is_401(embedded_ingest):
    response = embedded_ingest.post("/api/track", POST_VIEW)

    assert response.status_code == 401
    assert embedded_ingest.rows() == []


def test_secrets_never_appear_in_logs(make_harness, caplog):
    harness = make_harness()
    token = make_token("u-secret-check")
    with caplog.at_level("DEBUG"):
        harness.post("/api/analytics", {"events": [PAGE]}, headers={"Authorization": f"Bearer {token}"})
        harness.post("/api/analytics", {"events": [PAGE]}, headers={"X-Api-Key": "wrong-key-value"})
        harness.post("/api/analytics", {"events": [PAGE]}, headers={"X-Api-Key": API_KEY})
    logged = caplog.text + repr(harness.settings)
    for secret in (token, "wrong-key-value", API_KEY, harness.settings.security.jwt_secret):
        assert secret not in logged


def test_over_one_mebibyte_is_413(embedded_ingest):
    padding = "x" * (1024 * 1024)
    response = embedded_ingest.post("/api/analytics", {"events": [{**PAGE, "eventData": {"pad": padding}}]})

    assert response.status_code == 413
    assert embedded_ingest.rows() == []


def test_more_than_500_events_is_413_and_500_is_fine(embedded_ingest):
    too_many = embedded_ingest.post("/api/analytics", {"events": [PAGE] * 501})
    track_too_many = embedded_ingest.post(
        "/api/track", {"interactions": [POST_VIEW] * 501}, headers=bearer("u")
    )
    assert (too_many.status_code, track_too_many.status_code) == (413, 413)
    assert "500" in too_many.json()["error"]
    assert embedded_ingest.rows() == []

    exactly = embedded_ingest.post("/api/analytics", {"events": [PAGE] * 500})
    assert exactly.json()["count"] == 500


@pytest.mark.parametrize("content_type", ["application/xml", "multipart/form-data; boundary=x", ""])
def test_wrong_content_type_is_415(embedded_ingest, content_type):
    response = embedded_ingest.post("/api/analytics", {"events": [PAGE]}, content_type=content_type)

    assert response.status_code == 415
    assert embedded_ingest.rows() == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("endpoint", ["/api/analytics", "/api/track"])
def test_other_methods_are_405(embedded_ingest, method, endpoint):
    response = embedded_ingest.client.request(method, endpoint)

    assert response.status_code == 405


def test_rate_limit_per_session_is_429_with_retry_after(make_harness):
    harness = make_harness(INGEST_RATE_LIMIT_PER_MINUTE="60", INGEST_RATE_LIMIT_BURST="3")
    cookie = {"Cookie": "sid=limited-session"}
    statuses = [
        harness.post("/api/analytics", {"events": [PAGE]}, headers=cookie).status_code for _ in range(4)
    ]
    other_session = harness.post("/api/analytics", {"events": [PAGE]}, headers={"Cookie": "sid=another"})
    limited = harness.post("/api/analytics", {"events": [PAGE]}, headers=cookie)

    assert statuses == [200, 200, 200, 429]
    assert other_session.status_code == 200
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert len(harness.rows()) == 4  # three of the limited session, one of the other


def test_session_from_event_else_cookie_and_cookie_is_set_only_when_made(embedded_ingest):
    with_cookie = embedded_ingest.post(
        "/api/analytics",
        {"events": [{**PAGE, "path": "/cookie"}, {**PAGE, "path": "/event", "sessionId": "from-event"}]},
        headers={"Cookie": "sid=from-cookie"},
    )
    rows = {row["path"]: row["session_id"] for row in embedded_ingest.rows()}

    assert rows == {"/cookie": "from-cookie", "/event": "from-event"}
    assert with_cookie.cookies.get("sid") == "from-cookie"  # refreshed, not replaced


MALFORMED = [
    b"",
    b"{",
    b"\xff\xfe\x00",
    b'{"events": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
    b'{"event": {"eventType": "PAGE_VIEW", "path": "\\ud800"}}',
    b'{"events": [{"eventType": "PAGE_VIEW", "path": "/\xe9"}]}',  # latin-1, not UTF-8
    b'{"\xe9": 1, "userId": "x"}',
    b'{"events": [{"eventType": "PAGE_VIEW", "path": "/", "duration": 1e400}]}',
    b'{"events": [{"eventType": "PAGE_VIEW", "path": "/", "timestamp": 1e300}]}',
    b'{"events": [{"eventType": "PAGE_VIEW", "path": "/", "timestamp": -1e20}]}',
    b'{"events": [{"eventType": "RATING_COMPLETED", "path": "/", "perfumeId": "p", "value": "NaN"}]}',
    b'{"events": [{"eventType": "PAGE_VIEW", "path": "/", "eventData": {"a": '
    + b"[" * 3000
    + b"]" * 3000
    + b"}}]}",
]


@pytest.mark.parametrize("body", MALFORMED)
@pytest.mark.parametrize("endpoint", ["/api/analytics", "/api/track", "/api/privacy/opt-out"])
def test_malformed_bodies_get_a_4xx_never_a_5xx(embedded_ingest, body, endpoint):
    response = embedded_ingest.post(endpoint, body, headers=bearer("u-1"))

    assert 200 <= response.status_code < 500, response.text
    json.loads(response.text)  # always a JSON answer


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
event_like = st.fixed_dictionaries(
    {},
    optional={
        "eventType": st.sampled_from(["PAGE_VIEW", "PERFUME_VIEW", "RATING_COMPLETED", "POST_LIKE"])
        | json_values,
        "eventCategory": st.sampled_from(["VIEW", "RATING"]) | json_values,
        "path": st.text(max_size=10) | json_values,
        "perfumeId": st.text(max_size=70) | json_values,
        "value": st.floats(allow_nan=False, allow_infinity=False) | json_values,
        "duration": st.integers() | json_values,
        "timestamp": st.integers() | st.text(max_size=30) | json_values,
        "eventId": st.uuids().map(str) | json_values,
        "eventData": st.dictionaries(st.text(max_size=8), json_values, max_size=4) | json_values,
        "sessionId": st.text(max_size=130) | json_values,
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(event_like | json_values, max_size=5))
def test_any_json_events_get_a_2xx_or_4xx(embedded_ingest, events):
    response = embedded_ingest.post("/api/analytics", {"events": events})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] + len({error["index"] for error in body["errors"]}) == len(events)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_get_a_4xx_never_a_5xx(embedded_ingest, body):
    for endpoint in ("/api/analytics", "/api/track", "/api/privacy/opt-in"):
        response = embedded_ingest.post(endpoint, body, headers=bearer("u-1"))
        assert response.status_code < 500, (endpoint, body, response.text)
