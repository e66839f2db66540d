"""Group commit: many concurrent requests share one durable write, and none is acked before it.

Requests hand their rows to `submit()` and wait. One writer task takes everything queued (up to
`max_rows`), writes it with a single `sink.append` in a worker thread, and only then wakes the
waiting requests — with success, or with `StorageUnavailable` for every request of a failed write
(their rows count as not stored; the clients retry). While a write runs, the next group gathers,
so the write size grows with the load and the store sees few, large transactions.

Rejected events (SPEC §11) ride along: once a group's accepted rows are durable, the same write
stores the group's rejected events, and only then are the requests answered. Their write is best
effort: if it fails, the accepted rows are already durable and acknowledged as usual, the loss is
logged and counted (`ingest_rejected_events_lost_total`), and the clients were told about those
events anyway (they are per-event errors, never retried by the SDK). A failed accepted write stores
none of its group's rejected events either: the clients retry the whole request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from ingest_service.errors import RejectedByStore, StorageUnavailable
from ingest_service.metrics import Metrics
from ingest_service.storage.sinks import Sink

logger = logging.getLogger("ingest_service.group_commit")

#: after a failed write, fail fast for this long instead of queueing requests behind a dead store
FAIL_FAST_S = 0.5
#: /readyz says not ready for this long after a failed write (unless a write succeeded since)
NOT_READY_AFTER_FAILURE_S = 2.0


Rows = Sequence[dict[str, Any]]
Group = list[tuple[Rows, Rows, asyncio.Future[None]]]


class GroupCommitWriter:
    def __init__(
        self,
        sink: Sink,
        metrics: Metrics,
        max_rows: int = 5000,
        max_wait_s: float = 0.002,
        max_concurrent_writes: int = 2,
    ) -> None:
        self.sink = sink
        self.metrics = metrics
        self.max_rows = max_rows
        self.max_wait_s = max_wait_s
        # More than one write in flight: a request arriving during a commit's fsync does not wait
        # for it to end before its own write starts (PostgreSQL groups the concurrent fsyncs).
        self.max_concurrent_writes = max(1, max_concurrent_writes)
        self._pending: deque[tuple[Rows, Rows, asyncio.Future[None]]] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self._failed_at = 0.0
        self._written_at = 0.0
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit-writer")

    async def stop(self) -> None:
        """Write what is queued, then stop the writer."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task

    async def submit(self, rows: Rows, rejected: Rows = ()) -> None:
        """Return once `rows` are durable; raise StorageUnavailable if they could not be stored.

        `rejected` (rows of `raw.rejected_events`) are written after them, best effort."""
        if not rows and not rejected:
            return
        if self._closing or time.monotonic() - self._failed_at < FAIL_FAST_S:
            if rows:
                raise StorageUnavailable("shutting down" if self._closing else "recent write failed")
            self._lost_rejected(len(rejected), "storage failed a moment ago")
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((rows, rejected, future))
        self._wakeup.set()
        await future

    def _lost_rejected(self, count: int, why: str) -> None:
        self.metrics.rejected_events_lost.inc(count)
        logger.warning("%d rejected events were not kept: %s", count, why)

    @property
    def failing(self) -> bool:
        """The last write failed, a moment ago: a probe may pass while real writes fail (a full
        PostgreSQL disk still answers `select 1`)."""
        failed_at = self._failed_at
        return (
            bool(failed_at)
            and failed_at > self._written_at
            and time.monotonic() - failed_at < NOT_READY_AFTER_FAILURE_S
        )

    def _take_group(self) -> Group:
        group, size = [], 0
        while self._pending and (not group or size + len(self._pending[0][0]) <= self.max_rows):
            rows, rejected, future = self._pending.popleft()
            if future.done():  # the client went away before its turn: nothing to write or answer
                continue
            group.append((rows, rejected, future))
            size += len(rows)
        return group

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self.max_wait_s and not self._closing and not self._writes and self._pending:
                # the store was idle: give concurrent requests a moment to join this write
                await asyncio.sleep(self.max_wait_s)
            while self._pending and len(self._writes) < self.max_concurrent_writes:
                task = asyncio.create_task(self._write(self._take_group()))
                self._writes.add(task)
                task.add_done_callback(self._write_done)
            if self._closing and not self._pending and not self._writes:
                return

    def _write_done(self, task: asyncio.Task[None]) -> None:
        self._writes.discard(task)
        self._wakeup.set()  # a slot is free: write what queued meanwhile

    async def _write(self, group: Group) -> None:
        if not group:
            return
        rows = [row for request_rows, _, _ in group for row in request_rows]
        written = 0
        if rows:
            started = time.perf_counter()
            try:
                written = await self.sink.append(rows)
            except RejectedByStore:
                # one request's values were refused, and nothing of the group was written: write
                # each request alone so only the guilty one fails
                if len(group) == 1:
                    future = group[0][2]
                    if not future.done():
                        future.set_exception(RejectedByStore("a value was refused by the store"))
                    return
                for single in group:
                    await self._write([single])
                return
            except Exception as error:  # noqa: BLE001 - every failure of the store is a 503 for the group
                self._failed_at = time.monotonic()
                detail = error.detail if isinstance(error, StorageUnavailable) else type(error).__name__
                self.metrics.storage_errors.inc()
                logger.warning("write of %d rows failed: %s", len(rows), detail)
                for _, _, future in group:
                    if not future.done():
                        future.set_exception(StorageUnavailable(detail))
                return
            self._written_at = time.monotonic()
            self.metrics.write_seconds.observe(time.perf_counter() - started)
            self.metrics.write_rows.observe(len(rows))
            self.metrics.rows_written.inc(written)
            self.metrics.events_dropped_opted_out.inc(len(rows) - written)
        await self._write_rejected([row for _, rejected, _ in group for row in rejected])
        for _, _, future in group:
            if not future.done():
                future.set_result(None)

    async def _write_rejected(self, rejected: list[dict[str, Any]]) -> None:
        if not rejected:
            return
        try:
            self.metrics.rejected_events_written.inc(await self.sink.append_rejected(rejected))
        except Exception as error:  # noqa: BLE001 - never fails the accepted events (module docstring)
            self._lost_rejected(len(rejected), f"{type(error).__name__}: {error}")
