"""Fixtures of the warehouse tests."""

from __future__ import annotations

import pytest

from tests.support.warehouse_harness import Warehouse


@pytest.fixture(scope="session")
def parsed_duckdb_project(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The dbt project parsed (and seeded) once for every DuckDB test: each test takes an empty
    warehouse of its own from it with `parsed_duckdb_project.fresh(tmp_path)`."""
    warehouse = Warehouse(tmp_path_factory.mktemp("parsed_duckdb_project"))
    warehouse.parse()
    return warehouse
