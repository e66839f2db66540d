"""Immutable Parquet files written atomically: the embedded store's only write primitive.

A reader (DuckDB, while the ingest service keeps writing) must never see half a file, so a file is
written under a hidden temporary name, fsynced, renamed into place and the directory fsynced. A
crash leaves at most a `.tmp` file that no reader's `*.parquet` glob matches. Each directory always
holds an empty `_empty.parquet` with the schema, so a glob over a store with no events still reads
as an empty table instead of failing.
"""

from __future__ import annotations

import os
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


def _write_atomically(table: pa.Table, final_path: Path) -> None:
    tmp_path = final_path.with_name(f".{final_path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp_path, "wb") as handle:
            pq.write_table(table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, final_path)
    finally:
        tmp_path.unlink(missing_ok=True)
    fsync_directory(final_path.parent)


def ensure_store(directory: Path, schema: pa.Schema) -> Path:
    """Create the store directory with its empty schema file; idempotent."""
    directory.mkdir(parents=True, exist_ok=True)
    empty = directory / EMPTY_FILE_NAME
    if not empty.exists():
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
