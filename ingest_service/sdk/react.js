/**
 * React bindings of the browser SDK (SPEC §10); React is a peer dependency. No JSX, no build step.
 *
 *   <AnalyticsProvider options={{ getToken }}>…</AnalyticsProvider>
 *   usePageTracking(useLocation().pathname)            // Remix / React Router
 *   usePerfumeViewTracking(perfume.id, 'detail_page')  // one PERFUME_VIEW with its duration
 *   const postRef = usePostViewTracking({ postId, threshold: 0.5, minDuration: 1000, source: 'feed' })
 */
import { createContext, createElement, useCallback, useContext, useEffect, useRef, useState } from 'react';

import { createAnalytics } from './analytics.js';

const AnalyticsContext = createContext(null);

/**
 * Provides one client to the tree: the `client` you pass (you own its lifecycle), or one made from
 * `options`. A client made here starts in an effect and shuts down on unmount, so server rendering
 * and React's StrictMode (mount, unmount, mount) start nothing twice.
 */
export function AnalyticsProvider({ client, options, children }) {
  const [analytics] = useState(() => client ?? createAnalytics({ ...options, autoStart: false }));
  useEffect(() => {
    if (client) return undefined;
    analytics.start();
    return () => analytics.shutdown();
  }, [analytics, client]);
  return createElement(AnalyticsContext.Provider, { value: analytics }, children);
}

/** The provider's client. */
export function useAnalytics() {
  const analytics = useContext(AnalyticsContext);
  if (!analytics) throw new Error('useAnalytics() needs an <AnalyticsProvider> above it');
  return analytics;
}

/** A PAGE_VIEW each time `pathname` changes (seed 004's hook, which did not parse). */
export function usePageTracking(pathname) {
  const analytics = useAnalytics();
  const previous = useRef(undefined);
  useEffect(() => {
    const path = pathname ?? window.location.pathname;
    if (previous.current === path) return;
    previous.current = path;
    analytics.trackPageView(path);
  }, [analytics, pathname]);
}

/**
 * One PERFUME_VIEW per perfume shown, carrying how long it was shown, sent when the component
 * unmounts (or the perfume changes, or the page is hidden). Seed 004's hook sent a view on mount
 * and a second one on unmount, dropping the duration it computed.
 */
export function usePerfumeViewTracking(perfumeId, source, path) {
  const analytics = useAnalytics();
  useEffect(() => {
    if (!perfumeId) return undefined;
    return analytics.startPerfumeView(perfumeId, { source, path: path ?? window.location.pathname });
  }, [analytics, perfumeId, source, path]);
}

/**
 * Seed 000's hook: returns a ref for the post's element; one POST_VIEW once it was `threshold`
 * visible for `minDuration`, with the visible duration and scroll depth. The ref is a callback
 * ref (it also keeps the element in `.current`).
 */
export function usePostViewTracking({ postId, threshold = 0.5, minDuration = 1000, source } = {}) {
  const analytics = useAnalytics();
  const stop = useRef(null);
  // React calls a callback ref with null when the element goes away (unmount): that ends the view
  return useCallback(
    function attach(element) {
      stop.current?.();
      stop.current = null;
      attach.current = element;
      if (element && postId) stop.current = analytics.observeViews(element, { postId, threshold, minDuration, source });
    },
    [analytics, postId, threshold, minDuration, source],
  );
}
