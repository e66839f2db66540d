"""Fixtures for the Dagster code: settings over a temporary DATA_DIR, a small deterministic site."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestration.sample_traffic import SampleTraffic, TrafficConfig, generate_traffic, load_catalog
from orchestration.settings import OrchestrationSettings


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
