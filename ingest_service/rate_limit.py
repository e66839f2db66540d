"""Per-session rate limit: a token bucket per session id, in the memory of one process.

A session may send `burst` requests at once and `per_minute` requests a minute after that. Buckets
of idle sessions are forgotten (least recently used first) so memory stays bounded. With several
ingest processes each keeps its own buckets: the effective limit is per process, which is enough to
stop one runaway client without a shared store on the hot path.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict


class SessionRateLimiter:
    def __init__(self, per_minute: int, burst: int, max_sessions: int = 100_000) -> None:
        self.rate_per_s = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.max_sessions = max_sessions
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # session → (tokens, at)

    @property
    def enabled(self) -> bool:
        return self.rate_per_s > 0

    def acquire(self, session_id: str, now: float | None = None) -> int:
        """Take one token; returns 0 when allowed, else the seconds to wait (for `Retry-After`)."""
        if not self.enabled:
            return 0
        now = time.monotonic() if now is None else now
        tokens, at = self._buckets.pop(session_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate_per_s)
        if tokens >= 1.0:
            self._buckets[session_id] = (tokens - 1.0, now)
            wait = 0
        else:
            self._buckets[session_id] = (tokens, now)
            wait = max(1, math.ceil((1.0 - tokens) / self.rate_per_s))
        if len(self._buckets) > self.max_sessions:
            self._buckets.popitem(last=False)
        return wait
