"""The comparison rule every warehouse test relies on must be able to fail, and say where."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.support.mart_comparison import assert_marts_equal, values_equal

ROW = {
    "post_id": "post-1",
    "views": 3,
    "avg_scroll_depth": 50.0,
    "engagements_7d": 2,
    "last_interaction_at": datetime(2026, 5, 1, 12, tzinfo=UTC),
}


def test_numbers_within_a_relative_tolerance_of_1e_9() -> None:
    assert values_equal(10.0, 10.0 * (1 + 5e-10))
    assert not values_equal(10.0, 10.0 * (1 + 5e-9))
    assert values_equal(3, 3.0)
    assert not values_equal(0.0, 1e-6)


def test_timestamps_compare_as_instants_in_utc() -> None:
    instant = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert values_equal(instant, instant.astimezone(timezone(timedelta(hours=2))))
    assert values_equal(instant, datetime(2026, 5, 1, 12))  # a naive engine value is UTC
    assert not values_equal(instant, instant + timedelta(microseconds=1))


def test_null_booleans_and_json() -> None:
    assert not values_equal(None, 0)
    assert not values_equal(True, 1)
    assert values_equal(["h021", "h018"], ("h021", "h018"))
    assert not values_equal(["h021", "h018"], ["h018", "h021"])  # arrays in order
    price_range = {"min": 74.99, "max": 80.0, "avg": 77.495}
    assert values_equal(price_range, dict(reversed(price_range.items())))
    assert not values_equal(price_range, {**price_range, "avg": 77.5})
    assert not values_equal(price_range, {"min": 74.99, "max": 80.0})


def test_json_text_from_an_engine_is_parsed() -> None:
    expected = {
        "user_behavior_profile": [{"user_id": "u", "preferred_houses": ["h1"], "preferred_notes": []}]
    }
    actual = {
        "user_behavior_profile": [{"user_id": "u", "preferred_houses": '["h1"]', "preferred_notes": "[]"}]
    }
    assert_marts_equal(expected, actual)


def test_a_difference_names_mart_key_column_expected_and_actual() -> None:
    with pytest.raises(AssertionError) as failure:
        assert_marts_equal({"post_engagement": [ROW]}, {"post_engagement": [{**ROW, "views": 4}]})
    message = str(failure.value)
    assert "post_engagement {'post_id': 'post-1'} column views: expected 3, actual 4" in message


@pytest.mark.parametrize(
    ("actual_rows", "problem"),
    [
        ([], "missing"),
        ([ROW, {**ROW, "post_id": "post-2"}], "unexpected row"),
        ([ROW, ROW], "duplicate key"),
        ([{key: value for key, value in ROW.items() if key != "views"}], "column 'views' is missing"),
        ([{**ROW, "extra": 1}], "columns not in the spec: ['extra']"),
    ],
)
def test_row_and_column_mismatches_are_reported(actual_rows: list[dict], problem: str) -> None:
    with pytest.raises(AssertionError, match=re.escape(problem)):
        assert_marts_equal({"post_engagement": [ROW]}, {"post_engagement": actual_rows})


def test_a_mart_that_was_not_built_fails() -> None:
    with pytest.raises(AssertionError, match="post_engagement: not built"):
        assert_marts_equal({"post_engagement": [ROW]}, {})
