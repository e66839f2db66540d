// Type declarations of the browser SDK (analytics.js), SPEC §10.

/** The event types of SPEC §1. */
export type EventType =
  | 'PAGE_VIEW'
  | 'PERFUME_VIEW'
  | 'HOUSE_VIEW'
  | 'SEARCH_PERFORMED'
  | 'SEARCH_RESULT_CLICKED'
  | 'FILTER_APPLIED'
  | 'RATING_COMPLETED'
  | 'REVIEW_SUBMITTED'
  | 'WISHLIST_ADD'
  | 'WISHLIST_REMOVE'
  | 'COLLECTION_ADD'
  | 'IMAGE_VIEWED'
  | 'NOTES_EXPANDED'
  | 'SIMILAR_CLICKED'
  | 'POST_VIEW'
  | 'POST_CLICK'
  | 'POST_LIKE'
  | 'POST_SHARE'
  | 'USER_IDENTIFIED';

export type EventCategory =
  | 'VIEW'
  | 'SEARCH'
  | 'FILTER'
  | 'RATING'
  | 'REVIEW'
  | 'COLLECTION'
  | 'WISHLIST'
  | 'ENGAGEMENT';

/** Seed 004's event shape; the SDK adds `eventId`, `timestamp`, `sessionId`, `anonymousId`. */
export interface AnalyticsEvent {
  eventType: EventType;
  /** derived by the service from `eventType`; a category that disagrees is refused */
  eventCategory?: EventCategory;
  /** default: `location.pathname` */
  path?: string;
  perfumeId?: string;
  houseId?: string;
  postId?: string;
  referrer?: string;
  eventData?: Record<string, unknown>;
  /** milliseconds, 0..86 400 000 */
  duration?: number;
  /** the rating for RATING_COMPLETED (1..5) */
  value?: number;
  deviceType?: string;
}

/** Seed 000's interaction metadata: `duration`, `scroll_depth` and `source` get their own columns. */
export interface InteractionMetadata {
  duration?: number;
  scroll_depth?: number;
  source?: string;
  [custom: string]: unknown;
}

/** Why events were dropped: refused by the service (per event or the whole request), or no room. */
export interface AnalyticsError {
  reason: 'rejected' | 'refused' | 'queue_full' | 'storage_full';
  message: string;
  /** the events as they were queued (with their eventId / event_id) */
  events: Array<Record<string, unknown>>;
}

export interface AnalyticsOptions {
  /** default '/api/analytics' */
  endpoint?: string;
  /** default: `track` next to `endpoint` ('/api/track') */
  trackEndpoint?: string;
  /** default: `privacy` next to `endpoint` ('/api/privacy'); `/opt-out` and `/opt-in` are appended */
  privacyEndpoint?: string;
  /** ms between batches, default 5000 */
  flushInterval?: number;
  /** events per request, default 20; a full batch is sent at once */
  maxBatchSize?: number;
  /** events kept per tab while undelivered, default 1000 (oldest dropped and reported) */
  maxQueueSize?: number;
  /** the signed-in user's Bearer token, or null; asked again after a 401 */
  getToken?: () => Promise<string | null> | string | null;
  /** default 30 */
  sessionTimeoutMinutes?: number;
  /** default true: send nothing when `navigator.globalPrivacyControl` is on */
  respectGlobalPrivacyControl?: boolean;
  /** events dropped (refused by the service or no room left); never thrown into your code */
  onError?: (error: AnalyticsError) => void;
  /** default false: track the first page and each `history` navigation as PAGE_VIEW */
  autoPageViews?: boolean;
  /** default true; false leaves `start()` to the caller (the React provider does) */
  autoStart?: boolean;
  /** prefix of the localStorage keys, default 'ia' */
  storagePrefix?: string;
  /** first retry delay after a network error or 5xx, default 1000 ms (then doubling, with jitter) */
  minRetryDelay?: number;
  /** default 60000 ms */
  maxRetryDelay?: number;
}

export interface ObserveViewsOptions {
  /** a post (seed 000: POST_VIEW to /api/track) … */
  postId?: string;
  /** … or a perfume (PERFUME_VIEW to /api/analytics) */
  perfumeId?: string;
  /** visible fraction, default 0.5 */
  threshold?: number;
  /** ms, default 1000 */
  minDuration?: number;
  source?: string;
}

/** Every `track…` call returns the event's id, or null when nothing may be tracked (opted out, GPC, server). */
export type EventId = string | null;

export interface AnalyticsClient {
  readonly options: Required<Omit<AnalyticsOptions, 'trackEndpoint' | 'privacyEndpoint' | 'getToken' | 'onError'>> &
    AnalyticsOptions;

  track(event: AnalyticsEvent): EventId;
  trackPageView(path?: string, perfumeId?: string): EventId;
  trackPerfumeView(perfumeId: string, path?: string, source?: string, extra?: { duration?: number; eventData?: Record<string, unknown> }): EventId;
  trackSearch(query: string, filters?: Record<string, unknown>, resultsCount?: number, path?: string, resultPerfumeIds?: string[]): EventId;
  trackWishlistAdd(perfumeId: string, path?: string, source?: string): EventId;
  trackWishlistRemove(perfumeId: string, path?: string, source?: string): EventId;
  trackCollectionAdd(perfumeId: string, path?: string): EventId;
  /** seed 004's shape; `value` is `ratings.overall` */
  trackRating(params: { perfumeId: string; ratings: Record<string, number> & { overall: number }; timeToComplete?: number; path?: string }): EventId;
  trackReview(perfumeId: string, path?: string, eventData?: Record<string, unknown>): EventId;
  /** seed 000, sent to /api/track with the user's token (waits in the queue until there is one) */
  trackClick(postId: string, metadata?: InteractionMetadata): EventId;
  trackLike(postId: string, metadata?: InteractionMetadata): EventId;
  trackShare(postId: string, metadata?: InteractionMetadata): EventId;

  /** one view once `element` was `threshold` visible for `minDuration`; returns a function that stops observing */
  observeViews(element: Element, options: ObserveViewsOptions): () => void;
  /** a perfume page's view: one PERFUME_VIEW with its duration, when the returned function is called or the page is hidden */
  startPerfumeView(perfumeId: string, options?: { source?: string; path?: string }): () => void;
  /** a PAGE_VIEW when the path differs from the last one this way (SPA navigation) */
  trackPageViewIfNew(path?: string): EventId;

  /** at login: sends USER_IDENTIFIED with the token, linking this browser's anonymous id to the user */
  identify(): EventId;
  /** at logout: a new anonymous id and session */
  reset(): void;
  /** nothing is tracked or sent any more in this browser; with a token, also POST /api/privacy/opt-out */
  optOut(): Promise<void>;
  optIn(): Promise<void>;
  /** send what is queued now; resolves when the service answered (or delivery has to wait) */
  flush(): Promise<void>;
  start(): AnalyticsClient;
  /** remove timers, listeners and the tab's claim on its queue: what was queued stays persisted for
   * the next page (or `start()`); events tracked after this wait in memory until `start()` */
  shutdown(): void;
}

export const DEFAULT_OPTIONS: Readonly<Required<Omit<AnalyticsOptions, 'trackEndpoint' | 'privacyEndpoint' | 'getToken' | 'onError'>>> & {
  readonly trackEndpoint: null;
  readonly privacyEndpoint: null;
  readonly getToken: null;
  readonly onError: null;
};
export const KEEPALIVE_BUDGET_BYTES: number;
export const MAX_REQUEST_BYTES: number;
export const MAX_EVENTS_PER_REQUEST: number;
export const ANONYMOUS_ID_COOKIE: 'aid';

export function createAnalytics(options?: AnalyticsOptions): AnalyticsClient;

// The pure building blocks, exported for tests and for anyone composing their own transport.
export interface QueueItem {
  kind: 'analytics' | 'track';
  needsToken?: true;
  event: Record<string, unknown> & { timestamp: string };
}
export interface Chunk {
  kind: QueueItem['kind'];
  items: QueueItem[];
  bytes: number;
}
export function utf8Length(text: string): number;
export function uuid(cryptoObject?: Crypto): string;
export function isUuid(value: unknown): boolean;
export function parseRetryAfter(value: string | null | undefined, nowMs?: number): number | null;
export function backoffDelay(failures: number, delays?: { minMs?: number; maxMs?: number }, random?: () => number): number;
export function classifyStatus(status: number): 'delivered' | 'unauthorized' | 'retry_after' | 'backoff' | 'refused';
export function eventIdOf(item: QueueItem): string;
export function appendBounded(queue: QueueItem[], items: QueueItem[], maxSize: number): { queue: QueueItem[]; dropped: QueueItem[] };
export function withoutEvents(queue: QueueItem[], ids: Iterable<string>): QueueItem[];
export function mergeQueues(own: QueueItem[], other: QueueItem[], maxSize: number): { queue: QueueItem[]; dropped: QueueItem[] };
export function requestBody(kind: QueueItem['kind'], events: unknown[], sentAt: string): string;
export function takeBatch(items: QueueItem[], limits: { kind: QueueItem['kind']; maxCount: number; maxBytes: number; sentAt: string }): QueueItem[];
export function planChunks(items: QueueItem[], limits: { budgetBytes: number; maxCount?: number; sentAt: string }): { chunks: Chunk[]; rest: QueueItem[] };
export function nextSession(
  stored: { id: string; lastSeen: number } | null,
  nowMs: number,
  timeoutMs: number,
  makeId?: () => string,
): { id: string; lastSeen: number; isNew: boolean };
export function monotonicNow(previous: number, nowMs?: number): number;
export interface ViewTimer {
  readonly reported: boolean;
  update(ratio: number, pageVisible: boolean, now: number): { duration: number } | null;
  end(now: number): { duration: number } | null;
}
export function createViewTimer(options?: { threshold?: number; minDuration?: number }): ViewTimer;
export function scrollDepthPercent(rect: { top: number; height: number } | null, viewportHeight: number): number;
export function cookieAssignment(name: string, value: string, maxAgeS: number, secure: boolean): string;
export function readCookie(cookieString: string, name: string): string | null;
export interface JsonStorage {
  readonly persistent: boolean;
  get(name: string): unknown;
  set(name: string, value: unknown): boolean;
  remove(name: string): void;
  names(start: string): string[];
}
export function createStorage(backend: Storage | null, prefix: string): JsonStorage;
