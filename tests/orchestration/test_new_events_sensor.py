"""The new-events sensor against real stores: it fires once enough events arrived, never without them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
import pytest

from ingest_service.storage.bulk_load import copy_rows_postgres
from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import POSTGRES_DDL
from orchestration.defs.ingest.sensors import build_new_events_sensor
from orchestration.resources import RawEventStore, Warehouse
from orchestration.sample_traffic import raw_rows
from orchestration.warehouse import WarehouseTarget
from tests.support.raw_store import write_events
from tests.support.warehouse_harness import Warehouse as DbtWarehouse

THRESHOLD = 10
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Store:
    """Appends rows to one real raw store and reads it through the sensor's resource."""

    def __init__(self, kind: str, data_dir, make_postgres_database) -> None:
        self.kind = kind
        self.data_dir = data_dir
        self.url = None
        if kind == "postgres":
            self.url = make_postgres_database("sensor")
            with psycopg.connect(self.url) as connection:
                connection.execute(POSTGRES_DDL)
        self.resource = RawEventStore(data_dir=str(data_dir), database_url=self.url)

    def append(self, rows) -> None:
        if self.url:
            with psycopg.connect(self.url) as connection:
                copy_rows_postgres(connection, rows)
        else:
            write_events(RawStores(data_dir=self.data_dir), rows)


@pytest.fixture(params=["parquet", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, data_dir, make_postgres_database) -> Store:
    return Store(request.param, data_dir, make_postgres_database)


@pytest.fixture
def events(small_traffic):
    """Rows received one second apart from T0, so each batch has a known newest `received_at`."""
    return [
        row | {"received_at": T0 + timedelta(seconds=index)}
        for index, row in enumerate(raw_rows(small_traffic))
    ]


def unbuilt_warehouse(data_dir) -> Warehouse:
    """A warehouse dbt never built: the sensor counts from its own cursor alone."""
    return Warehouse.of(WarehouseTarget(data_dir=data_dir, duckdb_path=data_dir / "never-built.duckdb"))


def tick(sensor: dg.SensorDefinition, store: Store, cursor: str | None, warehouse: Warehouse | None = None):
    resources = {
        "raw_events_store": store.resource,
        "warehouse": warehouse or unbuilt_warehouse(store.data_dir),
    }
    return sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, resources=resources))


def test_sensor_fires_on_enough_new_events_and_not_without_them(store, events):
    sensor = build_new_events_sensor("incremental_pipeline", threshold=THRESHOLD, interval_seconds=30)
    assert sensor.job_name == "incremental_pipeline"

    result = tick(sensor, store, None)  # nothing stored yet
    assert result.run_requests == [] and result.cursor is None

    store.append(events[:4])
    result = tick(sensor, store, None)
    assert result.run_requests == [] and result.cursor is None
    assert "4 new events" in result.skip_message

    store.append(events[4:THRESHOLD])  # now exactly the threshold
    result = tick(sensor, store, None)
    assert len(result.run_requests) == 1
    cursor = result.cursor
    assert datetime.fromisoformat(cursor) == events[THRESHOLD - 1]["received_at"]

    result = tick(sensor, store, cursor)  # no new events since the run
    assert result.run_requests == [] and result.cursor == cursor
    assert "0 new events" in result.skip_message

    store.append(events[THRESHOLD : THRESHOLD + 9])  # one short
    assert tick(sensor, store, cursor).run_requests == []

    store.append(events[THRESHOLD + 9 : THRESHOLD + 10])
    result = tick(sensor, store, cursor)
    (request,) = result.run_requests
    assert datetime.fromisoformat(result.cursor) == events[THRESHOLD + 9]["received_at"]
    assert request.run_key == f"new-events-{result.cursor}"
    assert request.tags["new_events"] == str(THRESHOLD)


def test_on_a_built_warehouse_only_events_it_has_not_processed_count(tmp_path, small_traffic):
    """Issue 9: right after `make quickstart` built the warehouse, a sensor with an empty cursor
    (`make dev`'s first tick) must not count every stored event as new."""
    built = DbtWarehouse(tmp_path / "warehouse")
    store = Store("parquet", built.data_dir, None)
    events = [
        row | {"received_at": T0 + timedelta(seconds=index)}
        for index, row in enumerate(raw_rows(small_traffic))
    ]
    first, later = events[: 3 * THRESHOLD], events[3 * THRESHOLD :]
    store.append(first)
    built.build(as_of=None, select="+base_interaction_events")
    warehouse = Warehouse.of(built.location)
    assert warehouse.target.processed_through() == first[-1]["received_at"]
    sensor = build_new_events_sensor("incremental_pipeline", threshold=THRESHOLD, interval_seconds=30)

    result = tick(sensor, store, None, warehouse)
    assert result.run_requests == [] and "0 new events" in result.skip_message
    assert datetime.fromisoformat(result.cursor) == first[-1]["received_at"]

    store.append(later[: THRESHOLD - 1])  # one short of the threshold
    assert tick(sensor, store, None, warehouse).run_requests == []

    store.append(later[THRESHOLD - 1 : THRESHOLD])
    result = tick(sensor, store, None, warehouse)
    (request,) = result.run_requests
    assert request.tags["new_events"] == str(THRESHOLD)
    assert datetime.fromisoformat(result.cursor) == later[THRESHOLD - 1]["received_at"]

    # the sensor's own cursor wins when it is later (its run is queued, the warehouse not built yet)
    assert tick(sensor, store, result.cursor, warehouse).run_requests == []
