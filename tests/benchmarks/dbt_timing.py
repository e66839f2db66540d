"""dbt as a measured child process: wall time, dbt's own time, each model's, start-up, peak memory.

dbt runs as its own process (not in-process) so that its peak memory (max RSS, which for DuckDB
includes the database engine) is its own and not the benchmark's; it is started through
`peak_rss.py`, because a direct child's max RSS would start at the benchmark's. Its artefacts
(`run_results.json`, the partial-parse file) go to the benchmark's target path, not the project's
shared `target/`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from orchestration.dbt_project import dbt_executable
from orchestration.warehouse import DBT_PROJECT_DIR, as_of_environment

PEAK_RSS_SCRIPT = Path(__file__).with_name("peak_rss.py")
#: seconds between two "still running" lines while dbt works
HEARTBEAT_SECONDS = 20
_ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")
_FINISHED = re.compile(r"Finished running .* in (\d+) hours (\d+) minutes and ([\d.]+) seconds")


def as_of_environment_of(moment: datetime) -> dict[str, str]:
    """The environment that gives a run its `as_of` — the one place the benchmark says how: the
    DBT_AS_OF variable, which, unlike `--vars`, keeps dbt's partial parsing (as a scheduled run,
    which passes no as_of at all)."""
    return as_of_environment(moment.isoformat())


@dataclass
class DbtRun:
    command: str
    wall_seconds: float
    """The dbt process from start to exit."""
    dbt_seconds: float
    """dbt's own "Finished running ... in X seconds": the models and hooks, after start-up and parse."""
    startup_seconds: float
    """Process start to the first node's start: interpreter, imports, parse, connection."""
    peak_rss_mb: float
    """Max RSS of the dbt process (MiB)."""
    node_seconds: dict[str, float] = field(default_factory=dict)
    """Model (or seed) name → its execution time, from run_results.json."""

    @property
    def models_seconds(self) -> float:
        """Sum of the nodes' execution times (can exceed dbt_seconds when dbt runs threads)."""
        return sum(self.node_seconds.values())

    def share(self, models: tuple[str, ...]) -> tuple[float, float]:
        """(seconds, fraction of all nodes' seconds) spent in `models`."""
        spent = sum(self.node_seconds.get(model, 0.0) for model in models)
        return spent, spent / max(self.models_seconds, 1e-9)

    def slowest(self, count: int = 6) -> list[tuple[str, float]]:
        return sorted(self.node_seconds.items(), key=lambda item: item[1], reverse=True)[:count]


def _timestamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _read_run_results(target_path: Path, started: datetime) -> tuple[dict[str, float], float | None]:
    """(node name → execution time of the models and seeds, seconds from `started` to the first
    node's start) from dbt's run_results.json."""
    path = target_path / "run_results.json"
    if not path.exists():
        return {}, None
    results = json.loads(path.read_text())["results"]
    nodes = [result for result in results if result["unique_id"].split(".", 1)[0] in ("model", "seed")]
    starts = [
        _timestamp(step["started_at"])
        for result in results
        for step in result.get("timing", [])
        if step.get("started_at")
    ]
    first = (min(starts) - started).total_seconds() if starts else None
    return {node["unique_id"].rsplit(".", 1)[-1]: node["execution_time"] for node in nodes}, first


def _heartbeat(label: str, last_line: list[str], done: threading.Event) -> None:
    started = time.perf_counter()
    while not done.wait(HEARTBEAT_SECONDS):
        print(f"      ... {label}: {time.perf_counter() - started:.0f} s, {last_line[0][:100]}", flush=True)


def run_dbt(arguments: list[str], environment: dict[str, str], target_path: Path, label: str) -> DbtRun:
    """Run `dbt <arguments>` as a child process (through `peak_rss.py`), time it and read what it
    spent; exits with dbt's output when it fails."""
    print(f"    {label} ...", flush=True)
    rss_report = target_path / "peak_rss_kib.txt"
    dbt_command = [dbt_executable(), *arguments, "--project-dir", str(DBT_PROJECT_DIR),
                   "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target_path)]  # fmt: skip
    for stale in (target_path / "run_results.json", rss_report):
        stale.unlink(missing_ok=True)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(PEAK_RSS_SCRIPT), str(rss_report), *dbt_command],
        env={**os.environ, **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    last_line = ["starting"]
    done = threading.Event()

    def read_output() -> None:
        for line in process.stdout:
            lines.append(line)
            if line.strip():
                last_line[0] = _ANSI_CODES.sub("", line).strip()

    reader = threading.Thread(target=read_output, daemon=True)
    beat = threading.Thread(target=_heartbeat, args=(label, last_line, done), daemon=True)
    reader.start(), beat.start()
    try:
        returncode = process.wait()
    except BaseException:  # Ctrl-C or SIGTERM: stop dbt before the temporary places are removed
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise
    finally:
        done.set()
    wall = time.perf_counter() - started
    reader.join(timeout=10)
    output = "".join(lines)
    if returncode != 0:
        sys.exit(f"dbt {' '.join(arguments)} failed (exit {returncode}):\n{output[-6000:]}")
    finished = _FINISHED.search(output)
    in_dbt = (int(finished.group(1)) * 3600 + int(finished.group(2)) * 60 + float(finished.group(3))
              if finished else wall)  # fmt: skip
    node_seconds, first_node = _read_run_results(target_path, started_at)
    return DbtRun(
        command=" ".join(arguments[:1]),
        wall_seconds=wall,
        dbt_seconds=in_dbt,
        startup_seconds=first_node if first_node is not None else wall - in_dbt,
        peak_rss_mb=int(rss_report.read_text()) / 1024,
        node_seconds=node_seconds,
    )
