"""The run-failure sensor: every failed run is recorded where an operator looks, not only in the UI.

Each failure becomes one structured log line (logger `orchestration.run_failures`, JSON) and one
JSON line appended to `$DATA_DIR/logs/run_failures.jsonl` (job, run id, time, the first error), a
file log shippers and `tail -f` read, and which survives a wiped Dagster instance. A failed mart
build also shows on the marts' freshness checks once the build is overdue.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

logger = logging.getLogger("orchestration.run_failures")
RUN_FAILURES_FILE = Path("logs") / "run_failures.jsonl"


def failure_record(job_name: str, run_id: str, error: str | None, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "event": "dagster_run_failed",
        "failed_at": datetime.now(UTC).isoformat(),
        "job": job_name,
        "run_id": run_id,
        "error": (error or "see the run's logs").strip()[:2000],
        "trigger": tags.get("trigger")
        or tags.get("dagster/schedule_name")
        or tags.get("dagster/sensor_name"),
    }


def record_failure(data_dir: Path, record: dict[str, Any]) -> Path:
    """Log `record` as one JSON line and append it to the failures file; returns the file."""
    line = json.dumps(record, sort_keys=True)
    logger.error(line)
    path = data_dir / RUN_FAILURES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:  # one short write: lines never interleave
        handle.write(line + "\n")
    return path


def build_run_failure_sensor(data_dir: Path, default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="run_failure_sensor",
        default_status=default_status,
        description=f"Records every failed run in {data_dir / RUN_FAILURES_FILE} and as a JSON log line.",
    )
    def run_failure_sensor(context: dg.RunFailureSensorContext) -> None:
        run = context.dagster_run
        error = context.failure_event.message if context.failure_event else None
        record_failure(data_dir, failure_record(run.job_name, run.run_id, error, dict(run.tags)))

    return run_failure_sensor
