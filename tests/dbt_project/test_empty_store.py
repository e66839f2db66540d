"""The project builds on a fresh machine: an empty DATA_DIR (no raw Parquet file yet) reads as no
events, and every mart exists, empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dbt_project.dbt_invocation import duckdb_warehouse
from tests.dbt_project.mart_tables import MART_KEYS


@pytest.mark.slow
def test_build_on_an_empty_data_dir_gives_empty_marts(tmp_path: Path) -> None:
    warehouse = duckdb_warehouse(tmp_path)
    assert not (Path(warehouse.env["DATA_DIR"]) / "raw").exists()
    warehouse.dbt("build")
    for mart in MART_KEYS:
        assert warehouse.query(f"select count(*) from {mart}") == [(0,)], mart
