"""SPEC §2's origin rule (issue 9, defect 5) and the `sid` cookie's attributes."""

from __future__ import annotations

import pytest

from ingest_service.settings import Settings, SettingsError
from tests.ingest.test_operations import _metric

PAGE = {"eventType": "PAGE_VIEW", "path": "/"}
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
REFUSED = {"error": "Origin not allowed"}


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://shop.example.evil"])
def test_a_disallowed_origin_is_refused_and_nothing_is_stored(make_harness, origin):
    harness = make_harness(INGEST_CORS_ORIGINS="https://shop.example, https://www.shop.example/")
    beacon = harness.post(
        "/api/analytics", {"events": [PAGE]}, headers={"Origin": origin}, content_type="text/plain"
    )
    track = harness.post(
        "/api/track", {"post_id": "p", "interaction_type": "like"}, headers={"Origin": origin}
    )
    opt_out = harness.post("/api/privacy/opt-out", b"", headers={"Origin": origin})
    preflight = harness.client.options("/api/analytics", headers={"Origin": origin, **PREFLIGHT})
    bad_body = harness.post("/api/analytics", b"nope", headers={"Origin": "https://shop.example"})

    for response in (beacon, track, opt_out, preflight):
        assert (response.status_code, response.json()) == (403, REFUSED)
        assert response.headers["content-type"] == "application/json"
        assert "access-control-allow-origin" not in response.headers
    assert harness.rows() == [] and harness.rejected_rows() == []
    assert bad_body.status_code == 400
    metrics = harness.client.get("/metrics").text
    assert _metric(metrics, "ingest_origin_refused_total", request="preflight") == 1
    assert _metric(metrics, "ingest_origin_refused_total", request="request") == 3


def test_allowed_origins_and_requests_without_one_pass(make_harness):
    harness = make_harness(INGEST_CORS_ORIGINS="https://shop.example,https://www.shop.example/")

    preflight = harness.client.options(
        "/api/analytics", headers={"Origin": "https://shop.example", **PREFLIGHT}
    )
    allowed = harness.post(
        "/api/analytics", {"events": [PAGE]}, headers={"Origin": "https://www.shop.example"}
    )
    server_side = harness.post(
        "/api/analytics", {"events": [PAGE]}
    )  # no Origin: not a browser on another site
    health = harness.client.get(
        "/healthz", headers={"Origin": "https://evil.example"}
    )  # only /api/* is guarded

    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://www.shop.example"
    assert server_side.status_code == 200 and health.status_code == 200
    assert len(harness.rows()) == 2


def test_without_an_allow_list_nothing_is_refused_and_no_cors_header_is_sent(make_harness):
    harness = make_harness()

    response = harness.post("/api/analytics", {"events": [PAGE]}, headers={"Origin": "null"})

    assert response.status_code == 200
    assert not any(name.startswith("access-control-") for name in response.headers)
    assert len(harness.rows()) == 1


def _sid_cookie(response) -> str:
    (cookie,) = [value for name, value in response.headers.multi_items() if name == "set-cookie"]
    return cookie


def test_the_session_cookie_is_lax_and_not_secure_by_default(make_harness):
    cookie = _sid_cookie(make_harness().post("/api/analytics", {"events": [PAGE]}))

    assert cookie.startswith("sid=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie


@pytest.mark.parametrize(
    ("env", "same_site", "secure"),
    [
        ({"INGEST_SESSION_COOKIE_SAMESITE": "none"}, "none", True),
        (
            {"INGEST_SESSION_COOKIE_SAMESITE": "Strict", "INGEST_SESSION_COOKIE_SECURE": "true"},
            "strict",
            True,
        ),
        ({"INGEST_SESSION_COOKIE_SECURE": "1"}, "lax", True),
    ],
)
def test_the_session_cookie_attributes_are_configurable(make_harness, env, same_site, secure):
    cookie = _sid_cookie(make_harness(**env).post("/api/analytics", {"events": [PAGE]}))

    assert f"SameSite={same_site}" in cookie
    assert ("Secure" in cookie) is secure


@pytest.mark.parametrize(
    "env", [{"INGEST_SESSION_COOKIE_SAMESITE": "sometimes"}, {"INGEST_SESSION_COOKIE_SECURE": "maybe"}]
)
def test_bad_cookie_settings_say_which_variable(env):
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)
