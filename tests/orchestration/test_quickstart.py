"""`make quickstart` itself, from a clean DATA_DIR: real ingest process, HTTP traffic, Dagster, dbt."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import dagster as dg
import pytest

from orchestration.sample_traffic import TrafficConfig, generate_traffic, load_catalog
from orchestration.settings import REPO_ROOT, OrchestrationSettings
from orchestration.warehouse import MARTS


@pytest.mark.slow
def test_make_quickstart_from_a_clean_data_dir(dbt_manifest, tmp_path):
    data_dir = tmp_path / "fresh-data"
    env = {name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "DAGSTER_HOME")}
    env["DATA_DIR"] = str(data_dir)

    completed = subprocess.run(
        ["make", "quickstart"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=540
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    for step in range(1, 6):
        assert f"==> [{step}/5]" in output
    assert "make dev" in output

    # The default sample traffic, regenerated: its human sessions are what the sessions mart must hold.
    traffic = generate_traffic(load_catalog(), datetime.now(UTC), TrafficConfig())
    human_sessions = sum(not session.client.is_bot for session in traffic.sessions)
    settings = OrchestrationSettings.from_env({"DATA_DIR": str(data_dir)})
    warehouse = settings.warehouse
    counts = {mart: warehouse.query(f"select count(*) as n from {mart}")[0]["n"] for mart in MARTS}
    assert counts["sessions"] == human_sessions
    assert all(count > 0 for count in counts.values()), counts
    assert f"sessions{' ' * 20}{human_sessions:>8} rows".replace(" ", "") in output.replace(" ", "")
    assert list((data_dir / "reports").glob("weekly_report_*.md"))
    assert list((data_dir / "raw" / "interaction_events").glob("2*.parquet"))

    # The runs went into the Dagster home `make dev` opens, so the UI shows them.
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        runs = instance.get_runs()
    assert [run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS]


def test_quickstart_failure_says_what_is_wrong_without_a_traceback(tmp_path):
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    env |= {"DATA_DIR": str(tmp_path), "NEW_EVENTS_THRESHOLD": "plenty"}
    completed = subprocess.run(
        [sys.executable, "-m", "orchestration.quickstart"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 1
    assert "NEW_EVENTS_THRESHOLD='plenty' is not an integer" in completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
