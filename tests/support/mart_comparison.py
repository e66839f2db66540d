"""One comparison rule for every warehouse test (SPEC 5: "Numbers are compared with a relative
tolerance of 1e-9; timestamps are UTC"; JSON columns are compared parsed, arrays in order).

`assert_marts_equal` reports every differing cell as mart, key, column, expected and actual, so a
failing property test says exactly which row and formula disagree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tests.support.reference_marts import JSON_COLUMNS, MART_KEYS

REL_TOL = 1e-9
#: sums of decayed weights may differ in the last bits when summed in another order
ABS_TOL = 1e-12
MAX_REPORTED = 25


def _parse_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _normalise(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            # a naive timestamp from an engine is UTC by the warehouse's contract
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return value


def values_equal(expected: Any, actual: Any) -> bool:
    expected, actual = _normalise(expected), _normalise(actual)
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(expected, list) and isinstance(actual, list | tuple):
        return len(expected) == len(actual) and all(map(values_equal, expected, actual))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            values_equal(expected[k], actual[k]) for k in expected
        )
    return type(expected) is type(actual) and expected == actual


def _key(row: Mapping[str, Any], key_columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(str(row[column]) for column in key_columns)


def mart_differences(
    mart: str, expected_rows: Iterable[Mapping[str, Any]], actual_rows: Iterable[Mapping[str, Any]]
) -> list[str]:
    """Human-readable differences between two versions of one mart (empty when equal)."""
    key_columns = MART_KEYS[mart]
    expected = {_key(row, key_columns): row for row in expected_rows}
    actual: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    problems: list[str] = []
    for row in actual_rows:
        key = _key(row, key_columns)
        if key in actual:
            problems.append(f"{mart} {dict(zip(key_columns, key, strict=True))}: duplicate key in actual")
        actual[key] = row
    for key in sorted(expected.keys() - actual.keys()):
        problems.append(
            f"{mart} {dict(zip(key_columns, key, strict=True))}: missing, expected {dict(expected[key])}"
        )
    for key in sorted(actual.keys() - expected.keys()):
        problems.append(
            f"{mart} {dict(zip(key_columns, key, strict=True))}: unexpected row {dict(actual[key])}"
        )
    if mart != "stg_interaction_events" and expected and actual:
        # the marts carry exactly the spec's columns (staging may keep helper columns)
        extra = set(next(iter(actual.values()))) - set(next(iter(expected.values())))
        if extra:
            problems.append(f"{mart}: columns not in the spec: {sorted(extra)}")
    for key in sorted(expected.keys() & actual.keys()):
        expected_row, actual_row = expected[key], actual[key]
        for column, expected_value in expected_row.items():
            if column in key_columns:
                continue
            if column not in actual_row:
                problems.append(f"{mart}: column {column!r} is missing")
                continue
            actual_value = actual_row[column]
            if column in JSON_COLUMNS:
                actual_value = _parse_json(actual_value)
                expected_value = _parse_json(expected_value)
            if not values_equal(expected_value, actual_value):
                problems.append(
                    f"{mart} {dict(zip(key_columns, key, strict=True))} column {column}: "
                    f"expected {expected_value!r}, actual {actual_value!r}"
                )
    return list(dict.fromkeys(problems))


def assert_marts_equal(
    expected: Mapping[str, Iterable[Mapping[str, Any]]],
    actual: Mapping[str, Iterable[Mapping[str, Any]]],
    context: str = "",
) -> None:
    """Every mart named in `expected` must match `actual` cell by cell (see module docstring)."""
    problems: list[str] = []
    for mart, expected_rows in expected.items():
        if mart not in MART_KEYS:
            continue
        if mart not in actual:
            problems.append(f"{mart}: not built")
            continue
        problems.extend(mart_differences(mart, expected_rows, actual[mart]))
    if problems:
        shown = "\n  ".join(problems[:MAX_REPORTED])
        more = f"\n  … and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        raise AssertionError(f"{context}{len(problems)} difference(s):\n  {shown}{more}")
