{#
  One row per user (SPEC section 5, `user_behavior_profile`): the all-time figures kept
  incrementally in int_user_stats, the 30-day figures and the decayed engagement score from the
  last 30 days only, and the mean duration of the sessions attributed to the user.
#}

with user_stats as (
    select * from {{ ref('int_user_stats') }}
),

weights as (
    select event_type, weight from {{ ref('event_weights') }}
),

recent_events as (
    select resolved_user_id as user_id, event_type, event_category, perfume_id, occurred_at
    from {{ staged_events() }}
    where resolved_user_id is not null
        and occurred_at > {{ window_start(30) }}
),

recent_activity as (
    select
        recent_events.user_id,
        sum(case when recent_events.event_category = 'VIEW' then 1 else 0 end) as page_views_30d,
        sum(case when recent_events.event_category = 'SEARCH' then 1 else 0 end) as searches_30d,
        count(distinct recent_events.perfume_id) as perfumes_viewed_30d,
        sum(
            coalesce(weights.weight, 0)
            * power(0.5, {{ seconds_between('recent_events.occurred_at', as_of()) }} / 86400.0 / 7.0)
        ) as engagement_score
    from recent_events
    left join weights on weights.event_type = recent_events.event_type
    group by recent_events.user_id
),

session_durations as (
    select user_id, avg(cast(duration_seconds as double precision)) as avg_session_duration_seconds
    from {{ ref('sessions') }}
    where user_id is not null
    group by user_id
),

final as (
    select
        user_stats.user_id,
        user_stats.total_sessions,
        user_stats.stitched_events,
        cast(coalesce(recent_activity.page_views_30d, 0) as bigint) as page_views_30d,
        cast(coalesce(recent_activity.searches_30d, 0) as bigint) as searches_30d,
        cast(coalesce(recent_activity.perfumes_viewed_30d, 0) as bigint) as perfumes_viewed_30d,
        session_durations.avg_session_duration_seconds,
        user_stats.total_ratings,
        user_stats.avg_rating_value,
        user_stats.collection_size,
        user_stats.wishlist_size,
        user_stats.preferred_houses,
        user_stats.preferred_notes,
        user_stats.preferred_price_range,
        cast(coalesce(recent_activity.engagement_score, 0) as double precision) as engagement_score,
        {{ as_utc('user_stats.first_seen_at') }} as first_seen_at,
        {{ as_utc('user_stats.last_active_at') }} as last_active_at
    from user_stats
    left join recent_activity on recent_activity.user_id = user_stats.user_id
    left join session_durations on session_durations.user_id = user_stats.user_id
)

select * from final
