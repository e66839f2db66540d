/**
 * Browser SDK of the interaction pipeline (SPEC §10): the client half of both source documents.
 *
 * A dependency-free ES module; nothing happens on import. `createAnalytics(options)` returns a
 * client with the seeds' calls (seed 004's `trackPageView`, `trackPerfumeView`, `trackSearch`, …;
 * seed 000's `trackClick`, `trackLike`, `trackShare`, `observeViews`). Every event gets a client
 * `eventId`, `timestamp`, `sessionId` and `anonymousId` when it is tracked, and waits in a
 * persisted, bounded queue (localStorage, one key per tab) until the service acknowledged it.
 *
 * The pure building blocks (queue, backoff, chunking, session, view timing) are exported below the
 * client for `node --test`; the client itself only wires them to the browser.
 */

/** Browsers allow 64 KiB of `keepalive` request bodies in flight per page (the Fetch standard). */
export const KEEPALIVE_BUDGET_BYTES = 64 * 1024;
/** The service takes at most 1 MiB and 500 events per request (SPEC §2); stay well under it. */
export const MAX_REQUEST_BYTES = 512 * 1024;
export const MAX_EVENTS_PER_REQUEST = 500;
/** The first-party cookie the service sets with the anonymous id (SPEC §10). */
export const ANONYMOUS_ID_COOKIE = 'aid';
const ANONYMOUS_ID_COOKIE_MAX_AGE_S = 365 * 24 * 3600;
/** Without Web Locks (insecure contexts) a tab proves it is alive with a heartbeat this often. */
const HEARTBEAT_MS = 5000;
/** …and its queue is adopted by another tab this long after its last heartbeat. Background tabs
 * may run timers only once a minute, so this is well above a minute. */
const ORPHAN_AFTER_MS = 3 * 60 * 1000;
/** A view whose stop() is followed this soon by a start of the same view is one view (React's
 * StrictMode and re-renders unmount and mount effects back to back). */
const VIEW_RESUME_MS = 50;

export const DEFAULT_OPTIONS = Object.freeze({
  endpoint: '/api/analytics',
  trackEndpoint: null, // null: `track` next to `endpoint` (/api/track by default)
  privacyEndpoint: null, // null: `privacy` next to `endpoint` (/api/privacy/opt-out, /opt-in)
  flushInterval: 5000,
  maxBatchSize: 20,
  maxQueueSize: 1000,
  getToken: null,
  sessionTimeoutMinutes: 30,
  respectGlobalPrivacyControl: true,
  onError: null,
  autoPageViews: false,
  autoStart: true,
  storagePrefix: 'ia',
  minRetryDelay: 1000,
  maxRetryDelay: 60000,
});

// --- pure building blocks -------------------------------------------------------------------

const encoder = new TextEncoder();

/** Bytes of `text` as UTF-8: what a request body weighs against the keepalive budget. */
export function utf8Length(text) {
  return encoder.encode(text).length;
}

/** A random (version 4) UUID; `crypto.randomUUID` exists only in secure contexts. */
export function uuid(cryptoObject = globalThis.crypto) {
  if (typeof cryptoObject?.randomUUID === 'function') return cryptoObject.randomUUID();
  const bytes = cryptoObject.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value) {
  return typeof value === 'string' && UUID_PATTERN.test(value) && !/^[0-]+$/.test(value);
}

/** `Retry-After` (delay-seconds or an HTTP-date) → milliseconds to wait, or null when absent/unusable. */
export function parseRetryAfter(value, nowMs = Date.now()) {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3},? /.test(text)) return null; // an HTTP-date starts with the day's name
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * Delay before retry number `failures` (1, 2, …): exponential from `minMs`, capped at `maxMs`,
 * with "equal jitter" (half fixed, half random) so that many browsers recovering from one outage
 * do not come back in step, and no retry is ever immediate.
 */
export function backoffDelay(failures, { minMs = 1000, maxMs = 60000 } = {}, random = Math.random) {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, Math.min(failures, 32) - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/**
 * What a response status means for the events of the request:
 * - `delivered`: 2xx, the events are stored (but those listed in `errors`, which are refused);
 * - `unauthorized`: 401, the Bearer token was refused;
 * - `retry_after`: 429/503, wait for `Retry-After`;
 * - `backoff`: network error (0), 408, 403/404 (misconfiguration a deploy fixes), other 5xx: retry later;
 * - `refused`: any other 4xx: this request can never succeed as it is.
 */
export function classifyStatus(status) {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 401) return 'unauthorized';
  if (status === 429 || status === 503) return 'retry_after';
  if (status === 0 || status === 403 || status === 404 || status === 408 || status >= 500) return 'backoff';
  return 'refused';
}

/** The event id of a queue item, whichever contract its event follows. */
export function eventIdOf(item) {
  return item.event.eventId ?? item.event.event_id;
}

/** Append `items` keeping at most `maxSize`, oldest dropped first: `{queue, dropped}`. */
export function appendBounded(queue, items, maxSize) {
  const all = queue.concat(items);
  const overflow = Math.max(0, all.length - maxSize);
  return { queue: all.slice(overflow), dropped: all.slice(0, overflow) };
}

/** `queue` without the items whose event ids are in `ids`. */
export function withoutEvents(queue, ids) {
  const gone = new Set(ids);
  return queue.filter((item) => !gone.has(eventIdOf(item)));
}

/** Merge another tab's queue into this one: each event once, in client-timestamp order, bounded. */
export function mergeQueues(own, other, maxSize) {
  const seen = new Set(own.map(eventIdOf));
  const extra = [];
  for (const item of other) {
    const id = eventIdOf(item);
    if (!seen.has(id)) {
      seen.add(id);
      extra.push(item);
    }
  }
  const merged = own.concat(extra);
  // ISO-8601 UTC timestamps of one format sort as text; the sort is stable for equal ones
  merged.sort((a, b) => (a.event.timestamp < b.event.timestamp ? -1 : a.event.timestamp > b.event.timestamp ? 1 : 0));
  return appendBounded([], merged, maxSize);
}

/** The request body of one batch: `{events}` for /api/analytics, `{interactions}` for /api/track. */
export function requestBody(kind, events, sentAt) {
  return JSON.stringify(kind === 'track' ? { interactions: events, sentAt } : { events, sentAt });
}

/** Bytes of `requestBody(kind, [], sentAt)`: a batch weighs this plus its events and the commas. */
function envelopeBytes(kind, sentAt) {
  return utf8Length(requestBody(kind, [], sentAt));
}

/**
 * The first items (in order) of one batch: at most `maxCount`, its body at most `maxBytes`. The
 * first item is always taken, so an oversized event is sent alone (and refused by the service,
 * which reports it) rather than blocking the queue.
 */
export function takeBatch(items, { kind, maxCount, maxBytes, sentAt }) {
  const batch = [];
  let bytes = envelopeBytes(kind, sentAt);
  for (const item of items) {
    const itemBytes = utf8Length(JSON.stringify(item.event)) + (batch.length ? 1 : 0);
    if (batch.length && (batch.length >= maxCount || bytes + itemBytes > maxBytes)) break;
    batch.push(item);
    bytes += itemBytes;
  }
  return batch;
}

/**
 * Split queued items into requests whose bodies add up to at most `budgetBytes` (the keepalive
 * budget left on this page): `{chunks: [{kind, items, bytes}], rest}`. Items keep their order
 * within a kind; what does not fit is `rest` and stays persisted for the next page.
 */
export function planChunks(items, { budgetBytes, maxCount = MAX_EVENTS_PER_REQUEST, sentAt }) {
  const chunks = [];
  const rest = [];
  const open = new Map(); // kind → the chunk being filled
  let used = 0;
  for (const item of items) {
    const itemBytes = utf8Length(JSON.stringify(item.event));
    const chunk = open.get(item.kind);
    if (chunk && chunk.items.length < maxCount && used + itemBytes + 1 <= budgetBytes) {
      chunk.items.push(item);
      chunk.bytes += itemBytes + 1;
      used += itemBytes + 1;
      continue;
    }
    const fresh = envelopeBytes(item.kind, sentAt) + itemBytes;
    if (used + fresh <= budgetBytes) {
      const started = { kind: item.kind, items: [item], bytes: fresh };
      chunks.push(started);
      open.set(item.kind, started);
      used += fresh;
    } else {
      rest.push(item);
    }
  }
  return { chunks, rest };
}

/** The stored session if it saw activity within `timeoutMs`, else a new one; `lastSeen` becomes now. */
export function nextSession(stored, nowMs, timeoutMs, makeId = uuid) {
  const usable =
    stored && typeof stored.id === 'string' && typeof stored.lastSeen === 'number' && nowMs - stored.lastSeen <= timeoutMs;
  return usable ? { id: stored.id, lastSeen: nowMs, isNew: false } : { id: makeId(), lastSeen: nowMs, isNew: true };
}

/** Milliseconds since the epoch, strictly after `previous`: events of one tab keep their call order. */
export function monotonicNow(previous, nowMs = Date.now()) {
  return nowMs > previous ? nowMs : previous + 1;
}

/**
 * Seed 000's view rule for one element: a view counts once the element was at least `threshold`
 * visible for `minDuration` without interruption; it is reported (once) with that span's duration
 * when the span ends (out of view, page hidden, element gone).
 */
export function createViewTimer({ threshold = 0.5, minDuration = 1000 } = {}) {
  let since = null;
  let reported = false;
  const timer = {
    get reported() {
      return reported;
    },
    /** The element's visible ratio changed (or the page's visibility); returns the view when one ended. */
    update(ratio, pageVisible, now) {
      if (reported) return null;
      // intersection ratios land a hair under the threshold they were observed at
      const visible = pageVisible && ratio > 0 && ratio >= threshold - 0.001;
      if (visible) {
        if (since === null) since = now;
        return null;
      }
      return timer.end(now);
    },
    /** The span ends now; returns `{duration}` when it qualified as the view. */
    end(now) {
      if (reported || since === null) return null;
      const duration = now - since;
      since = null;
      if (duration < minDuration) return null;
      reported = true;
      return { duration: Math.round(duration) };
    },
  };
  return timer;
}

/** How far down an element has been seen, in percent: the part above the viewport's bottom edge. */
export function scrollDepthPercent(rect, viewportHeight) {
  if (!rect || !(rect.height > 0)) return 0;
  const seen = (viewportHeight - rect.top) / rect.height;
  return Math.round(Math.min(1, Math.max(0, seen)) * 100);
}

/** `value` for `document.cookie`. */
export function cookieAssignment(name, value, maxAgeS, secure) {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', `Max-Age=${maxAgeS}`, 'SameSite=Lax'];
  if (secure) parts.push('Secure');
  return parts.join('; ');
}

/** The value of cookie `name` in a `document.cookie` string, or null. */
export function readCookie(cookieString, name) {
  for (const part of (cookieString || '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) {
      try {
        return decodeURIComponent(value.join('='));
      } catch {
        return null;
      }
    }
  }
  return null;
}

// --- storage ----------------------------------------------------------------------------------

/** JSON values under `prefix.` in a Storage; an in-memory map when storage is missing or refuses. */
export function createStorage(backend, prefix) {
  const memory = new Map();
  let store = backend;
  const full = (name) => `${prefix}.${name}`;
  const raw = {
    get: (key) => (store ? store.getItem(key) : (memory.get(key) ?? null)),
    set: (key, text) => (store ? store.setItem(key, text) : memory.set(key, text)),
    remove: (key) => (store ? store.removeItem(key) : memory.delete(key)),
    keys: () => {
      if (!store) return [...memory.keys()];
      const keys = [];
      for (let index = 0; index < store.length; index += 1) keys.push(store.key(index));
      return keys;
    },
  };
  try {
    store?.getItem(full('probe'));
  } catch {
    store = null; // storage disabled by the user or the browser: keep working in memory
  }
  return {
    get persistent() {
      return store !== null && store !== undefined;
    },
    get(name) {
      try {
        const text = raw.get(full(name));
        return text === null ? null : JSON.parse(text);
      } catch {
        return null;
      }
    },
    /** false when the browser refused the write (quota) */
    set(name, value) {
      try {
        raw.set(full(name), JSON.stringify(value));
        return true;
      } catch {
        return false;
      }
    },
    remove(name) {
      try {
        raw.remove(full(name));
      } catch {
        // nothing to do: the value simply stays
      }
    },
    /** names (without the prefix) that start with `start` */
    names(start) {
      try {
        const head = full(start);
        return raw
          .keys()
          .filter((key) => key && key.startsWith(head))
          .map((key) => key.slice(prefix.length + 1));
      } catch {
        return [];
      }
    },
  };
}

// --- the client -------------------------------------------------------------------------------

const hasWindow = typeof window !== 'undefined' && typeof document !== 'undefined';

/** `relative` resolved against `base` (itself resolved against the page's address). */
function resolveUrl(relative, base) {
  if (!hasWindow) return relative;
  try {
    return new URL(relative, new URL(base ?? window.location.href, window.location.href)).href;
  } catch {
    return relative;
  }
}

const MAX_URL_LENGTH = 2048; // SPEC §1: longer paths and referrers are refused

function pathNow() {
  return hasWindow ? window.location.pathname.slice(0, MAX_URL_LENGTH) : '/';
}

function withoutUndefined(object) {
  const result = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined) result[key] = value;
  return result;
}

const keepaliveSupported = (() => {
  try {
    return typeof Request !== 'undefined' && 'keepalive' in new Request('data:,');
  } catch {
    return false;
  }
})();

class AnalyticsClient {
  constructor(options) {
    this.options = { ...DEFAULT_OPTIONS, ...withoutUndefined(options || {}) };
    const { endpoint } = this.options;
    this.urls = {
      analytics: resolveUrl(endpoint, undefined),
      track: resolveUrl(this.options.trackEndpoint || 'track', endpoint),
      privacy: resolveUrl(this.options.privacyEndpoint || 'privacy', endpoint).replace(/\/$/, ''),
    };
    this.tabId = uuid();
    this.storage = createStorage(hasWindow ? safeLocalStorage() : null, this.options.storagePrefix);
    this.started = false;
    this.ready = false; // this tab owns its queue key (holds its lock): until then events wait in memory
    this.memoryQueue = [];
    this.inflight = new Set();
    this.inflightKeepaliveBytes = 0;
    this.failures = 0;
    this.splitLimit = null;
    this.lastTimestamp = 0;
    this.cachedToken = null;
    this.refusedToken = null;
    this.flushTimer = null;
    this.flushDueAt = Infinity;
    this.flushing = null;
    this.flushAgain = null;
    this.views = new Set();
    this.listeners = [];
    this.intervals = [];
    this.releaseTabLock = null;
    this.claim = null;
    this.lastPageViewPath = null;
    this.referrer = hasWindow ? document.referrer.slice(0, MAX_URL_LENGTH) || undefined : undefined;
    this.restoreHistory = null;
  }

  // --- lifecycle ------------------------------------------------------------------------------

  /** Start timers, listeners and the tab's claim on its queue (createAnalytics does it by default). */
  start() {
    if (this.started || !hasWindow) return this;
    this.started = true;
    this.listen(document, 'visibilitychange', () => this.onVisibilityChange());
    this.listen(window, 'pagehide', () => this.onPageHide());
    this.listen(window, 'pageshow', (event) => this.onPageShow(event));
    this.listen(window, 'online', () => this.scheduleFlush(0));
    this.intervals.push(setInterval(() => this.housekeeping(), Math.max(1000, this.options.flushInterval)));
    this.claimQueue();
    if (this.options.autoPageViews) this.watchHistory();
    this.token().catch(() => null); // warm the token cache for the unload flush
    return this;
  }

  /** Remove timers, listeners and the claim on the queue: what was queued stays persisted for the next
   * page (or start()); events tracked after this wait in memory until start(). */
  shutdown() {
    if (!this.started) return;
    this.started = false;
    for (const [target, type, handler] of this.listeners) target.removeEventListener(type, handler);
    this.listeners = [];
    for (const id of this.intervals) clearInterval(id);
    this.intervals = [];
    clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.flushDueAt = Infinity;
    this.restoreHistory?.();
    this.restoreHistory = null;
    this.giveUpQueue();
  }

  listen(target, type, handler) {
    target.addEventListener(type, handler);
    this.listeners.push([target, type, handler]);
  }

  /** Take ownership of this tab's queue key: with Web Locks, a lock held as long as the page lives. */
  claimQueue() {
    const locks = navigator.locks;
    if (!locks) {
      this.beat();
      this.becomeReady();
      return;
    }
    // a claim given up before its lock was granted (shutdown, pagehide, StrictMode's quick
    // stop and start) must not take the lock later: it would hold it for the page's whole life
    const claim = {};
    this.claim = claim;
    locks
      .request(this.lockName(this.tabId), () => {
        if (claim !== this.claim || !this.started) return undefined;
        this.becomeReady();
        return new Promise((resolve) => {
          this.releaseTabLock = resolve;
        });
      })
      .catch(() => this.becomeReady());
  }

  becomeReady() {
    if (this.ready) return;
    this.ready = true;
    if (this.memoryQueue.length) {
      const pending = this.memoryQueue;
      this.memoryQueue = [];
      this.append(pending);
    }
    this.adoptOrphans();
    if (this.readQueue().length) this.scheduleFlush(Math.min(1000, this.options.flushInterval));
  }

  /** Let other tabs (or the next page) adopt this tab's queue; events tracked later wait in memory. */
  giveUpQueue() {
    if (this.ready && !navigator.locks) this.storage.set(`hb.${this.tabId}`, 0);
    this.ready = false;
    this.claim = null;
    this.releaseTabLock?.();
    this.releaseTabLock = null;
  }

  lockName(tabId) {
    return `${this.options.storagePrefix}.tab.${tabId}`;
  }

  beat() {
    if (!navigator.locks) this.storage.set(`hb.${this.tabId}`, Date.now());
  }

  housekeeping() {
    this.beat();
    this.adoptOrphans();
    if (this.readQueue().length) this.scheduleFlush(this.options.flushInterval);
  }

  /** Queues of tabs that are gone (closed, reloaded, navigated away) are taken over by this tab. */
  adoptOrphans() {
    if (!this.ready || this.blocked()) return;
    for (const name of this.storage.names('q.')) {
      const tabId = name.slice(2);
      if (tabId === this.tabId) continue;
      if (navigator.locks) {
        navigator.locks
          .request(this.lockName(tabId), { ifAvailable: true }, (lock) => {
            if (lock && this.ready) this.adopt(tabId); // granted: no page holds that tab's lock
          })
          .catch(() => null);
      } else {
        const heartbeat = this.storage.get(`hb.${tabId}`);
        if (typeof heartbeat !== 'number' || Date.now() - heartbeat > ORPHAN_AFTER_MS) this.adopt(tabId);
      }
    }
  }

  adopt(tabId) {
    const other = this.storage.get(`q.${tabId}`);
    if (Array.isArray(other) && other.length) {
      const { queue, dropped } = mergeQueues(this.readQueue(), other, this.options.maxQueueSize);
      this.writeQueue(queue); // written before the other key goes: a crash between keeps both copies
      this.reportDropped(dropped, 'queue_full');
      this.scheduleFlush(0);
    }
    this.storage.remove(`q.${tabId}`);
    this.storage.remove(`hb.${tabId}`);
  }

  // --- privacy --------------------------------------------------------------------------------

  /** Opted out (in this browser) or Global Privacy Control on: nothing is queued or sent. */
  blocked() {
    if (this.options.respectGlobalPrivacyControl && hasWindow && navigator.globalPrivacyControl === true) return true;
    return this.storage.get('optout') === true;
  }

  /** Stop tracking in this browser: queued events are discarded and the ids forgotten; with a token
   * the user is also opted out at the service (their later identified events are dropped there). */
  async optOut() {
    this.storage.set('optout', true);
    for (const view of this.views) view.cancel();
    this.memoryQueue = [];
    for (const name of this.storage.names('q.')) this.storage.remove(name);
    this.storage.remove('anonymousId');
    this.storage.remove('session');
    this.writeAnonymousIdCookie(null);
    await this.privacyRequest('opt-out');
  }

  /** Track again (a new anonymous id and session); with a token the service opts the user back in. */
  async optIn() {
    this.storage.remove('optout');
    await this.privacyRequest('opt-in');
  }

  async privacyRequest(action) {
    const token = this.usable(await this.token()) ? this.cachedToken : null;
    if (!token) return false;
    try {
      const response = await fetch(`${this.urls.privacy}/${action}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        credentials: 'include',
        keepalive: true,
      });
      return response.ok;
    } catch {
      return false;
    }
  }

  // --- identity -------------------------------------------------------------------------------

  anonymousId() {
    let id = this.storage.get('anonymousId');
    if (!isUuid(id)) {
      // Safari purges script-written storage after 7 days without a visit; the service's cookie stays
      const fromCookie = hasWindow ? readCookie(document.cookie, ANONYMOUS_ID_COOKIE) : null;
      id = isUuid(fromCookie) ? fromCookie.toLowerCase() : uuid();
      this.storage.set('anonymousId', id);
    }
    return id;
  }

  writeAnonymousIdCookie(id) {
    if (!hasWindow) return;
    try {
      document.cookie = cookieAssignment(
        ANONYMOUS_ID_COOKIE,
        id ?? '',
        id ? ANONYMOUS_ID_COOKIE_MAX_AGE_S : 0,
        window.location.protocol === 'https:',
      );
    } catch {
      // cookies disabled: localStorage still has the id
    }
  }

  sessionId(nowMs) {
    const session = nextSession(this.storage.get('session'), nowMs, this.options.sessionTimeoutMinutes * 60000);
    this.storage.set('session', { id: session.id, lastSeen: session.lastSeen });
    return session.id;
  }

  /** Logout: a new anonymous id and session, and the token is asked for again. */
  reset() {
    const id = uuid();
    this.storage.set('anonymousId', id);
    this.writeAnonymousIdCookie(id);
    this.storage.remove('session');
    this.cachedToken = null;
    this.refusedToken = null;
  }

  /** Login: send USER_IDENTIFIED with the user's token, linking this browser's anonymous id to them. */
  identify() {
    this.refusedToken = null;
    const eventId = this.enqueueAnalytics({ eventType: 'USER_IDENTIFIED', path: pathNow() }, true);
    if (eventId && this.started) this.flush();
    return eventId;
  }

  async token() {
    if (typeof this.options.getToken !== 'function') return null;
    try {
      const token = await this.options.getToken();
      this.cachedToken = typeof token === 'string' && token ? token : null;
    } catch {
      this.cachedToken = null;
    }
    return this.cachedToken;
  }

  usable(token) {
    return Boolean(token) && token !== this.refusedToken;
  }

  // --- tracking -------------------------------------------------------------------------------

  /** Stamp and queue one event; returns its eventId, or null when nothing may be tracked. */
  enqueue(kind, fields, needsToken) {
    if (!hasWindow || this.blocked()) return null;
    const now = monotonicNow(this.lastTimestamp);
    this.lastTimestamp = now;
    const eventId = uuid();
    const stamps =
      kind === 'track'
        ? { event_id: eventId, timestamp: new Date(now).toISOString(), session_id: this.sessionId(now), anonymous_id: this.anonymousId() }
        : { eventId, timestamp: new Date(now).toISOString(), sessionId: this.sessionId(now), anonymousId: this.anonymousId() };
    const event = withoutUndefined({ ...fields, ...stamps, referrer: fields.referrer ?? this.referrer });
    this.append([needsToken ? { kind, needsToken: true, event } : { kind, event }]);
    this.scheduleFlush(this.options.flushInterval); // a no-op when a flush is due sooner
    if (this.started && this.hasFullBatch()) this.flush({ fullBatchesOnly: true });
    return eventId;
  }

  enqueueAnalytics(event, needsToken = false) {
    return this.enqueue('analytics', { ...event, path: event.path ?? pathNow() }, needsToken);
  }

  /** Seed 000's interactions go to /api/track, which needs a user: they wait for a token. */
  enqueueInteraction(postId, interactionType, metadata) {
    return this.enqueue(
      'track',
      { post_id: postId, interaction_type: interactionType, metadata: metadata || undefined, path: pathNow() },
      true,
    );
  }

  /** Seed 004's event shape: `{eventType, eventCategory?, path, perfumeId?, houseId?, eventData?, duration?, value?}`. */
  track(event) {
    return this.enqueueAnalytics(event || {});
  }

  trackPageView(path, perfumeId) {
    return this.enqueueAnalytics({ eventType: 'PAGE_VIEW', path, perfumeId });
  }

  trackPerfumeView(perfumeId, path, source, extra = {}) {
    return this.enqueueAnalytics({
      eventType: 'PERFUME_VIEW',
      path,
      perfumeId,
      duration: extra.duration,
      eventData: withoutUndefined({ ...extra.eventData, source }),
    });
  }

  trackSearch(query, filters, resultsCount, path, resultPerfumeIds) {
    return this.enqueueAnalytics({
      eventType: 'SEARCH_PERFORMED',
      path,
      eventData: withoutUndefined({ query, filters, resultsCount, resultPerfumeIds }),
    });
  }

  trackWishlistAdd(perfumeId, path, source) {
    return this.enqueueAnalytics({ eventType: 'WISHLIST_ADD', path, perfumeId, eventData: withoutUndefined({ source }) });
  }

  trackWishlistRemove(perfumeId, path, source) {
    return this.enqueueAnalytics({ eventType: 'WISHLIST_REMOVE', path, perfumeId, eventData: withoutUndefined({ source }) });
  }

  trackCollectionAdd(perfumeId, path) {
    return this.enqueueAnalytics({ eventType: 'COLLECTION_ADD', path, perfumeId });
  }

  /** Seed 004's `trackRating({perfumeId, ratings, timeToComplete, path})`; the value is `ratings.overall`. */
  trackRating({ perfumeId, ratings = {}, timeToComplete, path } = {}) {
    return this.enqueueAnalytics({
      eventType: 'RATING_COMPLETED',
      path,
      perfumeId,
      value: ratings.overall,
      eventData: withoutUndefined({ ratings, timeToComplete }),
    });
  }

  trackReview(perfumeId, path, eventData) {
    return this.enqueueAnalytics({ eventType: 'REVIEW_SUBMITTED', path, perfumeId, eventData });
  }

  trackClick(postId, metadata) {
    return this.enqueueInteraction(postId, 'click', metadata);
  }

  trackLike(postId, metadata) {
    return this.enqueueInteraction(postId, 'like', metadata);
  }

  trackShare(postId, metadata) {
    return this.enqueueInteraction(postId, 'share', metadata);
  }

  /** A page view when the path changed since the last one (SPA navigation, or the first page). */
  trackPageViewIfNew(path = pathNow()) {
    if (path === this.lastPageViewPath) return null;
    const previous = this.lastPageViewPath;
    this.lastPageViewPath = path;
    if (previous !== null) this.referrer = window.location.origin + previous;
    return this.trackPageView(path);
  }

  /** autoPageViews: the first page and every history.pushState/replaceState/popstate that changes the path. */
  watchHistory() {
    const history = window.history;
    const original = { pushState: history.pushState, replaceState: history.replaceState };
    const changed = () => queueMicrotask(() => this.trackPageViewIfNew());
    for (const name of Object.keys(original)) {
      history[name] = function patched(...args) {
        const result = original[name].apply(this, args);
        changed();
        return result;
      };
    }
    this.listen(window, 'popstate', changed);
    this.restoreHistory = () => Object.assign(history, original);
    this.trackPageViewIfNew();
  }

  // --- views ----------------------------------------------------------------------------------

  /**
   * Seed 000's view tracking: one view once `element` was at least `threshold` visible for
   * `minDuration` ms, sent with the visible duration (and scroll depth for posts) when it leaves
   * view, the page is hidden or the element goes away. Returns a function that stops observing.
   */
  observeViews(element, { postId, perfumeId, threshold = 0.5, minDuration = 1000, source } = {}) {
    if (!hasWindow || typeof IntersectionObserver === 'undefined' || !element || !(postId || perfumeId)) return () => {};
    const timer = createViewTimer({ threshold, minDuration });
    let ratio = 0;
    let depth = 0;
    const emit = (view) => {
      if (!view) return;
      stop();
      if (postId) this.enqueueInteraction(postId, 'view', withoutUndefined({ duration: view.duration, scroll_depth: depth, source }));
      else this.trackPerfumeView(perfumeId, pathNow(), source, { duration: view.duration });
    };
    const thresholds = [...new Set([0, 0.25, 0.5, 0.75, 1, threshold])].sort();
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          ratio = entry.isIntersecting ? entry.intersectionRatio : 0;
          const viewport = entry.rootBounds ? entry.rootBounds.bottom : window.innerHeight;
          if (ratio > 0) depth = Math.max(depth, scrollDepthPercent(entry.boundingClientRect, viewport));
          emit(timer.update(ratio, document.visibilityState === 'visible', performance.now()));
        }
      },
      { threshold: thresholds },
    );
    const view = {
      pageHidden: () => emit(timer.update(0, false, performance.now())),
      pageVisible: () => emit(timer.update(ratio, true, performance.now())),
      cancel: () => stop(),
    };
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      observer.disconnect();
      this.views.delete(view);
    };
    view.end = () => emit(timer.end(performance.now()));
    this.views.add(view);
    observer.observe(element);
    return () => {
      view.end();
      stop();
    };
  }

  /**
   * A perfume page's view: one PERFUME_VIEW with the time it was shown, sent when `stop()` is
   * called or the page is hidden (seed 004's hook computed this duration and dropped it).
   */
  startPerfumeView(perfumeId, { source, path = pathNow() } = {}) {
    const key = JSON.stringify([perfumeId, source ?? null, path]);
    for (const view of this.views) {
      if (view.key === key && view.resume) return view.resume(); // stopped a moment ago: same view
    }
    const startedAt = performance.now();
    let pendingSend = null;
    let done = false;
    const send = () => {
      if (done) return;
      done = true;
      clearTimeout(pendingSend);
      this.views.delete(view);
      this.trackPerfumeView(perfumeId, path, source, { duration: Math.round(performance.now() - startedAt) });
    };
    const stop = () => {
      if (done || pendingSend) return;
      view.resume = () => {
        clearTimeout(pendingSend);
        pendingSend = null;
        view.resume = null;
        return stop;
      };
      pendingSend = setTimeout(send, VIEW_RESUME_MS);
    };
    const view = {
      key,
      resume: null,
      pageHidden: send,
      pageVisible: () => {},
      end: send,
      cancel: () => {
        done = true;
        clearTimeout(pendingSend);
        this.views.delete(view);
      },
    };
    if (!this.blocked()) this.views.add(view);
    else done = true;
    return stop;
  }

  // --- queue ----------------------------------------------------------------------------------

  readQueue() {
    if (!this.ready) return this.memoryQueue;
    const queue = this.storage.get(`q.${this.tabId}`);
    return Array.isArray(queue) ? queue : [];
  }

  writeQueue(queue) {
    if (!this.ready) {
      this.memoryQueue = queue;
      return;
    }
    const name = `q.${this.tabId}`;
    if (!queue.length) {
      this.storage.remove(name);
      return;
    }
    let kept = queue;
    // the origin's storage is full: keep the newest half, then a quarter…, and report the rest
    while (kept.length && !this.storage.set(name, kept)) kept = kept.length > 1 ? kept.slice(Math.floor(kept.length / 2)) : [];
    if (kept !== queue) this.reportDropped(queue.slice(0, queue.length - kept.length), 'storage_full');
  }

  append(items) {
    const { queue, dropped } = appendBounded(this.readQueue(), items, this.options.maxQueueSize);
    this.writeQueue(queue);
    this.reportDropped(dropped, 'queue_full');
  }

  remove(items) {
    const ids = items.map(eventIdOf);
    for (const id of ids) this.inflight.delete(id);
    this.writeQueue(withoutEvents(this.readQueue(), ids));
  }

  reportError(error) {
    if (typeof this.options.onError !== 'function') return;
    try {
      this.options.onError(error);
    } catch {
      // a failing callback must not stop delivery
    }
  }

  reportDropped(items, reason) {
    if (!items.length) return;
    this.reportError({
      reason,
      message: `${items.length} queued event(s) dropped (${reason.replace('_', ' ')})`,
      events: items.map((item) => item.event),
    });
  }

  // --- delivery -------------------------------------------------------------------------------

  scheduleFlush(delayMs) {
    if (!this.started) return;
    const due = Date.now() + delayMs;
    if (this.flushTimer && this.flushDueAt <= due) return;
    clearTimeout(this.flushTimer);
    this.flushDueAt = due;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flushDueAt = Infinity;
      this.flush();
    }, delayMs);
  }

  pauseRemaining() {
    const until = this.storage.get('retryAt');
    return typeof until === 'number' ? until - Date.now() : 0;
  }

  hasFullBatch() {
    return this.sendable(this.readQueue(), this.cachedToken).length >= this.options.maxBatchSize;
  }

  /**
   * Send everything that can be sent now; resolves when done (or when the service asked to wait).
   * `fullBatchesOnly` (a batch filled up): send full batches, leave the rest to the timer.
   */
  flush({ fullBatchesOnly = false } = {}) {
    if (this.flushing) {
      // one drain at a time; what was asked meanwhile runs after it ('all' wins over 'full')
      this.flushAgain = this.flushAgain === 'all' || !fullBatchesOnly ? 'all' : 'full';
      return this.flushing;
    }
    this.flushing = this.drain(fullBatchesOnly)
      .catch(() => null)
      .finally(() => {
        this.flushing = null;
        const again = this.flushAgain;
        this.flushAgain = null;
        if (again === 'all') this.scheduleFlush(0);
        else if (again === 'full' && this.hasFullBatch()) this.flush({ fullBatchesOnly: true });
      });
    return this.flushing;
  }

  sendable(queue, token) {
    const withToken = this.usable(token);
    return queue.filter((item) => !this.inflight.has(eventIdOf(item)) && (withToken || !item.needsToken));
  }

  async drain(fullBatchesOnly) {
    if (!this.ready || this.blocked()) return;
    this.adoptOrphans();
    let token = await this.token();
    for (;;) {
      const wait = this.pauseRemaining();
      if (wait > 0) {
        this.scheduleFlush(wait);
        return;
      }
      const candidates = this.sendable(this.readQueue(), token);
      if (!candidates.length || this.blocked()) return;
      if (fullBatchesOnly && candidates.length < this.options.maxBatchSize) return;
      const kind = candidates[0].kind;
      const batch = takeBatch(
        candidates.filter((item) => item.kind === kind),
        { kind, maxCount: Math.min(this.splitLimit ?? Infinity, this.options.maxBatchSize, MAX_EVENTS_PER_REQUEST), maxBytes: MAX_REQUEST_BYTES, sentAt: new Date().toISOString() },
      );
      const outcome = await this.deliver(kind, batch, token);
      if (outcome.retryInMs !== undefined) {
        this.scheduleFlush(outcome.retryInMs);
        return;
      }
      if (outcome.token !== undefined) token = outcome.token;
    }
  }

  /** One batch, with seed 000's and 004's token rules; `{retryInMs}` stops the drain. */
  async deliver(kind, items, token) {
    const usedToken = this.usable(token) ? token : null;
    let response = await this.post(kind, items, usedToken);
    if (response.status !== 401 || !usedToken) return this.settle(items, response);
    // the token was refused (expired?): ask for a fresh one and retry once
    const fresh = await this.token();
    if (this.usable(fresh) && fresh !== usedToken) {
      response = await this.post(kind, items, fresh);
      if (response.status !== 401) return { ...this.settle(items, response), token: fresh };
    }
    this.refusedToken = this.usable(fresh) ? fresh : usedToken;
    for (const item of items) this.inflight.delete(eventIdOf(item));
    // /api/analytics events go without the token rather than being lost (the anonymous id keeps them
    // attributable); what needs a user (post interactions, identify) waits for a new token
    const anonymous = items.filter((item) => !item.needsToken);
    if (!anonymous.length) return { token: null };
    return { ...this.settle(anonymous, await this.post(kind, anonymous, null)), token: null };
  }

  /** What a response means for the items that were in its request. */
  settle(items, response) {
    const verdict = classifyStatus(response.status);
    if (verdict === 'delivered') {
      this.failures = 0;
      this.splitLimit = null;
      const rejected = [];
      for (const error of Array.isArray(response.body?.errors) ? response.body.errors : []) {
        const item = items[error?.index];
        if (item) rejected.push({ event: item.event, error: String(error.error) });
      }
      this.remove(items);
      for (const { event, error } of rejected) this.reportError({ reason: 'rejected', message: error, events: [event] });
      return {};
    }
    for (const item of items) this.inflight.delete(eventIdOf(item));
    if (verdict === 'retry_after') {
      this.failures += 1;
      const wait = parseRetryAfter(response.retryAfter) ?? backoffDelay(this.failures, this.retryDelays());
      this.storage.set('retryAt', Date.now() + wait); // shared: every tab of this site waits
      return { retryInMs: wait };
    }
    if (verdict === 'refused') {
      if (items.length > 1) {
        this.splitLimit = Math.ceil(items.length / 2); // halve until the event that causes it is alone
        return {};
      }
      this.splitLimit = null;
      this.remove(items);
      this.reportError({
        reason: 'refused',
        message: `HTTP ${response.status}: ${response.body?.error ?? 'refused'}`,
        events: items.map((item) => item.event),
      });
      return {};
    }
    if (verdict === 'unauthorized') return { retryInMs: this.options.flushInterval }; // the next drain re-asks
    this.failures += 1;
    return { retryInMs: backoffDelay(this.failures, this.retryDelays()) };
  }

  retryDelays() {
    return { minMs: this.options.minRetryDelay, maxMs: this.options.maxRetryDelay };
  }

  /** POST one batch; keepalive when it fits the page's budget, so it survives a navigation. */
  async post(kind, items, token, forceKeepalive = false) {
    const body = requestBody(kind, items.map((item) => item.event), new Date().toISOString());
    const bytes = utf8Length(body);
    const keepalive =
      keepaliveSupported && (forceKeepalive || bytes <= KEEPALIVE_BUDGET_BYTES - this.inflightKeepaliveBytes);
    if (keepalive) this.inflightKeepaliveBytes += bytes;
    for (const item of items) this.inflight.add(eventIdOf(item));
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      const response = await fetch(this.urls[kind], { method: 'POST', headers, body, keepalive, credentials: 'include' });
      let parsed = null;
      try {
        parsed = await response.json();
      } catch {
        parsed = null;
      }
      return { status: response.status, retryAfter: response.headers.get('Retry-After'), body: parsed };
    } catch {
      return { status: 0, retryAfter: null, body: null };
    } finally {
      if (keepalive) this.inflightKeepaliveBytes -= bytes;
    }
  }

  /** The page is being hidden or unloaded: send what fits the keepalive budget, keep the rest. */
  sendOnUnload() {
    if (!this.ready || this.blocked() || this.pauseRemaining() > 0) return;
    const token = this.usable(this.cachedToken) ? this.cachedToken : null;
    const sentAt = new Date().toISOString();
    const candidates = this.sendable(this.readQueue(), token);
    const budgetBytes = KEEPALIVE_BUDGET_BYTES - this.inflightKeepaliveBytes;
    const { chunks } = planChunks(candidates, { budgetBytes, sentAt });
    for (const chunk of chunks) {
      if (keepaliveSupported) {
        // if the page survives (only hidden), the answer is handled like any other
        this.post(chunk.kind, chunk.items, token, true).then((response) => this.settle(chunk.items, response));
      } else if (chunk.kind === 'analytics' && typeof navigator.sendBeacon === 'function') {
        // a beacon cannot carry the token: only events that may go anonymous; no answer, so they
        // stay queued and the next page sends them again (the same eventIds count once)
        const anonymous = chunk.items.filter((item) => !item.needsToken);
        const blob = new Blob([requestBody('analytics', anonymous.map((item) => item.event), sentAt)], { type: 'text/plain' });
        if (anonymous.length && navigator.sendBeacon(this.urls.analytics, blob)) {
          for (const item of anonymous) this.inflight.add(eventIdOf(item)); // not again at pagehide
        }
      }
    }
  }

  onVisibilityChange() {
    if (document.visibilityState === 'hidden') {
      for (const view of [...this.views]) view.pageHidden();
      this.sendOnUnload();
    } else {
      for (const view of [...this.views]) view.pageVisible();
      this.scheduleFlush(0);
    }
  }

  onPageHide() {
    if (!this.ready && this.memoryQueue.length) this.becomeReady(); // the lock never came: persist anyway
    for (const view of [...this.views]) view.pageHidden();
    this.sendOnUnload();
    // The page may go to the back/forward cache: release the lock so that another tab or the next
    // page adopts the queue. Events the page's own pagehide handlers track after this one still
    // land in the same key (not in memory), so they are adopted too.
    this.claim = null;
    this.releaseTabLock?.();
    this.releaseTabLock = null;
    if (!navigator.locks) this.storage.set(`hb.${this.tabId}`, 0);
  }

  onPageShow(event) {
    if (!event.persisted) return;
    // back from the back/forward cache: start as a new tab (the old queue is adopted like any other)
    this.ready = false;
    this.tabId = uuid();
    this.claimQueue();
  }
}

function safeLocalStorage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/**
 * Create the SDK client (SPEC §10). Options: `endpoint` ('/api/analytics'), `trackEndpoint`
 * ('/api/track'), `flushInterval` (5000 ms), `maxBatchSize` (20), `maxQueueSize` (1000),
 * `getToken` (async, the user's Bearer token or null), `sessionTimeoutMinutes` (30),
 * `respectGlobalPrivacyControl` (true), `onError` (dropped or refused events), `autoPageViews`.
 * On the server (no `window`) the client is inert: every call returns null.
 */
export function createAnalytics(options = {}) {
  const client = new AnalyticsClient(options);
  if (client.options.autoStart) client.start();
  return client;
}
