// Type declarations of the React bindings (react.js), SPEC §10.
import type { ReactNode, RefCallback } from 'react';

import type { AnalyticsClient, AnalyticsOptions } from './analytics.js';

export function AnalyticsProvider(props: {
  /** a client you created and own; otherwise one is made from `options` */
  client?: AnalyticsClient;
  options?: AnalyticsOptions;
  children?: ReactNode;
}): ReactNode;

export function useAnalytics(): AnalyticsClient;

/** a PAGE_VIEW each time `pathname` changes (default: `location.pathname` on mount) */
export function usePageTracking(pathname?: string): void;

/** one PERFUME_VIEW with its duration, sent on unmount, perfume change or page hide */
export function usePerfumeViewTracking(perfumeId: string, source?: string, path?: string): void;

/** a (callback) ref for the post's element; one POST_VIEW with duration and scroll depth */
export function usePostViewTracking(options: {
  postId: string;
  threshold?: number;
  minDuration?: number;
  source?: string;
}): RefCallback<Element> & { current?: Element | null };
