"""Remove rows from the embedded store's immutable Parquet files, touching only files that hold them.

A file that holds rows to remove is rewritten under its own name with the rows that stay (an atomic
rename over the old file, so a reader sees the old or the new file, never both and never half), or
deleted when nothing stays. Files without such rows are not read beyond their footer when the
column statistics can rule them out, and are never rewritten: the cost follows what is removed.

Retention and erasure may run at the same time (a daily schedule and a user's request); both read a
file, then replace it, so they take an exclusive lock on the store directory first. The ingest
service never rewrites files, it only adds new ones, so it needs no lock.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest_service.storage.parquet_files import EMPTY_FILE_NAME, write_parquet_atomically

LOCK_FILE_NAME = ".lifecycle.lock"


@dataclass
class RewriteReport:
    """What a removal did (or, on a dry run, would do) to one store directory."""

    rows_removed: int = 0
    files_scanned: int = 0
    files_rewritten: int = 0
    files_deleted: int = 0


@dataclass(kw_only=True)
class RemovalReport:
    """Rows a removal (retention, raw erasure) took from every raw store."""

    postgres_rows_removed: int | None = None
    """None when there is no PostgreSQL store."""
    embedded: RewriteReport | None = None
    """None when there is no embedded store."""
    stores: list[str] = field(default_factory=list)

    @property
    def rows_removed(self) -> int:
        return (self.postgres_rows_removed or 0) + (self.embedded.rows_removed if self.embedded else 0)


@contextmanager
def store_lock(directory: Path) -> Iterator[None]:
    """Exclusive, blocking lock held while files of `directory` are read and replaced."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK_FILE_NAME, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def data_files(directory: Path) -> list[Path]:
    """The store's data files in name (= write time) order, without the empty schema file."""
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.glob("*.parquet") if path.name != EMPTY_FILE_NAME)


def remove_rows(
    directory: Path,
    columns: list[str],
    removal_mask: Callable[[pa.Table], pa.ChunkedArray],
    may_hold_rows: Callable[[pq.FileMetaData], bool] = lambda _metadata: True,
    dry_run: bool = False,
) -> RewriteReport:
    """Drop the rows for which `removal_mask` (computed over `columns` only) is true.

    `may_hold_rows` looks at a file's footer and returns False when the file certainly holds no
    such row (for example, its minimum `received_at` is recent), so the file is not even read.
    """
    report = RewriteReport()
    with store_lock(directory):
        for path in data_files(directory):
            metadata = pq.ParquetFile(path).metadata
            if not may_hold_rows(metadata):
                continue
            report.files_scanned += 1
            mask = pc.fill_null(removal_mask(pq.read_table(path, columns=columns)), False)
            removed = pc.sum(mask).as_py() or 0
            if removed == 0:
                continue
            report.rows_removed += removed
            if removed < metadata.num_rows:
                report.files_rewritten += 1
                if not dry_run:
                    kept = pq.read_table(path).filter(pc.invert(mask))
                    write_parquet_atomically(directory, kept, file_name=path.name)
            else:
                report.files_deleted += 1
                if not dry_run:
                    path.unlink()
    return report


def column_minimum(metadata: pq.FileMetaData, column: str):
    """The smallest value of `column` over the file's row groups, or None when statistics are missing."""
    index = metadata.schema.to_arrow_schema().get_field_index(column)
    if index < 0:
        return None
    minimum = None
    for group in range(metadata.num_row_groups):
        statistics = metadata.row_group(group).column(index).statistics
        if statistics is None or not statistics.has_min_max:
            return None
        if minimum is None or statistics.min < minimum:
            minimum = statistics.min
    return minimum
