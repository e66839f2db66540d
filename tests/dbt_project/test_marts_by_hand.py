"""`dbt build` (models, data tests, unit tests) on both engines over the hand-worked fixture,
then every mart compared with the values worked out from SPEC section 5; and the same random
stream on DuckDB and PostgreSQL gives the same marts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.dbt_project import hand_fixture as fixture
from tests.dbt_project.dbt_invocation import Warehouse, duckdb_warehouse, postgres_warehouse
from tests.dbt_project.event_streams import EventStream
from tests.dbt_project.mart_tables import MART_KEYS, mart_differences, read_mart, values_match
from tests.dbt_project.raw_store import append_events, append_privacy_request


def _load_fixture(warehouse: Warehouse) -> None:
    append_events(warehouse, fixture.EVENTS)
    for user_id, action, requested_at in fixture.PRIVACY:
        append_privacy_request(warehouse, user_id, action, requested_at)


def _assert_rows(actual: dict[tuple, dict], expected: dict, mart: str) -> None:
    keys = {key if isinstance(key, tuple) else (key,) for key in expected}
    assert set(actual) == keys, f"{mart}: keys {sorted(actual)} != {sorted(keys)}"
    for key, columns in expected.items():
        row = actual[key if isinstance(key, tuple) else (key,)]
        wrong = {
            column: (row[column], value)
            for column, value in columns.items()
            if not values_match(row[column], value)
        }
        assert not wrong, f"{mart}{key}: (actual, expected) {wrong}"


def _check_marts(warehouse: Warehouse) -> None:
    _assert_rows(read_mart(warehouse, "sessions"), fixture.EXPECTED_SESSIONS, "sessions")
    _assert_rows(read_mart(warehouse, "trending_perfumes"), fixture.EXPECTED_TRENDING, "trending_perfumes")
    _assert_rows(
        read_mart(warehouse, "perfume_interaction_stats"),
        fixture.EXPECTED_PERFUME_STATS,
        "perfume_interaction_stats",
    )
    _assert_rows(
        read_mart(warehouse, "user_behavior_profile"), fixture.EXPECTED_PROFILES, "user_behavior_profile"
    )
    _assert_rows(read_mart(warehouse, "post_engagement"), fixture.EXPECTED_POSTS, "post_engagement")
    engagement = {key: {"interactions": count} for key, count in fixture.EXPECTED_ENGAGEMENT_30D.items()}
    _assert_rows(read_mart(warehouse, "user_engagement_30d"), engagement, "user_engagement_30d")


@pytest.mark.slow
def test_duckdb_build_matches_the_hand_worked_marts(tmp_path: Path) -> None:
    warehouse = duckdb_warehouse(tmp_path)
    _load_fixture(warehouse)
    warehouse.dbt("build", as_of=fixture.AS_OF.isoformat())
    _check_marts(warehouse)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_build_matches_the_hand_worked_marts(tmp_path: Path, postgres_url: str) -> None:
    warehouse = postgres_warehouse(tmp_path, postgres_url)
    _load_fixture(warehouse)
    warehouse.dbt("build", as_of=fixture.AS_OF.isoformat())
    _check_marts(warehouse)


@pytest.mark.slow
@pytest.mark.postgres
def test_both_engines_build_the_same_marts_from_the_same_events(tmp_path: Path, postgres_url: str) -> None:
    duck = duckdb_warehouse(tmp_path / "duckdb")
    postgres = postgres_warehouse(tmp_path / "postgres", postgres_url)
    stream = EventStream(seed=11, start=datetime(2026, 3, 1, tzinfo=UTC))
    events = stream.next_batch(150)
    for warehouse in (duck, postgres):
        append_events(warehouse, events)
        append_privacy_request(warehouse, "u2", "opt_out", stream.clock)
        warehouse.dbt("seed")
        warehouse.dbt("run", as_of=stream.clock.isoformat())
    problems = [problem for mart in MART_KEYS for problem in mart_differences(duck, postgres, mart)]
    assert not problems, "\n".join(problems[:20])
    assert len(read_mart(duck, "sessions")) > 3
