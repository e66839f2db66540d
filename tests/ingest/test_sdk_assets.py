"""SPEC §10 on the service side: the SDK's files at GET /sdk/…, and the first-party `aid` cookie."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from tests.ingest.conftest import bearer

SDK_DIR = Path(__file__).resolve().parents[2] / "ingest_service" / "sdk"
MODULES = ["analytics.js", "react.js"]
DECLARATIONS = ["analytics.d.ts", "react.d.ts"]
ANONYMOUS_ID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
LATER_ANONYMOUS_ID = "6f1c0a52-8d39-4f4e-9d2b-3a0c7f1e2d11"


@pytest.mark.parametrize("name", MODULES + DECLARATIONS)
def test_each_file_is_served_as_it_is_in_the_repository(embedded_ingest, name):
    response = embedded_ingest.client.get(f"/sdk/{name}")

    assert response.status_code == 200
    assert response.content == (SDK_DIR / name).read_bytes()
    media_type = "text/javascript" if name.endswith(".js") else "application/typescript"
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "charset=utf-8" in response.headers["content-type"]
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["etag"].startswith('"') and response.headers["etag"].endswith('"')


def test_files_have_distinct_etags_and_a_matching_if_none_match_is_304(embedded_ingest):
    client = embedded_ingest.client
    etags = {name: client.get(f"/sdk/{name}").headers["etag"] for name in MODULES + DECLARATIONS}
    assert len(set(etags.values())) == 4

    etag = etags["analytics.js"]
    for if_none_match in [etag, f"W/{etag}", f'"other", {etag}', "*"]:
        response = client.get("/sdk/analytics.js", headers={"If-None-Match": if_none_match})
        assert response.status_code == 304, if_none_match
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == "public, max-age=300"
    stale = client.get("/sdk/analytics.js", headers={"If-None-Match": etags["react.js"]})
    assert stale.status_code == 200 and stale.content == (SDK_DIR / "analytics.js").read_bytes()


def test_other_names_under_sdk_are_404(embedded_ingest):
    for path in ["/sdk/package.json", "/sdk/analytics.mjs", "/sdk/../app.py", "/sdk/"]:
        assert embedded_ingest.client.get(path).status_code == 404, path


def test_module_imports_from_an_allowed_origin_get_cors_headers(make_harness):
    harness = make_harness(INGEST_CORS_ORIGINS="https://shop.example")

    allowed = harness.client.get("/sdk/analytics.js", headers={"Origin": "https://shop.example"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    # a 429/503 names how long to wait; a cross-origin script may only read it when exposed
    assert "retry-after" in allowed.headers["access-control-expose-headers"].lower()

    other = harness.client.get("/sdk/analytics.js", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers


def test_the_openapi_document_lists_the_sdk_files(embedded_ingest):
    paths = embedded_ingest.client.get("/schema/openapi.json").json()["paths"]

    for name in MODULES + DECLARATIONS:
        operation = paths[f"/sdk/{name}"]["get"]
        assert operation["tags"] == ["sdk"]
        assert set(operation["responses"]) == {"200", "304"}
        for answer in operation["responses"].values():
            assert {"ETag", "Cache-Control"} <= set(answer["headers"])
        assert "content" not in operation["responses"]["304"], "a 304 has no body"
    assert "text/javascript" in paths["/sdk/analytics.js"]["get"]["responses"]["200"]["content"]
    assert "application/typescript" in paths["/sdk/react.d.ts"]["get"]["responses"]["200"]["content"]


def _aid_cookie(response) -> SimpleCookie | None:
    for header in response.headers.get_list("set-cookie"):
        cookie = SimpleCookie(header)
        if "aid" in cookie:
            return cookie
    return None


def test_aid_cookie_carries_the_requests_latest_anonymous_id(any_ingest):
    events = [
        {"eventType": "PAGE_VIEW", "path": "/", "anonymousId": ANONYMOUS_ID},
        {"eventType": "PAGE_VIEW", "path": "/2", "anonymousId": LATER_ANONYMOUS_ID.upper()},
        {"eventType": "PAGE_VIEW", "path": "/3"},
    ]
    response = any_ingest.post("/api/analytics", {"events": events})

    cookie = _aid_cookie(response)
    assert cookie is not None
    morsel = cookie["aid"]
    assert morsel.value == LATER_ANONYMOUS_ID  # as stored: lower case
    # first party, for the whole site, a year, readable by the SDK (not HttpOnly), Lax like `sid`
    assert morsel["path"] == "/"
    assert morsel["max-age"] == str(365 * 24 * 3600)
    assert morsel["samesite"].lower() == "lax"
    assert not morsel["httponly"]
    assert "domain" not in morsel or not morsel["domain"]


def test_aid_cookie_from_track_and_only_from_accepted_events(embedded_ingest):
    track = embedded_ingest.post(
        "/api/track",
        {"post_id": "p-1", "interaction_type": "like", "anonymous_id": ANONYMOUS_ID},
        headers=bearer("u-1"),
    )
    assert _aid_cookie(track)["aid"].value == ANONYMOUS_ID

    no_id = embedded_ingest.post("/api/analytics", {"events": [{"eventType": "PAGE_VIEW", "path": "/"}]})
    assert _aid_cookie(no_id) is None
    no_perfume = {"eventType": "PERFUME_VIEW", "path": "/", "anonymousId": ANONYMOUS_ID}
    refused = embedded_ingest.post("/api/analytics", {"events": [no_perfume]})
    assert refused.json()["count"] == 0
    assert _aid_cookie(refused) is None


def test_aid_cookie_takes_the_sid_cookies_samesite_and_secure_settings(make_harness):
    # a site on another domain than the service needs SameSite=None (and so Secure) for both
    harness = make_harness(INGEST_SESSION_COOKIE_SAMESITE="none")
    response = harness.post(
        "/api/analytics", {"events": [{"eventType": "PAGE_VIEW", "path": "/", "anonymousId": ANONYMOUS_ID}]}
    )

    morsel = _aid_cookie(response)["aid"]
    assert morsel["samesite"].lower() == "none"
    assert morsel["secure"]
    assert not morsel["httponly"]
