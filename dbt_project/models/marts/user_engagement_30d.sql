{#
  One row per (user_id, event_type) with at least one event in the last 30 days (SPEC section
  5, `user_engagement_30d`, seed 000). Entirely as_of-dependent: rebuilt each run from the last
  30 days only.
#}

with recent_events as (
    select resolved_user_id as user_id, event_type
    from {{ staged_events() }}
    where resolved_user_id is not null
        and occurred_at > {{ window_start(30) }}
),

counted as (
    select user_id, event_type, cast(count(*) as bigint) as interactions
    from recent_events
    group by user_id, event_type
)

select * from counted
