{#
  One row per perfume with an event in the last 7 days (SPEC section 5, `trending_perfumes`).
  Depends on as_of through decay and windows, so it is recomputed on every run - from the
  last 7 days only, never from the whole history.
#}

with weights as (
    select event_type, weight from {{ ref('event_weights') }}
),

recent_events as (
    select perfume_id, event_type, occurred_at
    from {{ staged_events() }}
    where perfume_id is not null
        and occurred_at > {{ window_start(7) }}
),

scored as (
    select
        recent_events.perfume_id,
        sum(
            coalesce(weights.weight, 0)
            * power(0.5, {{ seconds_between('recent_events.occurred_at', as_of()) }} / 3600.0 / 24.0)
        ) as trending_score,
        sum(case when recent_events.event_type = 'PERFUME_VIEW'
            and recent_events.occurred_at > {{ window_start(1) }} then 1 else 0 end) as views_24h,
        sum(case when recent_events.event_type = 'PERFUME_VIEW'
            and recent_events.occurred_at <= {{ window_start(1) }} then 1 else 0 end) / 6.0 as baseline_daily_views
    from recent_events
    left join weights on weights.event_type = recent_events.event_type
    group by recent_events.perfume_id
),

ranked as (
    select
        perfume_id,
        cast(trending_score as double precision) as trending_score,
        cast(views_24h as bigint) as views_24h,
        cast(baseline_daily_views as double precision) as baseline_daily_views,
        cast(views_24h / greatest(baseline_daily_views, 1.0) as double precision) as velocity,
        -- scores equal but for float rounding (the same terms summed in another order) are a
        -- tie: perfume_id decides, not the last bit
        cast(row_number() over (
            order by floor(trending_score * 1e9 + 0.5) desc, perfume_id asc
        ) as bigint) as rank
    from scored
)

select * from ranked
