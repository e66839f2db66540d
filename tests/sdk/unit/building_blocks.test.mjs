// Unit tests of the SDK's pure parts (`node --test tests/sdk/unit/`): queue, backoff, chunking,
// session, view timing, cookies, storage. The browser behaviour is tested in Chromium (tests/sdk/).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  KEEPALIVE_BUDGET_BYTES,
  appendBounded,
  backoffDelay,
  classifyStatus,
  cookieAssignment,
  createAnalytics,
  createStorage,
  createViewTimer,
  eventIdOf,
  isUuid,
  mergeQueues,
  monotonicNow,
  nextSession,
  parseRetryAfter,
  planChunks,
  readCookie,
  requestBody,
  scrollDepthPercent,
  takeBatch,
  utf8Length,
  uuid,
  withoutEvents,
} from '../../../ingest_service/sdk/analytics.js';

const SENT_AT = '2026-11-22T10:00:00.000Z';

function item(index, { kind = 'analytics', padding = 0, timestamp } = {}) {
  const stamp = timestamp ?? new Date(Date.UTC(2026, 10, 22, 10, 0, 0, index)).toISOString();
  const event =
    kind === 'track'
      ? { event_id: `id-${index}`, timestamp: stamp, post_id: `post-${index}`, interaction_type: 'click' }
      : { eventId: `id-${index}`, timestamp: stamp, eventType: 'PAGE_VIEW', path: `/p/${'x'.repeat(padding)}` };
  return { kind, event };
}

describe('uuid', () => {
  it('makes version 4 UUIDs, also without crypto.randomUUID (insecure contexts)', () => {
    const withoutRandomUuid = { getRandomValues: (array) => globalThis.crypto.getRandomValues(array) };
    for (const id of [uuid(), uuid(withoutRandomUuid)]) {
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    assert.notEqual(uuid(withoutRandomUuid), uuid(withoutRandomUuid));
  });

  it('isUuid accepts UUIDs but not the nil UUID or other text (SPEC §1 anonymous_id)', () => {
    assert.equal(isUuid('3f2b8c1e-9d4a-4b6f-8e2d-1a2b3c4d5e6f'), true);
    assert.equal(isUuid('00000000-0000-0000-0000-000000000000'), false);
    assert.equal(isUuid('not-a-uuid'), false);
    assert.equal(isUuid(null), false);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP-dates', () => {
    assert.equal(parseRetryAfter('2'), 2000);
    assert.equal(parseRetryAfter(' 30 '), 30000);
    const now = Date.UTC(2026, 10, 22, 10, 0, 0);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 10:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 09:59:00 GMT', now), 0); // in the past: now
  });

  it('is null when absent or unusable, so the caller backs off instead', () => {
    assert.equal(parseRetryAfter(null), null);
    assert.equal(parseRetryAfter(undefined), null);
    assert.equal(parseRetryAfter('soon'), null);
    assert.equal(parseRetryAfter('-1'), null);
  });
});

describe('backoffDelay', () => {
  it('doubles from the minimum with half of each step random, up to the maximum', () => {
    const options = { minMs: 1000, maxMs: 60000 };
    assert.equal(backoffDelay(1, options, () => 0), 500);
    assert.equal(backoffDelay(1, options, () => 1), 1000);
    assert.equal(backoffDelay(2, options, () => 0), 1000);
    assert.equal(backoffDelay(3, options, () => 1), 4000);
    assert.equal(backoffDelay(20, options, () => 1), 60000);
    assert.equal(backoffDelay(1000, options, () => 0), 30000);
  });

  it('spreads retries (jitter) and never retries immediately', () => {
    const delays = new Set();
    for (let index = 0; index < 50; index += 1) delays.add(backoffDelay(4));
    assert.ok(delays.size > 40, 'random part');
    for (const delay of delays) assert.ok(delay >= 4000 && delay <= 8000, `${delay} within [4000, 8000]`);
  });
});

describe('classifyStatus', () => {
  it('maps every status to what the SDK does with the batch', () => {
    const expected = {
      200: 'delivered',
      202: 'delivered',
      401: 'unauthorized',
      429: 'retry_after',
      503: 'retry_after',
      0: 'backoff', // network error
      500: 'backoff',
      502: 'backoff',
      403: 'backoff',
      404: 'backoff',
      408: 'backoff',
      400: 'refused',
      413: 'refused',
      415: 'refused',
    };
    for (const [status, verdict] of Object.entries(expected)) assert.equal(classifyStatus(Number(status)), verdict, status);
  });
});

describe('queue', () => {
  it('appendBounded keeps the newest maxSize items and returns the dropped oldest', () => {
    const queue = [item(1), item(2)];
    const { queue: kept, dropped } = appendBounded(queue, [item(3), item(4)], 3);
    assert.deepEqual(kept.map(eventIdOf), ['id-2', 'id-3', 'id-4']);
    assert.deepEqual(dropped.map(eventIdOf), ['id-1']);
    assert.deepEqual(appendBounded([], [item(1)], 3).dropped, []);
  });

  it('withoutEvents removes by event id, for both contracts', () => {
    const queue = [item(1), item(2, { kind: 'track' }), item(3)];
    assert.deepEqual(withoutEvents(queue, ['id-2', 'id-3']).map(eventIdOf), ['id-1']);
  });

  it('mergeQueues takes each event once, orders by client timestamp, and stays bounded', () => {
    const own = [item(2), item(5)];
    const other = [item(1), item(2), item(3)];
    const { queue, dropped } = mergeQueues(own, other, 3);
    assert.deepEqual(queue.map(eventIdOf), ['id-2', 'id-3', 'id-5']);
    assert.deepEqual(dropped.map(eventIdOf), ['id-1']);
  });
});

describe('takeBatch', () => {
  it('takes at most maxCount items in order', () => {
    const items = Array.from({ length: 30 }, (_, index) => item(index));
    const batch = takeBatch(items, { kind: 'analytics', maxCount: 20, maxBytes: 1e6, sentAt: SENT_AT });
    assert.deepEqual(batch.map(eventIdOf), items.slice(0, 20).map(eventIdOf));
  });

  it('keeps the body under maxBytes, but always takes the first item', () => {
    const items = Array.from({ length: 10 }, (_, index) => item(index, { padding: 1000 }));
    const batch = takeBatch(items, { kind: 'analytics', maxCount: 20, maxBytes: 3500, sentAt: SENT_AT });
    const body = requestBody('analytics', batch.map((entry) => entry.event), SENT_AT);
    assert.equal(batch.length, 3);
    assert.ok(utf8Length(body) <= 3500);
    const tooBig = takeBatch(items, { kind: 'analytics', maxCount: 20, maxBytes: 10, sentAt: SENT_AT });
    assert.equal(tooBig.length, 1);
  });
});

describe('planChunks (unload flush within the keepalive budget)', () => {
  it('computes each chunk body size exactly, and the sum stays within the budget', () => {
    const items = [];
    for (let index = 0; index < 200; index += 1) items.push(item(index, { padding: 500, kind: index % 3 ? 'analytics' : 'track' }));
    const { chunks, rest } = planChunks(items, { budgetBytes: KEEPALIVE_BUDGET_BYTES, sentAt: SENT_AT });
    let total = 0;
    for (const chunk of chunks) {
      const body = requestBody(chunk.kind, chunk.items.map((entry) => entry.event), SENT_AT);
      assert.equal(utf8Length(body), chunk.bytes, 'bytes as sent');
      assert.ok(chunk.items.every((entry) => entry.kind === chunk.kind), 'one endpoint per chunk');
      total += chunk.bytes;
    }
    assert.ok(total <= KEEPALIVE_BUDGET_BYTES, `${total} bytes in flight`);
    assert.ok(rest.length > 0, '200 events of ~400 bytes on average do not fit 64 KiB: the rest stays queued');
    assert.equal(chunks.reduce((count, chunk) => count + chunk.items.length, 0) + rest.length, items.length);
  });

  it('counts bytes, not characters (UTF-8)', () => {
    const wide = { kind: 'analytics', event: { eventId: 'id-1', timestamp: SENT_AT, path: '/€€€€' } };
    const { chunks } = planChunks([wide], { budgetBytes: 1000, sentAt: SENT_AT });
    assert.equal(chunks[0].bytes, utf8Length(requestBody('analytics', [wide.event], SENT_AT)));
    assert.ok(chunks[0].bytes > requestBody('analytics', [wide.event], SENT_AT).length);
  });

  it('keeps the order within an endpoint and splits at maxCount', () => {
    const items = Array.from({ length: 7 }, (_, index) => item(index));
    const { chunks, rest } = planChunks(items, { budgetBytes: 1e6, maxCount: 3, sentAt: SENT_AT });
    assert.deepEqual(
      chunks.map((chunk) => chunk.items.map(eventIdOf)),
      [['id-0', 'id-1', 'id-2'], ['id-3', 'id-4', 'id-5'], ['id-6']],
    );
    assert.deepEqual(rest, []);
  });

  it('sends nothing when the budget is already used by requests in flight', () => {
    const { chunks, rest } = planChunks([item(1)], { budgetBytes: 20, sentAt: SENT_AT });
    assert.deepEqual(chunks, []);
    assert.equal(rest.length, 1);
  });
});

describe('nextSession', () => {
  const thirtyMinutes = 30 * 60 * 1000;
  const makeId = () => 'new-session';

  it('keeps the session while active, and refreshes its last activity', () => {
    const stored = { id: 'session-1', lastSeen: 1_000_000 };
    assert.deepEqual(nextSession(stored, 1_000_000 + thirtyMinutes, thirtyMinutes, makeId), {
      id: 'session-1',
      lastSeen: 1_000_000 + thirtyMinutes,
      isNew: false,
    });
  });

  it('starts a new one after 30 idle minutes, or when nothing usable is stored', () => {
    const stored = { id: 'session-1', lastSeen: 1_000_000 };
    assert.equal(nextSession(stored, 1_000_001 + thirtyMinutes, thirtyMinutes, makeId).id, 'new-session');
    assert.equal(nextSession(null, 5, thirtyMinutes, makeId).isNew, true);
    assert.equal(nextSession({ id: 7 }, 5, thirtyMinutes, makeId).id, 'new-session');
  });
});

describe('monotonicNow', () => {
  it('never repeats a millisecond, so events of one tab keep their call order', () => {
    assert.equal(monotonicNow(100, 200), 200);
    assert.equal(monotonicNow(200, 200), 201);
    assert.equal(monotonicNow(250, 200), 251);
  });
});

describe('createViewTimer (seed 000: 50 % visible for 1 s)', () => {
  it('reports nothing for a span shorter than minDuration', () => {
    const timer = createViewTimer({ threshold: 0.5, minDuration: 1000 });
    assert.equal(timer.update(0.6, true, 0), null);
    assert.equal(timer.update(0.1, true, 300), null);
    assert.equal(timer.reported, false);
  });

  it('reports one view with the visible duration when the element leaves view', () => {
    const timer = createViewTimer({ threshold: 0.5, minDuration: 1000 });
    timer.update(0.5, true, 1000);
    timer.update(0.8, true, 1500); // still visible: the span goes on
    assert.deepEqual(timer.update(0.2, true, 2500), { duration: 1500 });
    timer.update(0.9, true, 3000);
    assert.equal(timer.update(0, true, 9000), null, 'once per element');
  });

  it('below the threshold is not visible; a hidden page ends the span', () => {
    const timer = createViewTimer({ threshold: 0.5, minDuration: 1000 });
    timer.update(0.4, true, 0);
    assert.equal(timer.update(0, true, 5000), null);
    timer.update(0.7, true, 6000);
    assert.deepEqual(timer.update(0.7, false, 7200), { duration: 1200 });
  });

  it('end() reports a qualifying span in progress (element removed, page unloaded)', () => {
    const timer = createViewTimer({ threshold: 0.5, minDuration: 1000 });
    timer.update(1, true, 0);
    assert.deepEqual(timer.end(1000), { duration: 1000 });
    assert.equal(timer.end(2000), null);
  });
});

describe('scrollDepthPercent', () => {
  it('is the part of the element above the viewport bottom', () => {
    assert.equal(scrollDepthPercent({ top: 800, height: 400 }, 800), 0);
    assert.equal(scrollDepthPercent({ top: 500, height: 400 }, 800), 75);
    assert.equal(scrollDepthPercent({ top: -100, height: 400 }, 800), 100);
    assert.equal(scrollDepthPercent({ top: 0, height: 0 }, 800), 0);
  });
});

describe('cookies', () => {
  it('writes a first-party, script-readable cookie and reads it back', () => {
    const id = '3f2b8c1e-9d4a-4b6f-8e2d-1a2b3c4d5e6f';
    assert.equal(cookieAssignment('aid', id, 60, false), `aid=${id}; Path=/; Max-Age=60; SameSite=Lax`);
    assert.ok(cookieAssignment('aid', id, 60, true).endsWith('; Secure'));
    assert.equal(readCookie(`sid=abc; aid=${id}; other=1`, 'aid'), id);
    assert.equal(readCookie('said=1', 'aid'), null);
    assert.equal(readCookie('', 'aid'), null);
  });
});

class QuotaStorage {
  // the Storage interface with a quota, as browsers implement it
  constructor(quota) {
    this.quota = quota;
    this.map = new Map();
  }
  get length() {
    return this.map.size;
  }
  key(index) {
    return [...this.map.keys()][index] ?? null;
  }
  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  setItem(key, value) {
    let used = value.length;
    for (const [other, text] of this.map) if (other !== key) used += text.length;
    if (used > this.quota) throw new Error('QuotaExceededError');
    this.map.set(key, String(value));
  }
  removeItem(key) {
    this.map.delete(key);
  }
}

describe('createStorage', () => {
  it('stores JSON under its prefix and lists names', () => {
    const backend = new QuotaStorage(10_000);
    const storage = createStorage(backend, 'ia');
    assert.equal(storage.set('q.tab-1', [1, 2]), true);
    storage.set('q.tab-2', []);
    storage.set('session', { id: 's' });
    backend.setItem('other-app', 'x');
    assert.deepEqual(storage.get('q.tab-1'), [1, 2]);
    assert.deepEqual(storage.names('q.').sort(), ['q.tab-1', 'q.tab-2']);
    storage.remove('q.tab-1');
    assert.equal(storage.get('q.tab-1'), null);
  });

  it('says when the browser refused a write, and survives garbage', () => {
    const backend = new QuotaStorage(50);
    const storage = createStorage(backend, 'ia');
    assert.equal(storage.set('big', 'x'.repeat(100)), false);
    backend.setItem('ia.broken', '{not json');
    assert.equal(storage.get('broken'), null);
  });

  it('works in memory when storage is unavailable', () => {
    const throwing = {
      getItem() {
        throw new Error('SecurityError');
      },
    };
    const storage = createStorage(throwing, 'ia');
    assert.equal(storage.persistent, false);
    storage.set('a', 1);
    assert.equal(storage.get('a'), 1);
    assert.deepEqual(createStorage(null, 'ia').names('q.'), []);
  });
});

describe('createAnalytics outside a browser', () => {
  it('is inert (server-side rendering): calls return null and start nothing', () => {
    const analytics = createAnalytics({ flushInterval: 10 });
    assert.equal(analytics.trackPageView('/'), null);
    assert.equal(analytics.trackClick('post-1', { source: 'feed' }), null);
    assert.equal(typeof analytics.observeViews(null, { postId: 'p' }), 'function');
    analytics.shutdown();
  });
});
