"""Immutable Parquet files written atomically: the embedded store's only write primitive.

A reader (DuckDB, while the ingest service keeps writing) must never see half a file, so a file is
written under a hidden temporary name, fsynced, renamed into place and the directory fsynced. A
crash leaves at most a `.tmp` file that no reader's `*.parquet` glob matches; the ingest service
removes such leftovers when it starts (`remove_stale_temporary_files`). Each directory always
holds an empty `_empty.parquet` with the schema, so a glob over a store with no events still reads
as an empty table instead of failing.
"""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

EMPTY_FILE_NAME = "_empty.parquet"


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


TMP_SUFFIX = ".tmp"
#: a temporary file younger than this is never removed, locked or not: its writer may be between
#: creating it and locking it
STALE_TMP_AGE_S = 60.0


def _write_atomically(table: pa.Table, final_path: Path) -> None:
    tmp_path = final_path.with_name(f".{final_path.name}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}")
    try:
        with open(tmp_path, "wb") as handle:
            # held until the file is renamed: tells remove_stale_temporary_files its writer is alive
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            pq.write_table(table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, final_path)
    finally:
        tmp_path.unlink(missing_ok=True)
    fsync_directory(final_path.parent)


def remove_stale_temporary_files(directory: Path, min_age_s: float = STALE_TMP_AGE_S) -> int:
    """Delete the `.tmp` files a killed writer left (issue 9, defect 9); returns how many.

    Several processes may start at once (workers, a lifecycle job) while others write: a file is
    removed only if it is older than `min_age_s` and no process holds its lock (a live writer
    holds it until its rename; the kernel drops the locks of a killed one). Taking the lock
    ourselves before unlinking makes two cleaners at once harmless.
    """
    removed = 0
    now = time.time()
    try:
        candidates = [entry for entry in os.scandir(directory) if entry.name.endswith(TMP_SUFFIX)]
    except FileNotFoundError:
        return 0
    for entry in candidates:
        try:
            if now - entry.stat().st_mtime < min_age_s:
                continue
            fd = os.open(entry.path, os.O_RDONLY)
        except FileNotFoundError:  # renamed or removed meanwhile
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # its writer is alive
        try:
            os.unlink(entry.path)
            removed += 1
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
    return removed


def ensure_store(directory: Path, schema: pa.Schema) -> Path:
    """Create the store directory with its empty schema file; idempotent.

    The empty file always has the current schema (it is rewritten when a column was added), so a
    `union_by_name` glob over a store whose data files all predate a column still finds it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    empty = directory / EMPTY_FILE_NAME
    if not empty.exists() or not pq.read_schema(empty).equals(schema):
        _write_atomically(schema.empty_table(), empty)
    return directory


def new_file_name(now: datetime | None = None) -> str:
    """Names sort by write time, so a directory listing reads in arrival order."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{uuid.uuid4().hex[:12]}.parquet"


def write_parquet_atomically(directory: Path, table: pa.Table, file_name: str | None = None) -> Path:
    """Write `table` as a new immutable file in `directory`; durable when this returns."""
    ensure_store(directory, table.schema)
    final_path = directory / (file_name or new_file_name())
    _write_atomically(table, final_path)
    return final_path
