"""Fixtures for the Dagster code: the dbt manifest parsed once, settings over a temporary DATA_DIR."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dagster_dbt import DbtProject

from ingest_service.storage.bulk_load import append_rows_parquet
from orchestration.dbt.project import prepare_dbt_manifest
from orchestration.sample_traffic import SampleTraffic, TrafficConfig, generate_traffic, load_catalog
from orchestration.settings import OrchestrationSettings


@pytest.fixture(scope="session")
def dbt_manifest() -> DbtProject:
    """`dbt parse` once per session, as `make quickstart` / `dagster dev` do before loading."""
    return prepare_dbt_manifest()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    return directory


@pytest.fixture
def local_settings(data_dir: Path) -> OrchestrationSettings:
    return OrchestrationSettings.from_env({"DATA_DIR": str(data_dir)})


@pytest.fixture(scope="session")
def small_traffic() -> SampleTraffic:
    """A small deterministic site: enough sessions for every mart, quick to build."""
    config = TrafficConfig(seed=11, users=20, sessions=120, days=15, posts=10)
    return generate_traffic(load_catalog(), datetime.now(UTC), config)


def write_raw_rows(data_dir: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    append_rows_parquet(data_dir / "raw" / "interaction_events", list(rows))
