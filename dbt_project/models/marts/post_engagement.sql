{#
  One row per post_id (SPEC section 5, `post_engagement`, seed 000): all-time figures from
  int_post_totals plus engagements in the last 7 days.
#}

with totals as (
    select * from {{ ref('int_post_totals') }}
),

recent_engagements as (
    select post_id, count(*) as engagements_7d
    from {{ staged_events() }}
    where post_id is not null
        and event_type in ('POST_VIEW', 'POST_CLICK', 'POST_LIKE')
        and occurred_at > {{ window_start(7) }}
    group by post_id
),

final as (
    select
        totals.post_id,
        totals.views,
        totals.clicks,
        totals.likes,
        totals.shares,
        totals.unique_users,
        totals.avg_view_duration_ms,
        totals.avg_scroll_depth,
        cast(coalesce(recent_engagements.engagements_7d, 0) as bigint) as engagements_7d,
        {{ as_utc('totals.last_interaction_at') }} as last_interaction_at
    from totals
    left join recent_engagements on recent_engagements.post_id = totals.post_id
)

select * from final
