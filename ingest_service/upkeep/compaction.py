"""Compaction: merge the embedded store's many small Parquet files into a few large ones.

The ingest service writes one file per group commit, so a busy day leaves tens of thousands of
small files, and every reader (DuckDB, retention, erasure) pays per file. Compaction merges runs of
consecutive small files (name order = arrival order) into files of up to `target_rows` rows.

Each merge writes the merged rows under the first file's name (an atomic replace) and then deletes
the other files. In between, a reader may see some rows twice; staging deduplicates by event_id
and the warehouse's arrival counts anti-join on (event_id, received_at), so that window never
double counts. A crash in between leaves exact copies, which the next compaction drops: two rows
with the same event_id and received_at are one delivery. Deliveries with different received_at
(client retries) are all kept, as raw storage should.

It takes the same directory lock as retention and erasure, so it can never resurrect rows that
one of them is removing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingest_service.storage.parquet_files import write_parquet_atomically
from ingest_service.upkeep.embedded_rewrite import data_files, store_lock

DEFAULT_TARGET_ROWS = 1_000_000


@dataclass
class CompactionReport:
    files_before: int = 0
    files_after: int = 0
    files_merged: int = 0
    rows_rewritten: int = 0
    exact_copies_dropped: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _merge_groups(sizes: list[tuple[Path, int]], target_rows: int) -> list[list[Path]]:
    """Runs of consecutive files whose rows add up to at most `target_rows`; only runs of 2+ files."""
    groups: list[list[Path]] = []
    current: list[Path] = []
    current_rows = 0
    for path, rows in sizes:
        if current and current_rows + rows > target_rows:
            groups.append(current)
            current, current_rows = [], 0
        if rows >= target_rows:
            continue  # already large: leave it where it is
        current.append(path)
        current_rows += rows
    groups.append(current)
    return [group for group in groups if len(group) > 1]


def _merged_table(paths: list[Path]) -> pa.Table:
    table = pa.concat_tables([pq.read_table(path) for path in paths], promote_options="default")
    connection = duckdb.connect()
    try:
        connection.register("merged", table)
        return connection.sql(
            "select * from merged"
            " qualify row_number() over (partition by event_id, received_at) = 1"
            " order by received_at, event_id"
        ).to_arrow_table()
    finally:
        connection.close()


def compact_store(directory: Path, target_rows: int = DEFAULT_TARGET_ROWS) -> CompactionReport:
    """Merge small files of one store directory; safe to run while the ingest service writes."""
    if target_rows < 2:
        raise ValueError(f"target_rows must be at least 2 (got {target_rows})")
    report = CompactionReport()
    with store_lock(directory):
        files = data_files(directory)
        report.files_before = report.files_after = len(files)
        sizes = [(path, pq.ParquetFile(path).metadata.num_rows) for path in files]
        for group in _merge_groups(sizes, target_rows):
            rows_in = sum(pq.ParquetFile(path).metadata.num_rows for path in group)
            merged = _merged_table(group)
            write_parquet_atomically(directory, merged, file_name=group[0].name)
            for path in group[1:]:
                path.unlink(missing_ok=True)
            report.files_merged += len(group)
            report.files_after -= len(group) - 1
            report.rows_rewritten += merged.num_rows
            report.exact_copies_dropped += rows_in - merged.num_rows
    return report
