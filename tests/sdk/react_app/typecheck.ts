// Compiled with `tsc --noEmit` by the tests: the declarations describe the seeds' calls as the
// README uses them, and refuse what the API does not take.
import { createAnalytics, type AnalyticsError, type EventId } from '@interaction-pipeline/analytics';
import { AnalyticsProvider, useAnalytics, usePageTracking, usePerfumeViewTracking, usePostViewTracking } from '@interaction-pipeline/analytics/react';

const errors: AnalyticsError[] = [];
const analytics = createAnalytics({
  endpoint: '/api/analytics',
  flushInterval: 5000,
  maxBatchSize: 20,
  maxQueueSize: 1000,
  getToken: async () => null,
  sessionTimeoutMinutes: 30,
  respectGlobalPrivacyControl: true,
  onError: (error) => errors.push(error),
});

const ids: EventId[] = [
  analytics.trackPageView('/perfumes'),
  analytics.trackPerfumeView('perfume-1', '/perfumes/perfume-1', 'search'),
  analytics.trackPerfumeView('perfume-1', '/perfumes/perfume-1', 'search', { duration: 1500 }),
  analytics.trackSearch('rose', { gender: 'unisex' }, 2, '/search', ['perfume-1', 'perfume-2']),
  analytics.trackWishlistAdd('perfume-1', '/p', 'detail_page'),
  analytics.trackWishlistRemove('perfume-1', '/p'),
  analytics.trackCollectionAdd('perfume-1', '/p'),
  analytics.trackRating({ perfumeId: 'perfume-1', ratings: { overall: 4 }, timeToComplete: 1200, path: '/p' }),
  analytics.trackReview('perfume-1', '/p', { words: 10 }),
  analytics.track({ eventType: 'HOUSE_VIEW', eventCategory: 'VIEW', path: '/h', houseId: 'house-1' }),
  analytics.trackClick('post-1', { source: 'feed' }),
  analytics.trackLike('post-1', { source: 'feed' }),
  analytics.trackShare('post-1', { source: 'feed', method: 'clipboard' }),
  analytics.identify(),
];
const stop: () => void = analytics.observeViews(document.body, { postId: 'post-1', threshold: 0.5, minDuration: 1000, source: 'feed' });
stop();
analytics.reset();
void analytics.optOut().then(() => analytics.optIn());
void analytics.flush();
analytics.shutdown();

// @ts-expect-error: not an event type of SPEC §1
analytics.track({ eventType: 'PAGE_VIEWED', path: '/' });
// @ts-expect-error: ratings need an overall value
analytics.trackRating({ perfumeId: 'p', ratings: { longevity: 3 } });

export function PerfumePage({ perfumeId }: { perfumeId: string }) {
  usePageTracking('/perfumes/' + perfumeId);
  usePerfumeViewTracking(perfumeId, 'detail_page');
  const client = useAnalytics();
  const postRef = usePostViewTracking({ postId: 'post-1', threshold: 0.5, minDuration: 1000, source: 'feed' });
  client.trackWishlistAdd(perfumeId, '/p');
  return [postRef, AnalyticsProvider, ids];
}
