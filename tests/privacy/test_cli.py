"""The lifecycle CLI: opt-out/opt-in reach the privacy log; bad input is a clear error, not a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest_service.storage.bulk_load import append_rows_parquet
from ingest_service.storage.locations import RawStores
from ingest_service.storage.privacy_log import opted_out_users
from orchestration.lifecycle.cli import main
from tests.support.events import raw_event

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def embedded_env(tmp_path, monkeypatch) -> RawStores:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DBT_DUCKDB_PATH", raising=False)
    return RawStores(database_url=None, data_dir=tmp_path)


def test_opt_out_then_opt_in_from_the_command_line(embedded_env, capsys):
    assert main(["opt-out", "user-7"]) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "opt_out"
    assert opted_out_users(embedded_env.privacy_dir) == {"user-7"}

    assert main(["opt-in", "user-7"]) == 0
    assert opted_out_users(embedded_env.privacy_dir) == set()


@pytest.mark.postgres
def test_opt_out_into_postgres_works_before_the_service_ever_ran(tmp_path, postgres_url, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    assert main(["opt-out", "user-8"]) == 0
    assert opted_out_users(postgres_url) == {"user-8"}


def test_retention_dry_run_and_run_report_counts(embedded_env, capsys, monkeypatch):
    now = datetime.now(UTC)
    append_rows_parquet(
        embedded_env.events_dir,
        [raw_event(received_at=now - timedelta(days=40)), raw_event(received_at=now - timedelta(days=10))],
    )
    monkeypatch.setenv("RETENTION_DAYS", "30")

    assert main(["retention", "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out)["rows_removed"] == 1
    assert main(["retention", "--days", "5"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["retention_days"], report["rows_removed"], report["dry_run"]) == (5, 2, False)


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["erase", ""], {}, "non-empty"),
        (["retention", "--days", "0"], {}, "at least 1"),
        (["erase", "u", "--as-of", "yesterday"], {}, "ISO timestamp"),
        (["export", "u"], {"DATABASE_URL": "mysql://x"}, "postgresql://"),
        (["opt-out", "u"], {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"}, "PostgreSQL"),
    ],
)
def test_bad_input_is_a_one_line_error_and_exit_1(embedded_env, capsys, monkeypatch, argv, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_module_entry_point_runs_as_documented(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    completed = subprocess.run(
        [sys.executable, "-m", "orchestration.lifecycle", "opt-out", "user-9"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert opted_out_users(tmp_path / "raw" / "user_privacy_events") == {"user-9"}
    usage = subprocess.run(
        [sys.executable, "-m", "orchestration.lifecycle"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert usage.returncode == 2 and "COMMAND" in usage.stderr
