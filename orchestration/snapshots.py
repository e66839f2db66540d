"""Publishing snapshots of the marts for readers that must not touch the warehouse.

The format, the list of marts and the reader are in `ingest_service/storage/snapshots.py` (the
ingest service reads snapshots without importing the orchestration). Publishing one:
1. read every listed mart that is built, and the marts' builds (`incremental_manifest`, see
   `ingest_service/storage/mart_builds.py`), through `WarehouseTarget.read_arrow`: one connection,
   one consistent view. A listed mart that is not built yet is left out, with a warning and a
   manifest entry saying so (so the asset works before and after a new mart lands);
2. write the Parquet files and `manifest.json` into `.tmp-<id>/`, fsync them, rename the
   directory to `<id>/` (ids are the UTC publishing time, so they sort by time);
3. switch `CURRENT` to the new id (a new file renamed over it): the one atomic step readers see;
4. prune: keep the current build and the previous one (a reader that read `CURRENT` just before
   the switch may still be opening it); older builds are deleted. An erasure keeps only the new
   one (SPEC section 7: no published snapshot may hold the erased user's rows).

Every publisher holds the warehouse's writer lock (`WarehouseTarget.writer_lock()`) for all of it:
publishers take turns with each other and with dbt, and never read a DuckDB file being built.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ingest_service.storage.mart_builds import (
    BUILD_STATE_TABLE,
    latest_builds,
    latest_builds_sql,
    mart_build,
    newest_run,
)
from ingest_service.storage.parquet_files import fsync_directory
from ingest_service.storage.snapshots import (
    BUILD_ID_KEY,
    FORMAT_VERSION,
    MANIFEST_NAME,
    MART_KEY,
    NOT_BUILT,
    POINTER_NAME,
    PUBLISHED,
    SNAPSHOT_MARTS,
    TMP_PREFIX,
    build_id_time,
    current_build_id,
    format_build_id,
    published_builds,
    snapshots_dir,
)
from ingest_service.upkeep.errors import LifecycleError
from orchestration.warehouse import WarehouseTarget, sql_identifier

#: builds kept after a normal publication: the current one and the one before it
KEEP_BUILDS = 2
_BUILDS_QUERY = "__builds"


@dataclass
class PublishReport:
    build_id: str
    directory: Path
    manifest: dict[str, Any]
    deleted: list[str] = field(default_factory=list)
    """Older builds pruned after the switch."""

    @property
    def not_built(self) -> list[str]:
        return [name for name, entry in self.manifest["marts"].items() if entry["status"] == NOT_BUILT]


def new_build_id(existing: Sequence[str], now: datetime) -> str:
    """The id of a build published at `now`: later than every existing id even if the clock went back."""
    moment = now.astimezone(UTC)
    if existing:
        latest = build_id_time(max(existing))
        if moment <= latest:
            moment = latest + timedelta(microseconds=1)
    return format_build_id(moment)


def _write_file(path: Path, write: Callable[[Any], None]) -> None:
    with open(path, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


def _tagged(table: pa.Table, build_id: str, mart: str) -> pa.Table:
    metadata = dict(table.schema.metadata or {})
    metadata |= {BUILD_ID_KEY: build_id.encode(), MART_KEY: mart.encode()}
    return table.replace_schema_metadata(metadata)


def _switch_pointer(root: Path, build_id: str) -> None:
    tmp = root / f".{POINTER_NAME}.tmp"
    _write_file(tmp, lambda handle: handle.write(f"{build_id}\n".encode("ascii")))
    os.replace(tmp, root / POINTER_NAME)
    fsync_directory(root)


def _remove_build(root: Path, name: str) -> None:
    shutil.rmtree(root / name, ignore_errors=True)


def prune_snapshots(root: Path, keep: int) -> list[str]:
    """Delete all builds but the newest `keep` (the current one is always kept); returns the deleted."""
    current = current_build_id(root)
    builds = published_builds(root)
    kept = set(builds[-keep:]) | ({current} if current else set())
    deleted = [name for name in builds if name not in kept]
    for name in deleted:
        _remove_build(root, name)
    return deleted


def remove_all_snapshots(data_dir: Path) -> list[str]:
    """Delete every published snapshot, the pointer first (readers then see "nothing published"):
    what an erasure does when it cannot publish a snapshot without the user. Returns the deleted."""
    root = snapshots_dir(data_dir)
    (root / POINTER_NAME).unlink(missing_ok=True)
    deleted = published_builds(root)
    for name in deleted:
        _remove_build(root, name)
    _remove_unfinished(root)
    return deleted


def _remove_unfinished(root: Path) -> None:
    """Directories a crashed publisher left behind (the lock holder is the only publisher)."""
    if root.is_dir():
        for path in root.iterdir():
            if path.name.startswith(TMP_PREFIX):
                shutil.rmtree(path, ignore_errors=True)


def publish_snapshot(
    target: WarehouseTarget,
    *,
    marts: Sequence[str] = SNAPSHOT_MARTS,
    keep: int = KEEP_BUILDS,
    reason: str = "build",
    on_warning: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> PublishReport:
    """Publish the marts of `target` as a new snapshot and make it current (module docstring).

    The caller holds `target.writer_lock()`. Raises LifecycleError when the warehouse holds no
    dbt build yet."""
    if keep < 1:
        raise ValueError("keep must be at least 1: the current build")
    root = snapshots_dir(target.data_dir)
    root.mkdir(parents=True, exist_ok=True)
    _remove_unfinished(root)

    built = target.relations()
    if BUILD_STATE_TABLE not in built:
        raise LifecycleError(
            f"{target.describe()} has no {BUILD_STATE_TABLE}: build the warehouse with dbt before publishing"
        )
    present = [mart for mart in marts if mart in built]
    queries = {mart: f'select * from "{sql_identifier(mart, "mart")}"' for mart in present}
    tables = target.read_arrow({**queries, _BUILDS_QUERY: latest_builds_sql()})
    builds = latest_builds(tables.pop(_BUILDS_QUERY).to_pylist())
    run = newest_run(builds)
    if run is None:
        raise LifecycleError(f"{target.describe()} records no dbt build yet: run dbt before publishing")

    created_at = now or datetime.now(UTC)
    build_id = new_build_id(published_builds(root), created_at)
    entries: dict[str, dict[str, Any]] = {}
    for mart in marts:
        if mart in tables:
            entries[mart] = {
                "status": PUBLISHED,
                "file": f"{mart}.parquet",
                "rows": tables[mart].num_rows,
                **mart_build(builds, mart).as_dict(),
            }
        else:
            message = f"{mart} is not built in {target.describe()} yet: left out of this snapshot"
            entries[mart] = {"status": NOT_BUILT, "message": message}
            if on_warning:
                on_warning(message)
    manifest = {
        "format_version": FORMAT_VERSION,
        "build_id": build_id,
        "created_at": created_at.isoformat(),
        "as_of": run.as_of.isoformat(),
        "built_at": run.built_at.isoformat(),
        "reason": reason,
        "warehouse": target.describe(),
        "files": [entry["file"] for entry in entries.values() if entry["status"] == PUBLISHED],
        "marts": entries,
    }

    staging = root / f"{TMP_PREFIX}{build_id}"
    staging.mkdir()
    try:
        for mart, table in tables.items():
            tagged = _tagged(table, build_id, mart)
            _write_file(
                staging / entries[mart]["file"],
                lambda handle, tagged=tagged: pq.write_table(tagged, handle, compression="zstd"),
            )
        manifest_bytes = json.dumps(manifest, indent=2).encode() + b"\n"
        _write_file(staging / MANIFEST_NAME, lambda handle: handle.write(manifest_bytes))
        fsync_directory(staging)
        os.rename(staging, root / build_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    fsync_directory(root)
    _switch_pointer(root, build_id)
    deleted = prune_snapshots(root, keep)
    return PublishReport(build_id=build_id, directory=root / build_id, manifest=manifest, deleted=deleted)


def publish_after_erasure(
    target: WarehouseTarget, on_warning: Callable[[str], None] | None = None
) -> tuple[PublishReport | None, list[str]]:
    """After an erasure's rebuild: a new snapshot and no older one (SPEC section 7). Without a
    warehouse to publish from, every snapshot is deleted. Caller holds the writer lock.

    Returns (the new snapshot or None, the builds deleted)."""
    if not target.exists():
        return None, remove_all_snapshots(target.data_dir)
    report = publish_snapshot(target, keep=1, reason="erasure", on_warning=on_warning)
    return report, report.deleted
