"""Published snapshots of the marts: what they hold, that readers see them whole, and pruning.

The marts come from the real dbt project on DuckDB (the hand-made site of `read_fixture`, and
builds of it at later as_ofs); the small pruning cases publish from a DuckDB file made by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from ingest_service.storage.mart_builds import latest_builds, mart_build, newest_run
from ingest_service.storage.snapshots import (
    MANIFEST_NAME,
    POINTER_NAME,
    SNAPSHOT_MARTS,
    SnapshotError,
    current_build_id,
    published_builds,
    read_snapshot,
    snapshots_dir,
)
from orchestration.settings import REPO_ROOT
from orchestration.snapshots import new_build_id, publish_snapshot, remove_all_snapshots
from orchestration.warehouse import WarehouseTarget
from tests.support import read_fixture as site
from tests.support.events import raw_event
from tests.support.read_fixture import hand_made_warehouse
from tests.support.snapshot_reader_loop import fingerprint

T0 = site.AS_OF


def _canonical(rows: list[dict]) -> list[str]:
    def plain(row: dict) -> dict:
        return {key: json.loads(value) if key.startswith("preferred_") and isinstance(value, str) else value
                for key, value in row.items()}  # fmt: skip

    return sorted(json.dumps(plain(row), sort_keys=True, default=str) for row in rows)


@pytest.mark.slow
def test_a_snapshot_holds_every_built_snapshot_mart_of_one_build_and_says_which_are_missing(tmp_path):
    harness = site.build_site(tmp_path)
    warnings: list[str] = []
    with harness.location.writer_lock():
        report = publish_snapshot(harness.location, marts=(*SNAPSHOT_MARTS, "no_such_mart"),
                                  on_warning=warnings.append)  # fmt: skip

    root = snapshots_dir(harness.data_dir)
    assert current_build_id(root) == report.build_id
    snapshot = read_snapshot(root)
    manifest = snapshot.manifest
    assert snapshot.build_id == manifest["build_id"] == report.build_id
    assert datetime.fromisoformat(manifest["as_of"]) == site.AS_OF  # the dbt var of the build
    assert abs(datetime.fromisoformat(manifest["created_at"]) - datetime.now(UTC)) < timedelta(minutes=5)
    built = harness.location.relations()
    for mart in SNAPSHOT_MARTS:
        entry = manifest["marts"][mart]
        assert mart in built, mart
        expected = harness.query(f'select * from "{mart}"')
        assert entry["status"] == "published" and entry["rows"] == len(expected) > 0, mart
        assert datetime.fromisoformat(entry["as_of"]) == site.AS_OF, mart
        assert _canonical(snapshot.tables[mart].to_pylist()) == _canonical(expected), mart
    assert manifest["marts"]["no_such_mart"]["status"] == "not_built"
    assert any("no_such_mart is not built" in warning for warning in warnings)
    assert sorted(os.listdir(root / report.build_id)) == sorted([*manifest["files"], MANIFEST_NAME])


def test_a_marts_as_of_is_its_own_recorded_build_else_the_newest_runs():
    rows = [
        {"model_name": "sessions", "built_at": datetime(2026, 5, 1, 2), "as_of": datetime(2026, 5, 1, 2)},
        {"model_name": "base_interaction_events", "built_at": datetime(2026, 5, 1, 9),
         "as_of": datetime(2026, 5, 1, 8, 30)},
    ]  # fmt: skip
    builds = latest_builds(rows)
    own = mart_build(builds, "sessions")
    assert (own.as_of, own.recorded) == (datetime(2026, 5, 1, 2, 0, tzinfo=UTC), True)
    other = mart_build(builds, "trending_perfumes")  # records no build of its own
    assert (other.as_of, other.built_at, other.recorded) == (
        datetime(2026, 5, 1, 8, 30, tzinfo=UTC),
        datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
        False,
    )
    assert newest_run({}) is None and mart_build({}, "sessions") is None


def test_build_ids_sort_by_time_even_when_the_clock_goes_back():
    assert new_build_id([], T0) == "20260501T120000.000000Z"
    assert new_build_id(["20260501T120000.000000Z"], T0 - timedelta(hours=1)) == "20260501T120000.000001Z"
    assert new_build_id(["20260501T120000.000000Z"], T0 + timedelta(seconds=1)) == "20260501T120001.000000Z"


def test_publishing_keeps_the_current_and_the_previous_build_and_an_erasure_only_the_new_one(tmp_path):
    target = hand_made_warehouse(tmp_path)
    root = snapshots_dir(target.data_dir)
    ids = [publish_snapshot(target).build_id for _ in range(4)]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert published_builds(root) == ids[-2:] and current_build_id(root) == ids[-1]
    # a crashed publisher's half-written directory is never read and is cleared by the next one
    (root / ".tmp-20260101T000000.000000Z").mkdir()
    erasure = publish_snapshot(target, keep=1, reason="erasure")
    assert published_builds(root) == [erasure.build_id] and erasure.deleted == ids[-2:]
    assert not any(name.startswith(".tmp-") for name in os.listdir(root))
    assert read_snapshot(root).manifest["reason"] == "erasure"

    assert remove_all_snapshots(target.data_dir) == [erasure.build_id]
    assert read_snapshot(root) is None and not (root / POINTER_NAME).exists()


def test_a_pointer_to_a_build_that_is_gone_is_a_clear_error(tmp_path):
    root = tmp_path / "snapshots"
    root.mkdir()
    (root / POINTER_NAME).write_text("20260501T120000.000000Z\n")
    with pytest.raises(SnapshotError, match="kept naming builds that were deleted"):
        read_snapshot(root)
    (root / POINTER_NAME).write_text("../../etc/passwd\n")
    with pytest.raises(SnapshotError, match="does not hold a build id"):
        read_snapshot(root)


def _publish_and_record(target: WarehouseTarget, published: dict[str, str], keep: int) -> None:
    """Publish, and record the build's fingerprint from the warehouse itself (not the files)."""
    with target.writer_lock():
        report = publish_snapshot(target, keep=keep)
        marts = [name for name, entry in report.manifest["marts"].items() if entry["status"] == "published"]
        tables = target.read_arrow({mart: f'select * from "{mart}"' for mart in marts})
    published[report.build_id] = fingerprint(report.manifest["as_of"], tables)


@pytest.mark.slow
def test_a_reader_in_another_process_never_sees_a_partial_or_mixed_snapshot_while_builds_publish(tmp_path):
    harness = site.build_site(tmp_path)
    root = snapshots_dir(harness.data_dir)
    stop_file = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-m", "tests.support.snapshot_reader_loop", str(root), str(stop_file)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    published: dict[str, str] = {}
    try:
        for build in range(3):
            if build:  # a new dbt build: more events and a later as_of, so every mart changes
                as_of = site.AS_OF + build * site.HOUR
                harness.append_events([
                    raw_event("PERFUME_VIEW", occurred_at=as_of - site.MINUTE, session_id=f"s-{build}-{n}",
                              user_id=f"u-new-{build}", perfume_id=f"p{n:04d}")
                    for n in range(1, 4 + build)
                ])  # fmt: skip
                harness.build(as_of)
            for publication in range(12):
                # every third publication deletes every older build at once, as an erasure does
                _publish_and_record(harness.location, published, keep=1 if publication % 3 == 2 else 2)
                time.sleep(0.05)
    finally:
        stop_file.touch()
        output, _ = reader.communicate(timeout=60)
    seen = json.loads(output)

    assert seen["errors"] == []
    assert len(set(published.values())) == 3  # three builds with different contents…
    assert len(seen["builds"]) >= 6, seen["builds"].keys()  # …several of whose publications were read
    for build_id, prints in seen["builds"].items():
        assert prints == [published[build_id]], f"{build_id} was read with content of another build"
    assert seen["reads"] > 50


def _readme_training_example() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Training input for a recommender**", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.slow
def test_the_readmes_training_example_reads_the_recommenders_table_from_the_snapshot(tmp_path, capsys):
    harness = site.build_site(tmp_path)
    with harness.location.writer_lock():
        publish_snapshot(harness.location)
    code = _readme_training_example()
    assert 'Path("data/snapshots")' in code
    namespace: dict = {}
    exec(code.replace('Path("data/snapshots")', f"Path({str(snapshots_dir(harness.data_dir))!r})"), namespace)
    assert "actor_id" in capsys.readouterr().out  # it printed the first rows

    matrix = namespace["matrix"]
    rows = {
        (actor, item): index
        for index, (actor, item) in enumerate(zip(matrix["actor_id"], matrix["item_id"], strict=True))
    }
    # the site's perfume pairs: ana p0001 p0002, ben p0002 p0001, s-anon p0003, s-filler's 25 perfumes
    assert len(rows) == 2 + 2 + 1 + len(site.FILLER_PERFUMES)
    ana_p1 = rows[("u:u-ana", "p0001")]
    # two views (weight 1 each) and a rating of 4 (weight 5)
    assert (matrix["interactions"][ana_p1], matrix["affinity"][ana_p1]) == (3, 7.0)
    assert matrix["latest_rating"][ana_p1] == 4.0 and not matrix["is_wishlisted"][ana_p1]
    assert matrix["is_wishlisted"][rows[("u:u-ana", "p0002")]]
    assert ("s:s-anon", "p0003") in rows
