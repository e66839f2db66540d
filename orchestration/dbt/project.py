"""The dbt project, built once per process: a cached `DbtProject` whose manifest Dagster reads.

Nothing is parsed at import. Under `dagster dev`, `prepare_if_dev()` re-parses so model edits show
up on reload; everywhere else (quickstart, tests, production images) `prepare_dbt_manifest()` runs
`dbt parse` once before the definitions load.
"""

from __future__ import annotations

import os
import shutil
import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR


def dbt_executable() -> str:
    """dbt from this interpreter's environment: `make` calls `.venv/bin/...` without activating it."""
    beside_python = Path(sys.executable).parent / "dbt"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if found is None:
        raise FileNotFoundError("dbt is not installed: run `make install` (it installs dbt-core into .venv).")
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
