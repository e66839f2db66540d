"""The six marts with their keys (SPEC section 5), and a comparison that allows the SPEC's
relative tolerance of 1e-9 on numbers and reads JSON columns as JSON."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from tests.dbt_project.dbt_invocation import Warehouse, mart_rows

MART_KEYS: dict[str, tuple[str, ...]] = {
    "sessions": ("session_id",),
    "perfume_interaction_stats": ("perfume_id",),
    "trending_perfumes": ("perfume_id",),
    "user_behavior_profile": ("user_id",),
    "post_engagement": ("post_id",),
    "user_engagement_30d": ("user_id", "event_type"),
}
JSON_COLUMNS = {"preferred_houses", "preferred_notes", "preferred_price_range"}


def _normal(column: str, value: Any) -> Any:
    if column in JSON_COLUMNS and isinstance(value, str):
        return json.loads(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if hasattr(value, "is_finite"):  # Decimal from PostgreSQL
        return float(value)
    return value


def values_match(left: Any, right: Any) -> bool:
    if isinstance(left, (int, float)) and isinstance(right, (int, float)) and not isinstance(left, bool):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(values_match(left[key], right[key]) for key in left)
    return left == right


def read_mart(warehouse: Warehouse, mart: str) -> dict[tuple, dict[str, Any]]:
    rows = mart_rows(warehouse, mart, MART_KEYS[mart])
    normal = [{column: _normal(column, value) for column, value in row.items()} for row in rows]
    return {tuple(row[key] for key in MART_KEYS[mart]): row for row in normal}


def mart_differences(left: Warehouse, right: Warehouse, mart: str) -> list[str]:
    """Human-readable differences between the same mart in two warehouses (empty when equal)."""
    left_rows, right_rows = read_mart(left, mart), read_mart(right, mart)
    problems = [f"{mart}{key}: only in first" for key in left_rows.keys() - right_rows.keys()]
    problems += [f"{mart}{key}: only in second" for key in right_rows.keys() - left_rows.keys()]
    for key in left_rows.keys() & right_rows.keys():
        for column, value in left_rows[key].items():
            other = right_rows[key].get(column)
            if not values_match(value, other):
                problems.append(f"{mart}{key}.{column}: {value!r} != {other!r}")
    return sorted(problems)
