"""Rate limits of SPEC §3: per verified user, per session and per client address, counting requests
and events, holding across the worker processes of one service.

Every request charges one token bucket per key it carries — its user, each of its sessions (up to
a few), its client address — for one request and for its events; if any bucket is short, the
request is a 429 with `Retry-After` and nothing is charged. Rotating session ids therefore does
not help: the user and the address still pay. Server clients (a valid `X-Api-Key`) are exempt:
backfills send many sessions at once and are trusted. The privacy endpoints have their own, small
request budget per user and per address.

State: a fixed table of buckets in one buffer. With several workers (`INGEST_WORKERS`), the
supervisor creates it as a file under /dev/shm that every worker maps (`mmap`, MAP_SHARED) and
locks with `flock` while charging (a few microseconds; no await inside), so the limits are the
service's, not a worker's. One process uses a private buffer. Keys are keyed 64-bit BLAKE2b hashes:
the table never holds an address, a session or a user id in clear, and the address is never
stored or logged. A full probe window evicts its least recently charged bucket.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import struct
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ingest_service.settings import SecuritySettings

_SLOT = struct.Struct("<Qddd")  # key (0 = empty), request tokens, event tokens, last charged (monotonic)
SLOTS = 1 << 16  # 2 MiB; buckets idle for minutes are full anyway, so forgetting them is harmless
_PROBES = 16
#: most sessions of one request that are charged (a batch spans one or two in practice)
MAX_SESSIONS_CHARGED = 4


@dataclass(frozen=True, slots=True)
class Budget:
    """A token bucket's refill rate (per second) and size."""

    per_minute: float
    burst: float

    @property
    def rate_per_s(self) -> float:
        return self.per_minute / 60.0

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def refilled(self, left: float, elapsed_s: float) -> float:
        return min(self.burst, left + elapsed_s * self.rate_per_s)


@dataclass(frozen=True, slots=True)
class KeyBudget:
    """What one kind of key (user, session, address…) may spend."""

    kind: str
    requests: Budget
    events: Budget


@dataclass(frozen=True, slots=True)
class SharedTable:
    """Where a supervisor's bucket table lives, handed to its workers."""

    path: str
    secret: bytes

    @classmethod
    def create(cls) -> SharedTable:
        directory = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
        fd, path = tempfile.mkstemp(prefix="ingest-rate-limits-", suffix=".bin", dir=directory)
        try:
            os.ftruncate(fd, SLOTS * _SLOT.size)
        finally:
            os.close(fd)
        return cls(path=path, secret=os.urandom(16))

    def remove(self) -> None:
        Path(self.path).unlink(missing_ok=True)


class BucketTable:
    def __init__(self, shared: SharedTable | None = None) -> None:
        self._fd: int | None = None
        if shared is None:
            self._buffer: mmap.mmap | bytearray = bytearray(SLOTS * _SLOT.size)
            self._secret = os.urandom(16)
        else:
            self._fd = os.open(shared.path, os.O_RDWR)
            self._buffer = mmap.mmap(self._fd, SLOTS * _SLOT.size, mmap.MAP_SHARED)
            self._secret = shared.secret

    def key(self, kind: str, value: str) -> int:
        digest = hashlib.blake2b(f"{kind}\0{value}".encode(errors="replace"), digest_size=8, key=self._secret)
        return int.from_bytes(digest.digest(), "little") or 1

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self._fd is None:  # one process, one event loop, no await while charging
            yield
            return
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _slot(self, key: int, now: float, budget: KeyBudget) -> tuple[int, float, float, float]:
        """(offset, request tokens, event tokens, last charged) of `key`, a new full bucket if absent."""
        start = key % SLOTS
        oldest_offset, oldest_at = -1, math.inf
        for probe in range(_PROBES):
            offset = ((start + probe) % SLOTS) * _SLOT.size
            slot_key, requests, events, at = _SLOT.unpack_from(self._buffer, offset)
            if slot_key == key:
                return offset, requests, events, at
            if slot_key == 0:
                oldest_offset, oldest_at = offset, -math.inf
                break
            if at < oldest_at:
                oldest_offset, oldest_at = offset, at
        return oldest_offset, budget.requests.burst, budget.events.burst, now

    def charge(self, charges: list[tuple[KeyBudget, str, int]], now: float | None = None) -> int:
        """Charge each (budget, key value, events) one request and its events, all or nothing.

        Returns 0 when allowed, else the whole seconds to wait (for `Retry-After`)."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        with self._locked():
            updates = []
            for budget, value, events in charges:
                key = self.key(budget.kind, value)
                offset, requests_left, events_left, at = self._slot(key, now, budget)
                elapsed = max(0.0, now - at)
                requests_left = budget.requests.refilled(requests_left, elapsed)
                events_left = budget.events.refilled(events_left, elapsed)
                wait = max(wait, _shortfall(budget.requests, requests_left, 1))
                wait = max(wait, _shortfall(budget.events, events_left, events))
                updates.append((offset, key, budget, requests_left, events_left, events))
            for offset, key, budget, requests_left, events_left, events in updates:
                if not wait:
                    if budget.requests.enabled:
                        requests_left -= 1
                    if budget.events.enabled:
                        events_left -= min(events, budget.events.burst)
                _SLOT.pack_into(self._buffer, offset, key, requests_left, events_left, now)
        return math.ceil(wait) if wait else 0


def _shortfall(budget: Budget, left: float, cost: int) -> float:
    """Seconds until `left` tokens grow to `cost` (capped at the bucket size); 0 when they suffice."""
    if not budget.enabled:
        return 0.0
    needed = min(float(cost), budget.burst)
    return 0.0 if left >= needed else max(1.0, (needed - left) / budget.rate_per_s)


class RateLimiter:
    """The service's limits (from `SecuritySettings`) over one bucket table."""

    def __init__(self, security: SecuritySettings, table: BucketTable | None = None) -> None:
        requests = Budget(security.rate_limit_per_minute, max(security.rate_limit_burst, 1))
        events = Budget(security.rate_limit_events_per_minute, max(security.rate_limit_events_burst, 1))
        factor = security.rate_limit_address_factor
        by_address = KeyBudget(
            "address",
            Budget(requests.per_minute * factor, requests.burst * factor),
            Budget(events.per_minute * factor, events.burst * factor),
        )
        privacy = Budget(security.privacy_rate_limit_per_minute, max(security.privacy_rate_limit_burst, 1))
        self.user = KeyBudget("user", requests, events)
        self.session = KeyBudget("session", requests, events)
        self.address = by_address
        self.privacy_user = KeyBudget("privacy-user", privacy, Budget(0, 1))
        self.privacy_address = KeyBudget(
            "privacy-address", Budget(privacy.per_minute * factor, privacy.burst * factor), Budget(0, 1)
        )
        self.enabled = requests.enabled  # INGEST_RATE_LIMIT_PER_MINUTE=0 turns the ingest limits off
        self.privacy_enabled = privacy.enabled
        self.table = table or BucketTable()

    def ingest_wait(
        self, user_id: str | None, sessions: dict[str, int], address: str | None, events: int
    ) -> int:
        """Seconds to wait before this request may pass (0: it passes and is charged)."""
        if not self.enabled:
            return 0
        charges: list[tuple[KeyBudget, str, int]] = []
        if user_id is not None:
            charges.append((self.user, user_id, events))
        for session_id, session_events in list(sessions.items())[:MAX_SESSIONS_CHARGED]:
            charges.append((self.session, session_id, session_events))
        if address:
            charges.append((self.address, address, events))
        return self.table.charge(charges) if charges else 0

    def privacy_wait(self, user_id: str, address: str | None) -> int:
        if not self.privacy_enabled:
            return 0
        charges = [(self.privacy_user, user_id, 0)]
        if address:
            charges.append((self.privacy_address, address, 0))
        return self.table.charge(charges)
