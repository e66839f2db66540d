"""Published snapshots of the marts: the format, and reading the current one (never the warehouse).

Readers that must not touch the warehouse (the DuckDB file is locked while dbt builds it) — the
read endpoints, a recommendation service, a notebook — read the marts from Parquet files that the
orchestration publishes after each build (`orchestration/snapshots.py` writes them):

    $DATA_DIR/snapshots/
      CURRENT                        the build id of the current snapshot (one line)
      20261122T101500.123456Z/       one directory per published build; ids sort by publishing time
        manifest.json                build id, as_of, created_at, per mart: file, rows, as_of or why not
        trending_perfumes.parquet    one file per mart (each also names its build id in its metadata)
        …
      .tmp-<id>/                     a snapshot being written: never read

Atomicity: a build's directory is complete before it gets its name (written as `.tmp-<id>`,
fsynced, renamed), and the one pointer `CURRENT` is switched afterwards by renaming a new file over
it. A reader reads `CURRENT` once, then the manifest and every file of that one directory, so it
sees all marts of one build or nothing — never half a snapshot, never marts of two builds.

Pruning (the publisher keeps the current and the previous build) may delete a directory a reader
has just been pointed to. The reader opens every file right after reading the manifest: on POSIX
an open file stays readable after it is deleted, and a file deleted before it was opened raises
FileNotFoundError, after which the reader starts again from `CURRENT`. An erasure deletes every
older build at once (SPEC section 7); the same retry makes that safe.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

#: The marts every snapshot holds (ONE list: the publisher, the readers and the docs use it). A
#: listed mart that is not built yet is left out of a snapshot, and its manifest entry says so.
SNAPSHOT_MARTS = (
    "trending_perfumes",
    "perfume_interaction_stats",
    "user_behavior_profile",
    "user_item_interactions",
)

SNAPSHOTS_DIR_NAME = "snapshots"
POINTER_NAME = "CURRENT"
MANIFEST_NAME = "manifest.json"
TMP_PREFIX = ".tmp-"
FORMAT_VERSION = 1
#: Parquet key-value metadata of every file: the build it belongs to and the mart it holds.
BUILD_ID_KEY = b"snapshot_build_id"
MART_KEY = b"snapshot_mart"

PUBLISHED = "published"
NOT_BUILT = "not_built"

_BUILD_ID = re.compile(r"\d{8}T\d{6}\.\d{6}Z")
_BUILD_ID_FORMAT = "%Y%m%dT%H%M%S.%fZ"
_READ_ATTEMPTS = 5


class SnapshotError(RuntimeError):
    """The snapshot directory cannot be read as the format above says; the message says why."""


def snapshots_dir(data_dir: Path) -> Path:
    """Where the snapshots of the deployment whose `DATA_DIR` is `data_dir` live."""
    return data_dir / SNAPSHOTS_DIR_NAME


def is_build_id(name: str) -> bool:
    return _BUILD_ID.fullmatch(name) is not None


def build_id_time(build_id: str) -> datetime:
    return datetime.strptime(build_id, _BUILD_ID_FORMAT).replace(tzinfo=UTC)


def format_build_id(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_BUILD_ID_FORMAT)


def published_builds(root: Path) -> list[str]:
    """The build ids with a directory under `root`, oldest first."""
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(name for name in names if is_build_id(name) and (root / name).is_dir())


def current_build_id(root: Path) -> str | None:
    """The build `CURRENT` points to; None when nothing has been published (or it was all erased)."""
    try:
        text = (root / POINTER_NAME).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    if not is_build_id(text):
        raise SnapshotError(f"{root / POINTER_NAME} does not hold a build id (got {text[:40]!r})")
    return text


@dataclass(frozen=True)
class Snapshot:
    """One published build: its manifest and the marts read from it (all from the same build)."""

    build_id: str
    manifest: Mapping[str, Any]
    tables: Mapping[str, pa.Table] = field(repr=False)

    @property
    def as_of(self) -> datetime:
        """The as_of of the build that published this snapshot."""
        return datetime.fromisoformat(self.manifest["as_of"])

    def mart_as_of(self, mart: str) -> datetime:
        """The as_of of `mart`'s rows (the build that computed them; see `mart_builds`)."""
        return datetime.fromisoformat(self.manifest["marts"][mart]["as_of"])

    def has(self, mart: str) -> bool:
        return mart in self.tables

    def table(self, mart: str) -> pa.Table:
        try:
            return self.tables[mart]
        except KeyError:
            entry = self.manifest.get("marts", {}).get(mart, {})
            raise SnapshotError(
                f"snapshot {self.build_id} has no {mart}: {entry.get('message', 'not a snapshot mart')}"
            ) from None


def _open_build(root: Path, build_id: str, marts: Iterable[str] | None) -> tuple[dict, dict[str, BinaryIO]]:
    """The manifest and open handles on the wanted marts' files (FileNotFoundError if pruned)."""
    directory = root / build_id
    with open(directory / MANIFEST_NAME, "rb") as handle:
        manifest = json.load(handle)
    if manifest.get("build_id") != build_id:
        raise SnapshotError(f"{directory / MANIFEST_NAME} names build {manifest.get('build_id')!r}")
    entries = manifest.get("marts", {})
    wanted = list(entries) if marts is None else list(marts)
    handles: dict[str, BinaryIO] = {}
    try:
        for mart in wanted:
            entry = entries.get(mart)
            if entry and entry.get("status") == PUBLISHED:
                handles[mart] = open(directory / entry["file"], "rb")  # noqa: SIM115 - closed by the caller
    except BaseException:
        for handle in handles.values():
            handle.close()
        raise
    return manifest, handles


def _read_table(handle: BinaryIO, build_id: str, mart: str, expected_rows: int) -> pa.Table:
    table = pq.read_table(handle)
    metadata = table.schema.metadata or {}
    if metadata.get(BUILD_ID_KEY) != build_id.encode() or metadata.get(MART_KEY) != mart.encode():
        raise SnapshotError(f"{mart} of snapshot {build_id} is a file of another build or mart")
    if table.num_rows != expected_rows:
        raise SnapshotError(
            f"{mart} of snapshot {build_id} has {table.num_rows} rows, its manifest {expected_rows}"
        )
    return table


def read_snapshot(root: Path, marts: Iterable[str] | None = None) -> Snapshot | None:
    """The current snapshot with the marts named (None: all it holds); None when none is published.

    Starts again from `CURRENT` when pruning removed the build while it was being opened."""
    wanted = None if marts is None else tuple(marts)
    for _ in range(_READ_ATTEMPTS):
        build_id = current_build_id(root)
        if build_id is None:
            return None
        try:
            manifest, handles = _open_build(root, build_id, wanted)
        except FileNotFoundError:
            continue  # pruned between reading CURRENT and opening its files: CURRENT has moved on
        try:
            tables = {
                mart: _read_table(handle, build_id, mart, int(manifest["marts"][mart]["rows"]))
                for mart, handle in handles.items()
            }
        finally:
            for handle in handles.values():
                handle.close()
        return Snapshot(build_id=build_id, manifest=manifest, tables=tables)
    raise SnapshotError(
        f"{root / POINTER_NAME} kept naming builds that were deleted before they could be read; "
        "is another process deleting snapshots by hand?"
    )


class SnapshotReader:
    """The current snapshot, re-read only when `CURRENT` changes (for a long-running reader).

    `CURRENT` is replaced by a rename, so its inode and mtime change with every publication: one
    `stat` per call says whether the cached snapshot is still the current one."""

    def __init__(self, root: Path, marts: Iterable[str] | None = None) -> None:
        self.root = root
        self.marts = None if marts is None else tuple(marts)
        self._lock = threading.Lock()
        self._pointer: tuple[int, int, int] | None = None
        self._snapshot: Snapshot | None = None

    def _pointer_state(self) -> tuple[int, int, int] | None:
        try:
            status = os.stat(self.root / POINTER_NAME)
        except FileNotFoundError:
            return None
        return (status.st_ino, status.st_mtime_ns, status.st_size)

    def cached(self) -> tuple[bool, Snapshot | None]:
        """(is the cache current, the cached snapshot): cheap, never reads Parquet."""
        state = self._pointer_state()
        return state is not None and state == self._pointer, self._snapshot

    def current(self) -> Snapshot | None:
        with self._lock:
            state = self._pointer_state()
            if state is None:
                self._pointer, self._snapshot = None, None
            elif state != self._pointer:
                self._snapshot = read_snapshot(self.root, self.marts)
                # the pointer as it was BEFORE the read: if it moved meanwhile, the next call re-reads
                self._pointer = state if self._snapshot is not None else None
            return self._snapshot
