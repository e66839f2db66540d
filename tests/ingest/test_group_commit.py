"""Group commit on a real PostgreSQL: many requests, few writes, no ack before the commit."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from ingest_service.errors import RejectedByStore
from ingest_service.group_commit import GroupCommitWriter
from ingest_service.metrics import Metrics
from ingest_service.storage.sinks import ParquetSink, PostgresSink


def _row(event_id: str | None = None) -> dict:
    now = datetime.now(UTC)
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "received_at": now,
        "occurred_at": now,
        "session_id": "s",
        "user_id": None,
        "event_type": "PAGE_VIEW",
        "event_category": "VIEW",
        "perfume_id": None,
        "house_id": None,
        "post_id": None,
        "path": "/",
        "referrer": None,
        "user_agent": None,
        "device_type": "unknown",
        "browser": "unknown",
        "os": "unknown",
        "is_bot": False,
        "duration_ms": None,
        "scroll_depth": None,
        "value": None,
        "source": None,
        "event_data": "{}",
    }


async def _with_writer(url_or_sink, body) -> Metrics:
    metrics = Metrics()
    sink = PostgresSink(url_or_sink) if isinstance(url_or_sink, str) else url_or_sink
    await sink.open()
    writer = GroupCommitWriter(sink, metrics, max_rows=5000, max_wait_s=0.002)
    writer.start()
    try:
        await body(writer)
    finally:
        await writer.stop()
        await sink.close()
    return metrics


def _stored_ids(url: str) -> set[str]:
    with psycopg.connect(url) as connection:
        return {str(row[0]) for row in connection.execute("select event_id from raw.interaction_events")}


@pytest.mark.postgres
def test_concurrent_requests_share_writes_and_are_acked_only_when_committed(postgres_url):
    seen_on_ack: list[bool] = []

    async def request(writer: GroupCommitWriter) -> None:
        rows = [_row() for _ in range(20)]
        await writer.submit(rows)
        # acknowledged: another connection must already see every row
        stored = await asyncio.to_thread(_stored_ids, postgres_url)
        seen_on_ack.append({row["event_id"] for row in rows} <= stored)

    async def body(writer: GroupCommitWriter) -> None:
        await asyncio.gather(*(request(writer) for _ in range(50)))

    metrics = asyncio.run(_with_writer(postgres_url, body))

    assert seen_on_ack == [True] * 50
    writes = metrics.write_rows.collect()[0].samples
    count = next(sample.value for sample in writes if sample.name.endswith("_count"))
    total = next(sample.value for sample in writes if sample.name.endswith("_sum"))
    assert total == 1000
    assert count < 50, "requests arriving together must share a write"


def _outcomes_of_good_and_bad(sink, bad_rows: list[dict]) -> tuple[dict[str, object], list[dict]]:
    good = [_row() for _ in range(3)]
    outcomes: dict[str, object] = {}

    async def body(writer: GroupCommitWriter) -> None:
        async def submit(name: str, rows: list[dict]) -> None:
            try:
                await writer.submit(rows)
                outcomes[name] = "stored"
            except Exception as error:  # noqa: BLE001 - the test reports which one it was
                outcomes[name] = error

        await asyncio.gather(submit("good", good), submit("bad", bad_rows))
        after = _row()
        outcomes["after_id"] = after["event_id"]
        await submit("after", [after])  # no fail-fast window: the store is fine

    asyncio.run(_with_writer(sink, body))
    return outcomes, good


@pytest.mark.parametrize(
    ("store", "bad_text"),
    [("postgres", "\ud800evil"), ("postgres", "nul\x00"), ("embedded", "\ud800evil")],  # Parquet holds NUL
)
def test_a_row_that_cannot_be_encoded_fails_only_its_own_request(
    store, bad_text, make_postgres_database, tmp_path
):
    """Issue 9, defect 2: a lone surrogate made the whole group's write fail (503 for everyone)."""
    if store == "postgres":
        sink = PostgresSink(make_postgres_database("encode"))
    else:
        sink = ParquetSink(tmp_path / "events", tmp_path / "privacy")
    bad = [{**_row(), "session_id": bad_text}]  # bypasses validation on purpose

    outcomes, _ = _outcomes_of_good_and_bad(sink, bad)

    assert outcomes["good"] == "stored" and outcomes["after"] == "stored"
    assert isinstance(outcomes["bad"], RejectedByStore), outcomes["bad"]


@pytest.mark.postgres
def test_a_row_the_store_refuses_fails_only_its_own_request(postgres_url):
    bad = [_row(event_id="not-a-uuid")]  # bypasses validation on purpose

    outcomes, good = _outcomes_of_good_and_bad(postgres_url, bad)

    assert outcomes["good"] == "stored"
    assert isinstance(outcomes["bad"], RejectedByStore) and outcomes["bad"].status_code == 400
    assert _stored_ids(postgres_url) - {row["event_id"] for row in good} == {outcomes["after_id"]}
