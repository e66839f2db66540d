{#
  One row per perfume that is an event's perfume_id or listed in a search's resultPerfumeIds
  (SPEC section 5, `perfume_interaction_stats`): the all-time figures maintained
  incrementally in int_perfume_totals plus the as_of-dependent ones from the last 7 days.
#}

with totals as (
    select * from {{ ref('int_perfume_totals') }}
),

trending as (
    select perfume_id, trending_score from {{ ref('trending_perfumes') }}
),

recent_views as (
    select perfume_id, count(*) as views_last_7_days
    from {{ staged_events() }}
    where event_type = 'PERFUME_VIEW'
        and perfume_id is not null
        and occurred_at > {{ window_start(7) }}
    group by perfume_id
),

final as (
    select
        totals.perfume_id,
        totals.total_views,
        totals.unique_viewers,
        totals.avg_view_duration_ms,
        totals.total_ratings,
        totals.avg_rating,
        totals.in_wishlist_count,
        totals.in_collection_count,
        totals.search_clicks,
        totals.search_impressions,
        cast(coalesce(recent_views.views_last_7_days, 0) as bigint) as views_last_7_days,
        coalesce(trending.trending_score, 0.0) as trending_score,
        {{ as_utc('totals.last_viewed_at') }} as last_viewed_at
    from totals
    left join recent_views on recent_views.perfume_id = totals.perfume_id
    left join trending on trending.perfume_id = totals.perfume_id
)

select * from final
