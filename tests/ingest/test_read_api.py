"""The read endpoints of SPEC section 2, on marts built by the real dbt project from a hand-made site.

Embedded mode: dbt builds DuckDB marts, a snapshot is published from them, and the app (Litestar's
test client, lifespan included) serves it. PostgreSQL mode: dbt builds the `prod` marts and the app
reads them in place. The expected figures are worked out by hand from SPEC section 5
(`tests/support/read_fixture.py`), never read back from the pipeline.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from ingest_service.app import create_app
from ingest_service.settings import Settings
from orchestration.settings import REPO_ROOT
from orchestration.snapshots import publish_snapshot
from tests.ingest.conftest import bearer, settings_for
from tests.ingest.contract_check import ResponseRecorder, contract_problems
from tests.support import read_fixture as site
from tests.support.warehouse_harness import PG_SCHEMA, Warehouse

ENGINES = ["embedded", pytest.param("postgres", marks=pytest.mark.postgres)]


def same(actual: Any, expected: Any, where: str = "$") -> None:
    """`actual` (decoded JSON) equals `expected`: floats to 1e-9 relative, datetimes as ISO text."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing"
            same(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r}"
        for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
            same(got, want, f"{where}[{index}]")
    elif isinstance(expected, datetime):
        assert isinstance(actual, str) and actual.endswith("Z"), f"{where}: {actual!r} is not UTC text"
        assert datetime.fromisoformat(actual) == expected, where
    elif isinstance(expected, float):
        assert isinstance(actual, int | float) and math.isclose(actual, expected, rel_tol=1e-9), (
            f"{where}: {actual!r} != {expected!r}"
        )
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


@pytest.fixture(scope="module")
def built_sites(tmp_path_factory, make_module_postgres_database) -> Iterator[Callable[[str], Warehouse]]:
    """engine → the hand-made site built by dbt (embedded: with a published snapshot), once per module."""
    sites: dict[str, Warehouse] = {}

    def site_for(engine: str) -> Warehouse:
        if engine not in sites:
            work_dir = tmp_path_factory.mktemp(f"site-{engine}")
            if engine == "postgres":
                sites[engine] = site.build_site(work_dir, make_module_postgres_database("reads"))
            else:
                sites[engine] = site.build_site(work_dir)
                with sites[engine].location.writer_lock():
                    publish_snapshot(sites[engine].location)
        return sites[engine]

    yield site_for


@contextmanager
def checked_client(settings: Settings) -> Iterator[TestClient]:
    """The app on `settings`; every response it gave must match the published OpenAPI."""
    recorder = ResponseRecorder()
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        test_client.event_hooks["response"] = [recorder.record]
        yield test_client
        test_client.event_hooks["response"] = []
        document = test_client.get("/schema/openapi.json").json()
    problems = contract_problems(document, recorder.responses)
    assert not problems, "responses that differ from the published OpenAPI:\n" + "\n".join(problems)


def app_client(harness: Warehouse, **env: str):
    database_url = harness.postgres_url if harness.target == "prod" else None
    return checked_client(settings_for(harness.data_dir, database_url, DBT_PG_SCHEMA=PG_SCHEMA, **env))


@pytest.fixture(params=ENGINES)
def client(request, built_sites) -> Iterator[TestClient]:
    with app_client(built_sites(request.param)) as test_client:
        yield test_client


def test_trending_is_the_ranked_perfumes_as_of_the_build(client):
    answer = client.get("/api/trending")
    assert answer.status_code == 200
    body = answer.json()
    same(body, {"asOf": site.AS_OF, "perfumes": site.TRENDING[:20]})  # the default limit is 20
    assert set(body) == {"asOf", "perfumes"}
    assert set(body["perfumes"][0]) == {"rank", "perfumeId", "trendingScore", "views24h", "velocity"}
    same(client.get("/api/trending?limit=1").json()["perfumes"], site.TRENDING[:1])
    same(client.get("/api/trending?limit=100").json()["perfumes"], site.TRENDING)  # all 27


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", ""])
def test_a_bad_limit_is_a_400_that_says_the_rule(built_sites, limit):
    with app_client(built_sites("embedded")) as test_client:
        answer = test_client.get(f"/api/trending?limit={limit}")
    assert answer.status_code == 400
    assert answer.json() == {"error": "limit: must be an integer from 1 to 100 (default 20)"}


def test_perfume_stats_are_its_row_and_an_unknown_perfume_is_a_404(client):
    same(client.get("/api/perfumes/p0001/stats").json(), {"asOf": site.AS_OF, **site.P0001_STATS})
    same(client.get("/api/perfumes/p0003/stats").json(), {"asOf": site.AS_OF, **site.P0003_STATS})
    for unknown in ("p9999", "x" * 300, "p0001%27%20or%201=1"):
        answer = client.get(f"/api/perfumes/{unknown}/stats")
        assert answer.status_code == 404, unknown
        assert "no stats for perfume" in answer.json()["error"]


def test_the_profile_is_the_bearer_users_own_and_nobody_elses(client):
    answer = client.get("/api/me/profile", headers=bearer("u-ana"))
    assert answer.status_code == 200
    same(answer.json(), {"asOf": site.AS_OF, **site.ANA_PROFILE})
    # nothing in the request can name another user
    asked_for_ben = client.get("/api/me/profile?userId=u-ben&user_id=u-ben", headers=bearer("u-ana"))
    assert asked_for_ben.json()["userId"] == "u-ana"
    assert client.get("/api/me/profile", headers=bearer("u-ben")).json()["userId"] == "u-ben"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        bearer("u-ana", expires_in_s=-10),
        bearer("u-ana", secret="another-secret-that-is-long-enough-for-hs256"),
        {"X-Api-Key": "server-key-1"},  # a server client is nobody's "me"
    ],
    ids=["none", "garbage", "expired", "wrong-secret", "api-key"],
)
def test_the_profile_without_a_verified_user_is_a_401(built_sites, headers):
    with app_client(built_sites("embedded")) as test_client:
        answer = test_client.get("/api/me/profile", headers=headers)
    assert answer.status_code == 401
    assert "error" in answer.json() and "u-ana" not in answer.text


def test_a_user_without_a_profile_is_a_404(client):
    answer = client.get("/api/me/profile", headers=bearer("u-nobody"))
    assert answer.status_code == 404
    assert answer.json() == {"error": "no profile for this user yet"}


def test_answers_carry_caching_headers_and_a_matching_etag_is_a_304(client):
    first = client.get("/api/trending")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get("/api/trending", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get("/api/trending", headers={"If-None-Match": '"other"'}).status_code == 200
    weak = {"If-None-Match": f"W/{client.get('/api/perfumes/p0001/stats').headers['etag']}"}
    assert client.get("/api/perfumes/p0001/stats", headers=weak).status_code == 304

    ana = client.get("/api/me/profile", headers=bearer("u-ana"))
    ben = client.get("/api/me/profile", headers=bearer("u-ben"))
    assert ana.headers["cache-control"] == "private, max-age=60" and ana.headers["vary"] == "Authorization"
    assert ana.headers["etag"] != ben.headers["etag"]
    # a browser shared by two users must not revalidate one's profile into the other's
    crossed = client.get("/api/me/profile", headers={**bearer("u-ben"), "If-None-Match": ana.headers["etag"]})
    assert crossed.status_code == 200 and crossed.json()["userId"] == "u-ben"
    own = client.get("/api/me/profile", headers={**bearer("u-ana"), "If-None-Match": ana.headers["etag"]})
    assert own.status_code == 304


def test_max_age_follows_the_setting(built_sites):
    with app_client(built_sites("embedded"), INGEST_READ_CACHE_SECONDS="300") as test_client:
        assert test_client.get("/api/trending").headers["cache-control"] == "public, max-age=300"


@pytest.mark.parametrize("engine", ENGINES)
def test_before_the_first_build_every_read_is_a_503_with_retry_after(
    engine, tmp_path, make_postgres_database
):
    database_url = make_postgres_database("empty") if engine == "postgres" else None
    settings = settings_for(tmp_path / "data", database_url)
    with checked_client(settings) as test_client:
        for path, headers in (
            ("/api/trending", {}),
            ("/api/perfumes/p0001/stats", {}),
            ("/api/me/profile", bearer("u-ana")),
        ):
            answer = test_client.get(path, headers=headers)
            assert answer.status_code == 503, path
            assert answer.headers["retry-after"] == "30"
            assert "not built yet" in answer.json()["error"]


@pytest.mark.slow
def test_a_new_published_build_is_served_at_once_with_a_new_etag(tmp_path):
    harness = site.build_site(tmp_path)
    with harness.location.writer_lock():
        publish_snapshot(harness.location)
    with app_client(harness) as test_client:
        before = test_client.get("/api/perfumes/p0002/stats")
        assert before.json()["totalViews"] == 1
        later = site.AS_OF + site.HOUR
        harness.append_events([site.raw_event("PERFUME_VIEW", occurred_at=later - site.MINUTE,
                                              session_id="s-new", perfume_id="p0002")])  # fmt: skip
        harness.build(later)
        with harness.location.writer_lock():
            publish_snapshot(harness.location)
        after = test_client.get(
            "/api/perfumes/p0002/stats", headers={"If-None-Match": before.headers["etag"]}
        )
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    same(after.json(), {"asOf": later, "totalViews": 2, "uniqueViewers": 2})


def test_the_openapi_document_describes_the_read_endpoints_exactly(built_sites):
    """Every answer above was also checked against this document (`checked_client`); here, that the
    document says what SPEC section 2 does."""
    with app_client(built_sites("embedded")) as test_client:
        paths = test_client.get("/schema/openapi.json").json()["paths"]
    trending = paths["/api/trending"]["get"]
    [limit] = trending["parameters"]
    assert (limit["name"], limit["schema"]["minimum"], limit["schema"]["maximum"]) == ("limit", 1, 100)
    assert set(trending["responses"]) == {"200", "304", "400", "403", "503"}
    body = trending["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["required"] == ["asOf", "perfumes"] and body["additionalProperties"] is False
    item = body["properties"]["perfumes"]["items"]
    assert item["required"] == ["rank", "perfumeId", "trendingScore", "views24h", "velocity"]
    assert set(trending["responses"]["200"]["headers"]) == {"ETag", "Cache-Control"}
    assert "content" not in trending["responses"]["304"]
    stats = paths["/api/perfumes/{perfume_id}/stats"]["get"]
    assert set(stats["responses"]) == {"200", "304", "403", "404", "503"}
    profile = paths["/api/me/profile"]["get"]
    assert set(profile["responses"]) == {"200", "304", "401", "403", "404", "503"}
    fields = profile["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    assert {"asOf", "userId", "stitchedEvents", "preferredHouses", "engagementScore"} <= set(fields)
    assert set(profile["responses"]["200"]["headers"]) == {"ETag", "Cache-Control", "Vary"}


def readme_read_only_role_sql(role: str, database: str, schema: str, dbt_role: str) -> str:
    """The README's read-only role block, with this test's names in place of the README's."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    [block] = [block for block in re.findall(r"```sql\n(.*?)```", readme, re.S) if "create role" in block]
    for name, value in (("analytics_reader", role), ("interactions", database), ("pipeline", dbt_role)):
        block = re.sub(rf"\b{name}\b", value, block)
    return re.sub(r"\bschema analytics\b", f"schema {schema}", block)


@contextmanager
def temporary_role(database_url: str, setup_sql: str, role: str) -> Iterator[str]:
    """Run `setup_sql` (which creates `role`) on the database; yields the role's URL; drops it after."""
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(setup_sql)
    try:
        yield f"postgresql://{role}:change-me@{info['host']}:{info['port']}/{info['dbname']}"
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f'drop owned by "{role}"')
            admin.execute(f'drop role "{role}"')


@pytest.mark.postgres
@pytest.mark.slow
def test_the_readme_read_only_role_reads_the_marts_and_nothing_else(built_sites):
    harness = built_sites("postgres")
    role = f"reader_{uuid.uuid4().hex[:8]}"
    info = psycopg.conninfo.conninfo_to_dict(harness.postgres_url)
    grants = readme_read_only_role_sql(role, info["dbname"], PG_SCHEMA, info.get("user") or "postgres")
    with temporary_role(harness.postgres_url, grants, role) as reader_url:

        def reads_every_mart() -> None:
            with psycopg.connect(reader_url, autocommit=True) as reader:
                for mart in ("trending_perfumes", "perfume_interaction_stats", "user_behavior_profile"):
                    [(count,)] = reader.execute(f"select count(*) from {PG_SCHEMA}.{mart}").fetchall()
                    assert count > 0, mart

        reads_every_mart()
        refused = [
            f"insert into {PG_SCHEMA}.trending_perfumes (perfume_id) values ('p-x')",
            f"update {PG_SCHEMA}.perfume_interaction_stats set total_views = 0",
            f"delete from {PG_SCHEMA}.user_behavior_profile",
            f"truncate {PG_SCHEMA}.trending_perfumes",
            f"create table {PG_SCHEMA}.mine (x int)",
            f"drop table {PG_SCHEMA}.trending_perfumes",
            "select count(*) from raw.interaction_events",
        ]
        for statement in refused:
            with (
                psycopg.connect(reader_url, autocommit=True) as reader,
                pytest.raises(psycopg.errors.InsufficientPrivilege),
            ):
                reader.execute(statement)
        # every build replaces the mart tables; the default privileges carry the grant over
        harness.build(site.AS_OF, full_refresh=True)
        reads_every_mart()
        with app_client(harness, INGEST_READ_DATABASE_URL=reader_url) as test_client:
            same(test_client.get("/api/trending?limit=2").json()["perfumes"], site.TRENDING[:2])
            assert test_client.get("/api/me/profile", headers=bearer("u-ana")).status_code == 200


@pytest.mark.postgres
def test_a_read_role_without_the_grants_gets_a_503_not_a_500(built_sites):
    harness = built_sites("postgres")
    role = f"bare_{uuid.uuid4().hex[:8]}"
    setup = f"create role {role} login password 'change-me'"
    with (
        temporary_role(harness.postgres_url, setup, role) as bare_url,
        app_client(harness, INGEST_READ_DATABASE_URL=bare_url) as test_client,
    ):
        answer = test_client.get("/api/trending")
    assert answer.status_code == 503
    assert answer.json() == {"error": "Results are unavailable right now; retry later"}
