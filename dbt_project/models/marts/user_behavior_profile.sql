{{ config(materialized='view') }}
{#
  One row per user (SPEC section 5, `user_behavior_profile`). Everything is kept incrementally
  in int_user_stats, the 30-day figures included (recomputed whenever an event of the user enters
  or leaves the window); the engagement score is kept for the as_of it was computed at and
  brought to the run's as_of here (written into the view when it is built), so a run does not
  rewrite the table.
#}

select
    user_id,
    total_sessions,
    stitched_events,
    page_views_30d,
    searches_30d,
    perfumes_viewed_30d,
    avg_session_duration_seconds,
    total_ratings,
    avg_rating_value,
    collection_size,
    wishlist_size,
    preferred_houses,
    preferred_notes,
    preferred_price_range,
    cast({{ decayed_since('engagement_at_anchor', 'recent_anchor', 7.0) }} as double precision) as engagement_score,
    {{ as_utc('first_seen_at') }} as first_seen_at,
    {{ as_utc('last_active_at') }} as last_active_at
from {{ ref('int_user_stats') }}
