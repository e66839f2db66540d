"""`make quickstart`: from a fresh clone to built marts on DuckDB, with progress, in one command.

Steps: parse the dbt project; start the ingest service on the embedded store (a free port);
send the deterministic sample traffic through its HTTP API; stop it; materialize every asset
in-process into the Dagster instance under `$DATA_DIR/dagster_home` (so `make dev` shows the runs);
print what was built. Re-running is safe: the sample events keep their ids, so a second delivery
is deduplicated by staging and the marts do not double count.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import httpx

from ingest_service.storage.snapshots import current_build_id, snapshots_dir
from orchestration.dbt_project import prepare_dbt_manifest
from orchestration.definitions import build_definitions
from orchestration.sample_traffic import load_catalog, plan_deliveries
from orchestration.sample_traffic.generator import TrafficConfig, generate_traffic
from orchestration.sample_traffic.sender import TrafficError, send_deliveries
from orchestration.settings import REPO_ROOT, OrchestrationSettings, SettingsError
from orchestration.warehouse import MARTS

STEPS = 5
DBT_STEP = "dbt_models"
LOCAL_INSTANCE_CONFIG = Path(__file__).resolve().parent / "deploy" / "dagster.local.yaml"


class QuickstartError(RuntimeError):
    """A step failed; the message says what happened and what to do."""


def say(step: int, message: str) -> None:
    print(f"==> [{step}/{STEPS}] {message}", flush=True)


def detail(message: str) -> None:
    print(f"      {message}", flush=True)


def quickstart_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The quickstart always uses the embedded store and DuckDB, whatever DATABASE_URL says."""
    env = dict(environ)
    env.pop("DATABASE_URL", None)
    env["DATA_DIR"] = str(OrchestrationSettings.from_env(env).data_dir)
    env["DAGSTER_HOME"] = str(
        Path(env.get("DAGSTER_HOME") or Path(env["DATA_DIR"]) / "dagster_home").resolve()
    )
    return env


def ensure_dagster_home(dagster_home: Path) -> None:
    """SQLite storage with one run at a time (the same file `make dev` installs)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(LOCAL_INSTANCE_CONFIG, config)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class IngestProcess:
    """`python -m ingest_service` on the embedded store, with throwaway credentials for this run."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.api_key = secrets.token_urlsafe(24)
        self.jwt_secret = secrets.token_urlsafe(32)
        self.log_path = log_path
        self.env = dict(env) | {
            "INGEST_HOST": "127.0.0.1",
            "INGEST_PORT": str(self.port),
            "INGEST_API_KEYS": self.api_key,
            "INGEST_JWT_SECRET": self.jwt_secret,
            # one client replays a whole site's traffic: the per-session limit is not for this
            "INGEST_RATE_LIMIT_PER_MINUTE": "0",
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 15) -> str:
        if not self.log_path.exists():
            return "(no output)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def start(self, timeout_s: float = 60.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ingest_service"], cwd=REPO_ROOT, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise QuickstartError(
                    f"the ingest service exited with code {self.process.returncode} while starting; "
                    f"its last lines ({self.log_path}):\n{self.log_tail()}"
                )
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise QuickstartError(
            f"the ingest service did not answer /readyz within {timeout_s:.0f} s; see {self.log_path}:\n"
            f"{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def send_sample_traffic(ingest: IngestProcess, config: TrafficConfig) -> None:
    traffic = generate_traffic(load_catalog(), datetime.now(UTC), config)
    deliveries = plan_deliveries(traffic, seed=config.seed)
    events = sum(len(session.events) for session in traffic.sessions)
    detail(
        f"{len(traffic.sessions)} sessions ({sum(s.client.is_bot for s in traffic.sessions)} from crawlers), "
        f"{events} events, {len(deliveries)} requests incl. late and retried batches"
    )

    interactive = sys.stdout.isatty()

    def progress(done: int, total: int) -> None:
        if interactive:  # one line rewritten in place; in logs, a line per quarter
            print(f"\r      sent {done}/{total} requests ({done / total:.0%})", end="", flush=True)
        elif done == total or (done * 4 // total) != ((done - max(1, total // 20)) * 4 // total):
            detail(f"sent {done}/{total} requests ({done / total:.0%})")

    try:
        report = send_deliveries(ingest.base_url, deliveries, ingest.api_key, ingest.jwt_secret, progress)
    except (TrafficError, httpx.HTTPError) as exc:
        raise QuickstartError(
            f"sending sample traffic failed: {exc}\nservice log ({ingest.log_path}):\n{ingest.log_tail()}"
        ) from exc
    if interactive:
        print(flush=True)
    detail(f"the service stored {report.events_stored} of {report.events_sent} delivered events")
    if report.rejected:
        detail(f"{len(report.rejected)} events were rejected, first: {report.rejected[0]}")


class _ProgressHandler(logging.Handler):
    """Turns Dagster's event stream into one line per built asset and a tally of checks."""

    def __init__(self) -> None:
        super().__init__()
        self.built = 0
        self.checks_passed = 0
        self.checks_failed: list[str] = []
        self.failures: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        event = (getattr(record, "dagster_meta", None) or {}).get("dagster_event")
        if event is None:
            return
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            self.built += 1
            if event.step_key != DBT_STEP:  # dbt prints its own line per model
                detail(f"built {event.event_specific_data.materialization.asset_key.to_user_string()}")
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed:
                self.checks_passed += 1
            else:
                self.checks_failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
        elif kind == "STEP_FAILURE":
            error = event.event_specific_data.error
            self.failures.append(f"{event.step_key}: {error.message.strip() if error else 'failed'}")


def materialize_everything(env: Mapping[str, str]) -> _ProgressHandler:
    handler = _ProgressHandler()

    @dg.logger
    def progress_logger(_init_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.getLogger("quickstart.progress")
        logger.handlers = [handler]
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        return logger

    settings = OrchestrationSettings.from_env(env)
    defs = build_definitions(settings)
    ensure_dagster_home(Path(env["DAGSTER_HOME"]))
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        # Our logger instead of Dagster's console debug log: one line per asset, dbt's own lines stay.
        job = defs.resolve_implicit_global_asset_job_def().with_logger_defs({"progress": progress_logger})
        result = job.execute_in_process(
            instance=instance,
            run_config={"loggers": {"progress": {}}},
            raise_on_error=False,
            tags={"trigger": "quickstart"},
        )
    if not result.success or handler.failures:
        raise QuickstartError(
            "building the assets failed:\n  "
            + "\n  ".join(handler.failures or ["see the run in `make dev`"])
            + "\nFix the cause above and run `make quickstart` again (it is safe to re-run)."
        )
    return handler


def print_summary(env: Mapping[str, str], handler: _ProgressHandler) -> None:
    settings = OrchestrationSettings.from_env(env)
    warehouse = settings.warehouse
    detail(
        f"{handler.built} assets built, {handler.checks_passed} checks passed, "
        f"{len(handler.checks_failed)} failed"
    )
    for failed in handler.checks_failed:
        detail(f"  check failed: {failed}")
    detail(f"warehouse: {warehouse.duckdb_path}")
    for mart in MARTS:
        count = warehouse.query(f"select count(*) as n from {mart}")[0]["n"]
        detail(f"  {mart:<28} {count:>7} rows")
    top = warehouse.query(
        "select trending.rank, trending.perfume_id, perfumes.name, trending.trending_score"
        " from trending_perfumes as trending left join perfumes using (perfume_id)"
        " order by trending.rank limit 5"
    )
    detail("top trending perfumes:")
    for row in top:
        detail(f"  {row['rank']}. {row['name'] or row['perfume_id']} (score {row['trending_score']:.2f})")
    reports = sorted(settings.reports_dir.glob("weekly_report_*.md"))
    if reports:
        detail(f"weekly report: {reports[-1]}")
    build = current_build_id(snapshots_dir(settings.data_dir))
    if build:
        detail(f"published snapshot: {snapshots_dir(settings.data_dir) / build}")
    print(
        "\nNext: `make dev` opens the Dagster UI at http://127.0.0.1:3000 (assets, checks, schedules, the "
        "weekly report);\n      `make serve` answers GET /api/trending from the snapshot;"
        "\n      `cd dbt_project && ../.venv/bin/dbt run` rebuilds the marts by hand.",
        flush=True,
    )


def run(environ: Mapping[str, str]) -> None:
    env = quickstart_environment(environ)
    os.environ.clear()
    os.environ.update(env)  # dbt (through dagster-dbt) and the Dagster instance read the process env
    data_dir = Path(env["DATA_DIR"])
    started = time.monotonic()

    say(1, "Preparing the dbt project (dbt parse)")
    try:
        prepare_dbt_manifest()
    except Exception as exc:  # dbt reports parse errors as several exception types
        raise QuickstartError(
            f"dbt could not parse the project: {exc}\n"
            "Run `cd dbt_project && ../.venv/bin/dbt parse` to see the full error, fix it, and re-run."
        ) from exc

    say(2, f"Starting the ingest service on the embedded store under {data_dir / 'raw'}")
    ingest = IngestProcess(env, data_dir / "logs" / "quickstart-ingest.log")
    try:
        ingest.start()
        detail(f"ready at {ingest.base_url}")
        say(3, "Sending sample traffic through /api/analytics and /api/track")
        send_sample_traffic(ingest, TrafficConfig())
    finally:
        ingest.stop()

    say(4, "Materializing every asset on DuckDB (raw events, dbt seeds and models with their tests, report)")
    handler = materialize_everything(env)

    say(5, f"Done in {time.monotonic() - started:.0f} s")
    print_summary(env, handler)


def main() -> int:
    try:
        run(os.environ)
    except QuickstartError as exc:
        print(f"\nquickstart failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nquickstart interrupted; run `make quickstart` again to start over.", file=sys.stderr)
        return 130
    except (SettingsError, OSError) as exc:  # a bad DATA_DIR / setting, a full or read-only disk
        print(f"\nquickstart failed: {exc}\nCheck DATA_DIR and the settings in README.md.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
