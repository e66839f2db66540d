{{
  config(
    unique_key='user_id',
    indexes=postgres_indexes([{'columns': ['user_id']}]),
    post_hook=["{{ delete_vanished_keys('week_offset is null') }}", "{{ record_build() }}"]
  )
}}
{#
  One row per (resolved user, ISO week with an event of theirs), with the user's cohort week
  (the Monday of the week of their earliest event): all weekly_retention_cohorts needs, at the
  grain where distinct users stay exact. Rebuilt for the users touched since the last build; a
  user left without events keeps a placeholder row (week_offset null) that the post-hook deletes.
#}

{%- set state = last_build() -%}

with touched_users as (
    {{ touched_users(state) }}
),

user_weeks as (
    select distinct resolved_user_id as user_id, {{ iso_week_start('occurred_at') }} as active_week
    from {{ staged_events() }}
    where resolved_user_id is not null
    {%- if state is not none %}
        and resolved_user_id in (select user_id from touched_users)
    {%- endif %}
),

cohorts as (
    select user_id, min(active_week) as cohort_week
    from user_weeks
    group by user_id
),

active_weeks as (
    select user_weeks.user_id, cohorts.cohort_week, cast((user_weeks.active_week - cohorts.cohort_week) / 7 as integer)
        as week_offset
    from user_weeks
    inner join cohorts on cohorts.user_id = user_weeks.user_id
),

with_placeholders as (
    select * from active_weeks
    {%- if state is not none %}
    union all
    select touched_users.user_id, cast(null as date), cast(null as integer)
    from touched_users
    where touched_users.user_id not in (select user_id from cohorts)
    {%- endif %}
)

select user_id, cohort_week, week_offset from with_placeholders
