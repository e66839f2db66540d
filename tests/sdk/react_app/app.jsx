// The React page of the browser tests: a small single-page app using the SDK's hooks as the README
// shows, under StrictMode (which mounts, unmounts and mounts again every effect in development).
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import {
  AnalyticsProvider,
  useAnalytics,
  usePageTracking,
  usePerfumeViewTracking,
  usePostViewTracking,
} from '@interaction-pipeline/analytics/react';

function PerfumePage({ perfumeId }) {
  usePerfumeViewTracking(perfumeId, 'detail_page');
  const analytics = useAnalytics();
  return (
    <main>
      <h1>{perfumeId}</h1>
      <button id="wishlist" onClick={() => analytics.trackWishlistAdd(perfumeId, window.location.pathname, 'detail_page')}>
        Add to wishlist
      </button>
    </main>
  );
}

function PostCard({ postId }) {
  const postRef = usePostViewTracking({ postId, threshold: 0.5, minDuration: 1000, source: 'feed' });
  return (
    <article ref={postRef} id="post-card" style={{ height: 300, background: '#eee' }}>
      {postId}
    </article>
  );
}

function Feed({ postId }) {
  return (
    <main>
      <div style={{ height: 3000 }} />
      <PostCard postId={postId} />
      <div style={{ height: 3000 }} />
    </main>
  );
}

function App() {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    // the router of this app: the test navigates with it
    window.navigate = (to) => {
      window.history.pushState({}, '', to);
      setPath(to);
      return performance.now();
    };
  }, []);
  usePageTracking(path);
  const [, section, id] = path.split('/').filter(Boolean);
  if (section === 'perfume') return <PerfumePage perfumeId={id} />;
  if (section === 'feed') return <Feed postId={id} />;
  return <p>home</p>;
}

const getToken = async () => (await (await fetch('/token')).text()) || null;
createRoot(document.getElementById('root')).render(
  <StrictMode>
    <AnalyticsProvider options={{ flushInterval: 200, getToken }}>
      <App />
    </AnalyticsProvider>
  </StrictMode>,
);
window.sdkReady = true;
