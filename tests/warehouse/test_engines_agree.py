"""The same models on both engines (SPEC 4): the same events through dbt on DuckDB (target `dev`)
and on a real PostgreSQL (target `prod`, a fresh database with the ingest service's raw DDL) give
the same marts, and both equal the reference implementation."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.hand_fixture import AS_OF, EXPECTED, fixture_events, fixture_privacy
from tests.support.mart_comparison import assert_marts_equal
from tests.support.random_streams import random_stream
from tests.support.reference_marts import build_marts, load_catalog
from tests.support.warehouse_harness import SEEDS_DIR, Warehouse


@pytest.mark.slow
@pytest.mark.postgres
def test_hand_computed_fixture_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    warehouse = Warehouse(tmp_path, target="prod", postgres_url=postgres_url)
    warehouse.append_privacy(fixture_privacy())
    warehouse.append_events(fixture_events())
    warehouse.build(AS_OF, command="build")  # with the project's data and unit tests
    assert_marts_equal(EXPECTED, warehouse.read_marts(), context="dbt on PostgreSQL vs hand-computed: ")


#: one stream by default (3 runs: opt-out, then a quiet run); widen with e.g. `WAREHOUSE_ENGINE_SEEDS=100:110`
ENGINE_SEEDS = range(*map(int, os.environ.get("WAREHOUSE_ENGINE_SEEDS", "101:102").split(":")))


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("seed", ENGINE_SEEDS)
def test_random_stream_gives_the_same_marts_on_duckdb_and_postgres(
    seed: int, tmp_path: Path, make_postgres_database: Callable[[str], str], parsed_duckdb_project: Warehouse
) -> None:
    runs = random_stream(seed, advancing_as_of=seed % 2 == 1, events=200)
    duckdb_warehouse = parsed_duckdb_project.fresh(tmp_path / "duckdb")
    postgres_warehouse = Warehouse(
        tmp_path / "postgres", target="prod", postgres_url=make_postgres_database("engines")
    )
    for run in runs:
        for warehouse in (duckdb_warehouse, postgres_warehouse):
            warehouse.append_privacy(run.privacy)
            warehouse.append_events(run.events)
            warehouse.build(run.as_of)

    on_duckdb, on_postgres = duckdb_warehouse.read_marts(), postgres_warehouse.read_marts()
    reference = build_marts(
        [row for run in runs for row in run.events],
        [row for run in runs for row in run.privacy],
        load_catalog(SEEDS_DIR),
        runs[-1].as_of,
    )
    failures = []
    for context, expected, actual in (
        ("PostgreSQL vs DuckDB: ", on_duckdb, on_postgres),
        ("DuckDB vs reference: ", reference, on_duckdb),
        ("PostgreSQL vs reference: ", reference, on_postgres),
    ):
        try:
            assert_marts_equal(expected, actual, context=context)
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, f"seed {seed}:\n" + "\n\n".join(failures)
