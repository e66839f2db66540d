"""Compaction of the embedded store: fewer files, every delivery kept, the marts unchanged.

The ingest service writes one Parquet file per group commit; compaction merges them. It must keep
every delivery (a client retry with a later received_at is a separate raw row), drop only exact
copies left by a crash mid-compaction, and never change what the warehouse computes — neither the
marts already built nor what a later incremental run picks up.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import duckdb
import pytest

from ingest_service.storage.bulk_load import append_rows_parquet
from ingest_service.upkeep.compaction import compact_store
from ingest_service.upkeep.embedded_rewrite import data_files
from orchestration.lifecycle.cli import main as lifecycle_cli
from tests.support.events import raw_event, utc
from tests.support.mart_comparison import assert_marts_equal
from tests.support.random_streams import random_stream
from tests.support.reference_marts import build_marts, load_catalog
from tests.support.warehouse_harness import SEEDS_DIR, Warehouse

T0 = utc("2026-05-01 12:00")


def _deliveries(directory) -> list[tuple[str, object]]:
    return sorted(
        duckdb.sql(f"select event_id, received_at from read_parquet('{directory}/*.parquet')").fetchall()
    )


def test_compaction_merges_small_files_and_keeps_every_delivery(tmp_path):
    store = tmp_path / "raw" / "interaction_events"
    first = [raw_event(received_at=T0 + timedelta(seconds=index)) for index in range(30)]
    for index in range(0, 30, 3):  # ten small files, as group commits would write them
        append_rows_parquet(store, first[index : index + 3])
    retry = dict(first[0], received_at=T0 + timedelta(minutes=5))  # same event_id, later delivery
    append_rows_parquet(store, [retry])
    crash_copy = data_files(store)[1]  # a crash mid-compaction can leave a file's rows twice
    shutil.copyfile(crash_copy, store / ("~" + crash_copy.name))
    expected = sorted({*_deliveries(store)})  # 31 distinct deliveries
    assert len(expected) == 31

    report = compact_store(store, target_rows=1000)

    assert (report.files_before, report.files_after) == (12, 1)
    assert report.exact_copies_dropped == 3
    assert _deliveries(store) == expected
    assert not [path for path in store.iterdir() if path.name.endswith(".tmp")]
    assert compact_store(store, target_rows=1000).files_merged == 0  # nothing left to merge


def test_compaction_respects_the_target_size(tmp_path):
    store = tmp_path / "events"
    for index in range(6):
        append_rows_parquet(store, [raw_event(received_at=T0 + timedelta(seconds=index))])
    report = compact_store(store, target_rows=4)
    assert (report.files_before, report.files_after) == (6, 2)
    assert len(_deliveries(store)) == 6


def test_cli_compacts_the_store_under_data_dir(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    store = tmp_path / "raw" / "interaction_events"
    for index in range(4):
        append_rows_parquet(store, [raw_event(received_at=T0 + timedelta(seconds=index))])
    assert lifecycle_cli(["compact"]) == 0
    assert '"files_after": 1' in capsys.readouterr().out
    assert lifecycle_cli(["compact", "--target-rows", "0"]) == 1
    assert "--target-rows must be at least 2" in capsys.readouterr().err


@pytest.mark.slow
def test_compaction_between_runs_leaves_the_marts_as_the_spec_computes_them(tmp_path):
    warehouse = Warehouse(tmp_path)
    runs = random_stream(3, ["p0001", "p0002", "p0003", "p0010"], ["h004", "h018"], T0, advancing_as_of=False)
    events = [event for run in runs for event in run.events]
    privacy = [row for run in runs for row in run.privacy]
    half = len(events) // 2
    warehouse.append_privacy(privacy)
    for index in range(0, half, 5):  # many small files
        warehouse.append_events(events[index : min(index + 5, half)])
    warehouse.build(T0)
    before = warehouse.read_marts()

    report = compact_store(warehouse.events_dir)
    assert report.files_after == 1 and report.files_before > 10
    warehouse.build(T0)
    assert_marts_equal(before, warehouse.read_marts(), context="compaction changed the marts: ")

    warehouse.append_events(events[half:])  # later arrivals are still picked up
    warehouse.build(T0)
    reference = build_marts(events, privacy, load_catalog(SEEDS_DIR), T0)
    assert_marts_equal(reference, warehouse.read_marts(), context="after compaction and new events: ")
