"""The sample-traffic generator: deterministic, coherent with the catalog and the SDKs' contracts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import duckdb
import psycopg
import pytest

from ingest_service.event_types import CATEGORY_OF_EVENT_TYPE
from ingest_service.storage.raw_schema import POSTGRES_DDL
from orchestration.sample_traffic import (
    TrafficConfig,
    generate_traffic,
    load_catalog,
    plan_deliveries,
    raw_rows,
)
from orchestration.sample_traffic.__main__ import main as sample_traffic_main
from orchestration.sample_traffic.deliveries import ANALYTICS_ENDPOINT, TRACK_ENDPOINT
from orchestration.sample_traffic.generator import POST_EVENT_TYPES

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
CONFIG = TrafficConfig(seed=5, users=15, sessions=150, days=14, posts=8)


@pytest.fixture(scope="module")
def traffic():
    return generate_traffic(load_catalog(), NOW, CONFIG)


def test_same_seed_same_events_other_seed_other_events(traffic):
    again = generate_traffic(load_catalog(), NOW, CONFIG)
    assert [e.event_id for _, e in again.events()] == [e.event_id for _, e in traffic.events()]
    other = generate_traffic(
        load_catalog(), NOW, TrafficConfig(seed=6, users=15, sessions=150, days=14, posts=8)
    )
    assert {e.event_id for _, e in other.events()}.isdisjoint({e.event_id for _, e in traffic.events()})


def test_events_refer_to_the_catalog_and_respect_the_event_table(traffic):
    catalog = load_catalog()
    perfume_ids = {perfume.perfume_id for perfume in catalog.perfumes}
    needs_perfume = {
        "PERFUME_VIEW", "SEARCH_RESULT_CLICKED", "RATING_COMPLETED", "REVIEW_SUBMITTED",
        "WISHLIST_ADD", "WISHLIST_REMOVE", "COLLECTION_ADD", "SIMILAR_CLICKED",
    }  # fmt: skip
    for session, event in traffic.events():
        assert event.event_type in CATEGORY_OF_EVENT_TYPE
        if event.event_type in needs_perfume:
            assert event.perfume_id in perfume_ids
        if event.event_type == "HOUSE_VIEW":
            assert event.house_id in catalog.house_names
        if event.event_type == "RATING_COMPLETED":
            assert 1 <= event.value <= 5
        if event.event_type in POST_EVENT_TYPES:
            assert event.post_id and session.user_id  # /api/track needs an identified user
        assert event.occurred_at < NOW


def test_sessions_are_anonymous_logged_in_or_crawlers_and_follow_funnels(traffic):
    kinds = Counter(
        "bot" if s.client.is_bot else "user" if s.user_id else "anonymous" for s in traffic.sessions
    )
    assert kinds["bot"] and kinds["user"] and kinds["anonymous"]
    assert all(s.user_id is None for s in traffic.sessions if s.client.is_bot)
    clicks = 0
    for session in traffic.sessions:
        shown: set[str] = set()
        for event in session.events:
            if event.event_type == "SEARCH_PERFORMED":
                shown |= set(event.event_data["resultPerfumeIds"])
            if event.event_type == "SEARCH_RESULT_CLICKED":
                clicks += 1
                assert event.perfume_id in shown  # a click is on a result the search showed
        times = [event.occurred_at for event in session.events]
        assert times == sorted(times)
    assert clicks > 0


def test_deliveries_batch_retry_with_the_same_ids_and_send_some_late(traffic):
    deliveries = plan_deliveries(traffic, seed=CONFIG.seed)
    kinds = Counter(delivery.kind for delivery in deliveries)
    assert kinds["batch"] and kinds["late"] and kinds["retry"]
    first_seen = {}
    for index, delivery in enumerate(deliveries):
        if delivery.kind == "retry":
            assert delivery.event_ids in first_seen  # the same ids as a batch sent earlier
        else:
            first_seen.setdefault(delivery.event_ids, index)
        assert delivery.endpoint in (ANALYTICS_ENDPOINT, TRACK_ENDPOINT)
        if delivery.endpoint == TRACK_ENDPOINT:
            assert set(delivery.body) & {"interactions", "post_id"}
        else:
            assert set(delivery.body) & {"events", "event"}
        if not delivery.via_api_key:  # only server clients may name the user in the body
            assert "userId" not in str(delivery.body) and "user_id" not in str(delivery.body)
    last_on_time = max(i for i, d in enumerate(deliveries) if d.kind == "batch")
    assert min(i for i, d in enumerate(deliveries) if d.kind == "late") > last_on_time
    sent = {event_id for delivery in deliveries for event_id in delivery.event_ids}
    assert sent == {event.event_id for _, event in traffic.events()}


def test_command_line_bulk_loads_the_parquet_store(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert sample_traffic_main(["--bulk", "--sessions", "40", "--seed", "9"]) == 0
    expected = raw_rows(
        generate_traffic(load_catalog(), datetime.now(UTC), TrafficConfig(seed=9, sessions=40, users=5)),
        seed=9,
    )
    files = str(tmp_path / "raw" / "interaction_events" / "*.parquet")
    with duckdb.connect() as connection:
        stored = connection.execute(
            "select count(*), count(distinct event_id) from read_parquet(?)", [files]
        ).fetchone()
    assert stored == (len(expected), len({row["event_id"] for row in expected}))


@pytest.mark.postgres
def test_command_line_bulk_loads_postgres_when_database_url_is_set(postgres_url, monkeypatch, tmp_path):
    with psycopg.connect(postgres_url) as connection:
        connection.execute(POSTGRES_DDL)
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert sample_traffic_main(["--bulk", "--sessions", "25", "--seed", "4"]) == 0
    expected = raw_rows(
        generate_traffic(load_catalog(), datetime.now(UTC), TrafficConfig(seed=4, sessions=25, users=5)),
        seed=4,
    )
    with psycopg.connect(postgres_url) as connection:
        count = connection.execute("select count(*) from raw.interaction_events").fetchone()[0]
    assert count == len(expected)


def test_command_line_refuses_bad_arguments_with_a_message(capsys):
    with pytest.raises(SystemExit) as exit_info:
        sample_traffic_main(["--bulk", "--sessions", "0"])
    assert exit_info.value.code == 2
    assert "--sessions and --days must be at least 1" in capsys.readouterr().err
