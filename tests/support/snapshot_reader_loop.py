"""A reader of published snapshots in a process of its own, for the atomicity test.

`python -m tests.support.snapshot_reader_loop SNAPSHOTS_DIR STOP_FILE` reads the current snapshot
(`ingest_service.storage.snapshots.read_snapshot`, as every reader does) over and over until
STOP_FILE exists, then prints one JSON document: for every build id it saw, the distinct
fingerprints of what it read under that id, how many reads found nothing published, and every
error. A snapshot read whole and from one build has exactly the fingerprint its publisher recorded.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from ingest_service.storage.snapshots import read_snapshot


def fingerprint(as_of: str, tables: Mapping[str, pa.Table]) -> str:
    """The as_of and every row of every mart, in a canonical order, hashed."""
    digest = hashlib.sha256(as_of.encode())
    for mart in sorted(tables):
        rows = sorted(json.dumps(row, sort_keys=True, default=str) for row in tables[mart].to_pylist())
        digest.update(f"{mart}:{len(rows)}\n".encode())
        for row in rows:
            digest.update(row.encode())
    return digest.hexdigest()


def main(root: Path, stop_file: Path) -> dict:
    seen: dict[str, set[str]] = {}
    reads = nothing = 0
    errors: list[str] = []
    while not stop_file.exists():
        try:
            snapshot = read_snapshot(root)
        except Exception as error:  # noqa: BLE001 - every failure is a finding of the test
            errors.append(f"{type(error).__name__}: {error}")
            continue
        reads += 1
        if snapshot is None:
            nothing += 1
            continue
        for mart, entry in snapshot.manifest["marts"].items():
            if entry["status"] == "published" and snapshot.tables[mart].num_rows != entry["rows"]:
                errors.append(f"{snapshot.build_id}: {mart} rows differ from the manifest")
        content = fingerprint(snapshot.manifest["as_of"], snapshot.tables)
        seen.setdefault(snapshot.build_id, set()).add(content)
    return {
        "reads": reads,
        "nothing_published": nothing,
        "builds": {build_id: sorted(prints) for build_id, prints in seen.items()},
        "errors": errors[:20],
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
