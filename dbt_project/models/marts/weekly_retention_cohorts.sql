{#
  One row per (cohort_week, week_offset) for every cohort with users and every offset from 0 up
  to the week that contains as_of (SPEC section 5, `weekly_retention_cohorts`), over resolved
  users only. Built from int_user_active_weeks: a few rows per user, never the raw history.
#}

with active_weeks as (
    select user_id, cohort_week, week_offset from {{ ref('int_user_active_weeks') }}
),

cohorts as (
    select cohort_week, count(distinct user_id) as cohort_size
    from active_weeks
    group by cohort_week
),

offsets as (
    select cohort_week, cohort_size,
        {{ integer_series(0, "cast((" ~ iso_week_start(as_of()) ~ " - cohort_week) / 7 as integer)") }}
        as week_offset
    from cohorts
),

activity as (
    select cohort_week, week_offset, count(distinct user_id) as active_users
    from active_weeks
    group by cohort_week, week_offset
),

final as (
    select
        offsets.cohort_week,
        cast(offsets.week_offset as integer) as week_offset,
        cast(offsets.cohort_size as bigint) as cohort_size,
        cast(coalesce(activity.active_users, 0) as bigint) as active_users,
        cast(coalesce(activity.active_users, 0) as double precision) / offsets.cohort_size as retention_rate
    from offsets
    left join activity
        on activity.cohort_week = offsets.cohort_week
        and activity.week_offset = offsets.week_offset
)

select * from final
