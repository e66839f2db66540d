"""Readiness reflects whether a write can succeed (issue 9, defect 7: /readyz said ready on a full
disk), and temporary files a killed writer left are removed at start (defect 9)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest_service.storage.parquet_files import remove_stale_temporary_files

PAGE = {"eventType": "PAGE_VIEW", "path": "/"}


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs (the tests run as root, in CI too), unmounted afterwards."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


def test_readiness_follows_a_full_disk(make_harness, tiny_filesystem):
    harness = make_harness(DATA_DIR=str(tiny_filesystem / "data"))
    assert harness.client.get("/readyz").status_code == 200

    filler = _fill(tiny_filesystem)
    full = harness.client.get("/readyz")
    write = harness.post("/api/analytics", {"events": [PAGE]})
    filler.unlink()
    deadline = time.monotonic() + 5  # a failed write keeps readiness down for 2 s (group_commit)
    while (recovered := harness.client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    written = harness.post("/api/analytics", {"events": [PAGE]})

    assert (full.status_code, full.json()) == (503, {"status": "unavailable", "store": "embedded"})
    assert full.headers["Retry-After"]
    assert write.status_code == 503
    assert recovered.status_code == 200 and written.status_code == 200
    assert len(harness.rows()) == 1


def _leftover(directory: Path, age_s: float) -> Path:
    path = directory / f".20260101T000000000000Z-{uuid.uuid4().hex[:12]}.parquet.{uuid.uuid4().hex[:8]}.tmp"
    path.write_bytes(b"PAR1 half a file")
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_stale_temporary_files_are_removed_at_start(make_harness):
    harness = make_harness()
    events_dir = harness.settings.storage.raw_stores.events_dir
    rejected_dir = harness.settings.storage.raw_stores.rejected_dir
    stale = [_leftover(events_dir, 3600), _leftover(rejected_dir, 3600)]
    young = _leftover(events_dir, 1)

    restarted = make_harness(DATA_DIR=str(harness.settings.data_dir))

    assert not any(path.exists() for path in stale)
    assert young.exists(), "a young temporary file may belong to a writer about to lock it"
    assert restarted.post("/api/analytics", {"events": [PAGE]}).status_code == 200


def test_a_temporary_file_whose_writer_holds_its_lock_is_kept(tmp_path):
    import fcntl

    old = _leftover(tmp_path, 3600)
    locked = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with open(old, "rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            locked.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    locked.wait(10)
    try:
        # flock is per open file description: another open of the same file is refused the lock
        assert remove_stale_temporary_files(tmp_path) == 0
        assert old.exists()
    finally:
        release.set()
        thread.join()
    assert remove_stale_temporary_files(tmp_path) == 1
    assert not old.exists()
