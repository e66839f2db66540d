"""The dbt project and the one way to run it: a cached `DbtProject`, dbt's executable, and the
`DbtCliResource` of a warehouse target — used by the Dagster assets and ops and by the lifecycle CLI.

Nothing is parsed at import. Under `dagster dev`, `prepare_if_dev()` re-parses so model edits show
up on reload; everywhere else (quickstart, tests, production images) `prepare_dbt_manifest()` runs
`dbt parse` once before the definitions load.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from ingest_service.upkeep.errors import LifecycleError
from orchestration.warehouse import DBT_PROJECT_DIR, WarehouseTarget


def dbt_executable() -> str:
    """dbt from this interpreter's environment: `make` calls `.venv/bin/...` without activating it."""
    beside_python = Path(sys.executable).parent / "dbt"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if found is None:
        raise LifecycleError("dbt is not installed: run `make install` (it installs dbt-core into .venv).")
    return found


def _put_dbt_on_path() -> None:
    # dagster-dbt's manifest preparer runs plain `dbt`, found on PATH.
    directory = str(Path(dbt_executable()).parent)
    if directory not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([directory, os.environ.get("PATH", "")])


@cache
def dbt_project() -> DbtProject:
    _put_dbt_on_path()
    project = DbtProject(project_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    return project


def prepare_dbt_manifest() -> DbtProject:
    """Parse the project (and install its packages) so `manifest.json` matches the models."""
    project = dbt_project()
    project.preparer.prepare(project)
    return project


def require_manifest(project: DbtProject) -> None:
    if not project.manifest_path.exists():
        raise FileNotFoundError(
            f"The dbt manifest {project.manifest_path.name} is missing under {project.project_dir.name}/: "
            "run `make quickstart` (or `cd dbt_project && dbt parse`) first; `make dev` prepares it itself."
        )


def dbt_model_names(project: DbtProject) -> frozenset[str]:
    """The models of the parsed project: areas that read marts depend only on the ones that exist,
    so a mart another change is still adding is picked up as soon as it is in the project."""
    require_manifest(project)
    nodes = json.loads(project.manifest_path.read_text(encoding="utf-8"))["nodes"].values()
    return frozenset(node["name"] for node in nodes if node["resource_type"] == "model")


def dbt_resource(target: WarehouseTarget) -> DbtCliResource:
    """The dbt CLI resource for `target`: the Dagster definitions' `dbt` resource, and the CLI's."""
    return DbtCliResource(project_dir=os.fspath(DBT_PROJECT_DIR), target=target.dbt_target,
                          dbt_executable=dbt_executable())  # fmt: skip


def run_dbt(
    target: WarehouseTarget, args: Sequence[str], on_line: Callable[[str], None] | None = None
) -> None:
    """Run `dbt <args>` on `target` outside Dagster (the lifecycle CLI), passing dbt's log lines to
    `on_line` as they come; raises LifecycleError with dbt's own error when it fails.

    The caller holds the warehouse's writer lock when the command writes.
    """
    with target.dbt_environment():
        invocation = dbt_resource(target).cli(list(args), raise_on_error=False)
        errors: list[str] = []
        for event in invocation.stream_raw_events():
            info = event.raw_event.get("info", {})
            message = str(info.get("msg", "")).rstrip()
            if not message:
                continue
            if info.get("level") == "error":
                # what failed, without the Python traceback dbt appends to some errors
                errors.append(message.split("Traceback (most recent call last)")[0].rstrip())
            if on_line:
                on_line(message)
        if not invocation.is_successful():
            detail = "\n".join(errors[-10:]) or "see the lines above"
            if "lock" in detail.lower():
                detail += (
                    "\nAnother process (a dbt run outside the pipeline, a DuckDB shell) has the warehouse"
                    " open: retry when it has finished."
                )
            raise LifecycleError(f"dbt {' '.join(args)} failed on target {target.dbt_target}:\n{detail}")
