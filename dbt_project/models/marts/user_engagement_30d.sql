{{
  config(
    materialized='incremental',
    unique_key='user_id',
    incremental_strategy='delete+insert',
    indexes=postgres_indexes([{'columns': ['user_id']}]),
    post_hook=["{{ delete_vanished_keys('interactions = 0') }}"]
  )
}}
{#
  One row per (user_id, event_type) with at least one event in the last 30 days (SPEC section
  5, `user_engagement_30d`, seed 000). Recomputed for the users touched since the last build and
  the users with an event that entered or left the window as as_of moved; any other user has the
  same events in the window, so their rows stand. A recomputed user left without events in the
  window keeps one placeholder row (interactions 0) that the post-hook deletes.
#}

{%- set state = last_build() -%}

with recomputed_users as (
    {{ touched_users(state) }}
    union
    {{ window_crossing_keys(state, 30, 'resolved_user_id') }}
),

recent_events as (
    select resolved_user_id as user_id, event_type
    from {{ staged_events() }}
    where resolved_user_id is not null
        and occurred_at > {{ window_start(30) }}
    {%- if state is not none %}
        and resolved_user_id in (select user_id from recomputed_users)
    {%- endif %}
),

counted as (
    select user_id, event_type, count(*) as interactions
    from recent_events
    group by user_id, event_type
),

with_placeholders as (
    select * from counted
    {%- if state is not none %}
    union all
    select recomputed_users.user_id, cast(null as varchar), 0
    from recomputed_users
    where recomputed_users.user_id not in (select user_id from counted)
    {%- endif %}
)

select user_id, event_type, cast(interactions as bigint) as interactions
from with_placeholders
