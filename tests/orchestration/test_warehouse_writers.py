"""The warehouse has one writer at a time (orchestration/warehouse.py).

Inside Dagster every op that runs dbt is in the `warehouse` pool and every named job holding one
carries the `warehouse: write` tag, both limited to 1 by the instance configs we ship; across
processes (the lifecycle CLI next to a scheduled build) the writer lock makes the second writer
wait. Each test here fails if a writer could run beside another.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
import yaml

from orchestration.definitions import build_definitions
from orchestration.settings import REPO_ROOT, OrchestrationSettings
from orchestration.warehouse import WAREHOUSE_POOL, WarehouseTarget

INSTANCE_CONFIGS = ["dagster.local.yaml", "dagster.yaml"]
#: jobs that build marts: each must hold a writer, or this test would check nothing
WRITING_JOBS = {
    "incremental_pipeline",
    "hourly_stats_and_trending",
    "daily_sessions_and_profiles",
    "weekly_report_job",
    "user_erasure",
}
HOLD_S = 2.0


def test_every_op_that_runs_dbt_is_in_the_pool_and_its_jobs_carry_the_writer_tag(
    dbt_manifest, local_settings: OrchestrationSettings
) -> None:
    repository = build_definitions(local_settings).get_repository_def()
    jobs_with_writers = set()
    for job in repository.get_all_jobs():
        writers = [op for op in job.graph.iterate_op_defs() if "dbt" in op.required_resource_keys]
        for op in writers:
            assert op.pool == WAREHOUSE_POOL, f"{job.name}: op {op.name} runs dbt outside the pool"
        if writers and not job.name.startswith("__"):  # the implicit asset job has no tags of its own
            assert job.tags.get("warehouse") == "write", f"job {job.name} writes the warehouse untagged"
            jobs_with_writers.add(job.name)
    assert jobs_with_writers == WRITING_JOBS


@pytest.mark.parametrize("config_file", INSTANCE_CONFIGS)
def test_the_instance_configs_run_one_writer_at_a_time(config_file: str, tmp_path: Path) -> None:
    shipped = yaml.safe_load((REPO_ROOT / "orchestration" / "deploy" / config_file).read_text())
    # the concurrency settings as shipped, on local storage (the production file's is PostgreSQL)
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump({"concurrency": shipped["concurrency"]}))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        concurrency = instance.get_concurrency_config()
    assert concurrency.pool_config.default_pool_limit == 1
    limits = concurrency.run_queue_config.tag_concurrency_limits
    assert {"key": "warehouse", "value": "write", "limit": 1} in limits


def _hold_lock_in_another_process(target: WarehouseTarget, env: dict[str, str]) -> subprocess.Popen:
    script = (
        "import sys, time\n"
        "from orchestration.warehouse import WarehouseTarget\n"
        "with WarehouseTarget.from_env().writer_lock():\n"
        "    print('held', flush=True)\n"
        f"    time.sleep({HOLD_S})\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    return process


def _waits_for_the_other_writer(target: WarehouseTarget, env: dict[str, str]) -> None:
    holder = _hold_lock_in_another_process(target, env)
    messages: list[str] = []
    started = time.monotonic()
    with target.writer_lock(on_wait=messages.append):
        waited = time.monotonic() - started
    holder.wait(timeout=30)
    assert waited >= HOLD_S * 0.5, f"took the lock after {waited:.2f} s while another process held it"
    assert messages and messages[0].startswith("waiting for the warehouse")


def test_the_duckdb_writer_lock_holds_across_processes(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    _waits_for_the_other_writer(WarehouseTarget.from_env(env), env)


@pytest.mark.postgres
def test_the_postgres_writer_lock_holds_across_processes(tmp_path: Path, postgres_url: str) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": postgres_url}
    _waits_for_the_other_writer(WarehouseTarget.from_env(env), env)


class _Writer:
    """A writer started beside the lock holder: what it said so far, and whether it finished."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.finished = threading.Event()

    def said(self, text: str) -> bool:
        return any(text in message for message in self.messages)


def _waits_until_released(
    target: WarehouseTarget, start: Callable[[_Writer], None], describe: str
) -> _Writer:
    """Hold the lock, start a writer, see it reach the lock and wait there (it writes nothing while
    waiting: the DuckDB file is untouched), release, and see it finish."""
    writer = _Writer()
    with target.writer_lock():
        before = target.duckdb_path.stat().st_mtime_ns if target.duckdb_path.exists() else None
        start(writer)
        deadline = time.monotonic() + 120
        while not writer.said("waiting for the warehouse"):
            assert not writer.finished.is_set(), f"{describe} finished while another writer held the lock"
            assert time.monotonic() < deadline, f"{describe} never reached the writer lock"
            time.sleep(0.1)
        time.sleep(HOLD_S)
        assert not writer.finished.is_set(), f"{describe} ran while another writer held the warehouse"
        after = target.duckdb_path.stat().st_mtime_ns if target.duckdb_path.exists() else None
        assert before == after, f"{describe} wrote the warehouse while another writer held it"
    assert writer.finished.wait(300), f"{describe} did not finish after the lock was released"
    return writer


@pytest.mark.slow
def test_a_cli_erasure_and_a_dagster_build_wait_for_the_writer_before_them(
    dbt_manifest, tmp_path: Path, monkeypatch
) -> None:
    data_dir = tmp_path / "data"
    env = {**os.environ, "DATA_DIR": str(data_dir), "DBT_TARGET_PATH": str(tmp_path / "dbt_target")}
    env.pop("DATABASE_URL", None)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = OrchestrationSettings.from_env(env)
    target = settings.warehouse
    results: list[dg.ExecuteInProcessResult] = []

    def start_dagster_build(writer: _Writer) -> None:
        @dg.logger
        def capture(_context: dg.InitLoggerContext) -> logging.Logger:
            logger = logging.getLogger("test.warehouse_writers")
            logger.handlers = [_ListHandler(writer.messages)]
            logger.setLevel(logging.INFO)
            logger.propagate = False
            return logger

        build = build_definitions(settings).resolve_job_def("incremental_pipeline")
        job = build.with_logger_defs({"capture": capture})

        def run() -> None:
            results.append(job.execute_in_process(run_config={"loggers": {"capture": {}}}))
            writer.finished.set()

        threading.Thread(target=run, daemon=True).start()

    _waits_until_released(target, start_dagster_build, "the Dagster build")
    assert results and results[0].success

    def start_cli_erasure(writer: _Writer) -> None:
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.lifecycle", "erase", "someone"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

        def read() -> None:
            for line in process.stderr:
                writer.messages.append(line)
            process.wait()
            writer.messages.append(f"exit {process.returncode}")
            writer.finished.set()

        threading.Thread(target=read, daemon=True).start()

    cli = _waits_until_released(target, start_cli_erasure, "the CLI erasure")
    assert cli.messages[-1] == "exit 0", "".join(cli.messages)


class _ListHandler(logging.Handler):
    def __init__(self, messages: list[str]) -> None:
        super().__init__()
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
