"""The raw stores Dagster does not write — the rejected events and the privacy log — observed in a
real Dagster run over real stores (Parquet and PostgreSQL), and the rejection-rate check (SPEC §11:
seed 004's alert, failed events > 5 %, over the stored data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
import pytest

from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import POSTGRES_DDL
from orchestration.defs.ingest.assets import raw_rejected_events, raw_user_privacy_events
from orchestration.defs.ingest.checks import build_rejection_rate_check
from orchestration.resources import RawEventStore
from tests.support.events import privacy_row, raw_event, rejected_event
from tests.support.raw_store import write_events, write_privacy, write_rejected

REJECTED = dg.AssetKey(["raw", "rejected_events"])
PRIVACY = dg.AssetKey(["raw", "user_privacy_events"])


@pytest.fixture(params=["parquet", pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(request, data_dir, make_postgres_database) -> RawStores:
    url = make_postgres_database("rawassets") if request.param == "postgres" else None
    return RawStores(data_dir=data_dir, database_url=url)


def run_observations_and_check(stores: RawStores):
    """One run of the global asset job: observes both sources and runs the check (5 %, 24 h)."""
    defs = dg.Definitions(
        assets=[raw_rejected_events, raw_user_privacy_events],
        asset_checks=[build_rejection_rate_check(max_rate=0.05, window_hours=24)],
        resources={
            "raw_events_store": RawEventStore(data_dir=str(stores.data_dir), database_url=stores.database_url)
        },
    )
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    observations = {
        event.asset_key: event.event_specific_data.asset_observation.metadata
        for event in result.all_events
        if event.event_type_value == "ASSET_OBSERVATION"
    }
    (evaluation,) = result.get_asset_check_evaluations()
    return observations, evaluation


def test_rejected_events_and_privacy_log_are_observed_and_the_rate_is_checked(stores):
    now = datetime.now(UTC)
    newest_rejection = now - timedelta(minutes=5)
    # outside the 24 h window: counted by the observation, not by the rate
    old = [rejected_event({"eventType": "NOPE"}, received_at=now - timedelta(days=2)) for _ in range(5)]
    write_rejected(stores, [*old, rejected_event({"eventType": "NOPE"}, received_at=newest_rejection)])
    write_events(stores, [raw_event(received_at=now - timedelta(minutes=10)) for _ in range(19)])
    write_privacy(stores, [privacy_row("anna", "opt_out", now - timedelta(hours=1))])

    observations, evaluation = run_observations_and_check(stores)

    rejected = observations[REJECTED]
    assert rejected["dagster/row_count"].value == 6
    assert rejected["latest_received_at"].value == pytest.approx(newest_rejection.timestamp())
    assert observations[PRIVACY]["dagster/row_count"].value == 1
    # 1 of 20 events in the window: exactly 5 %, the limit, passes
    assert evaluation.check_name == "rejection_rate_is_low" and evaluation.asset_key == REJECTED
    assert evaluation.passed, evaluation.description
    assert (evaluation.metadata["rejected"].value, evaluation.metadata["accepted"].value) == (1, 19)

    write_rejected(stores, [rejected_event({"eventType": "NOPE"}, received_at=now - timedelta(minutes=1))])
    observations, evaluation = run_observations_and_check(stores)
    assert observations[REJECTED]["dagster/row_count"].value == 7
    assert not evaluation.passed  # 2 of 21, over 5 %
    assert "2 of 21 events rejected" in evaluation.description


def test_empty_stores_are_observed_as_empty_and_pass_the_rate_check(stores):
    if stores.database_url:  # the tables exist once the service ran; create them as it does
        with psycopg.connect(stores.database_url) as connection:
            connection.execute(POSTGRES_DDL)
    observations, evaluation = run_observations_and_check(stores)
    assert observations[REJECTED]["dagster/row_count"].value == 0
    assert "latest_received_at" not in observations[REJECTED]
    assert observations[PRIVACY]["dagster/row_count"].value == 0
    assert evaluation.passed and "no events received" in evaluation.description
