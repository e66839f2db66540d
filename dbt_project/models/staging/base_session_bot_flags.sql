{{
  config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
    indexes=postgres_indexes([{'columns': ['session_id']}]),
    post_hook=["{{ delete_vanished_keys('not is_behaviour_bot') }}", "{{ record_build() }}"]
  )
}}
{#
  Sessions no human produces (issue 5): at least `bot_session_min_events` events (default
  500) inside one window of `bot_session_window_seconds` (default 60) - eight events a second
  for a minute. Deliberately conservative: ordinary traffic never comes near it, so the marts
  stay exactly the SPEC's formulas for people. Counted over the winning, non-crawler
  deliveries whatever as_of and privacy say, so the flag only changes when the session's own
  events change. Only flagged sessions are kept.
#}

{%- set events = ref('base_interaction_events') -%}
{%- set state = last_build() -%}
{%- set min_events = var('bot_session_min_events') | int -%}
{%- set window_seconds = var('bot_session_window_seconds') | int -%}

with session_events as (
    select session_id, occurred_at
    from {{ events }}
    where is_winner and not is_deleted and not is_bot
    {%- if state is not none %}
        and session_id in (select session_id from {{ events }} where _loaded_at > {{ state.built_at }})
    {%- endif %}
),

busy_sessions as (
    select session_id
    from session_events
    group by session_id
    having count(*) >= {{ min_events }}
),

windowed_counts as (
    select
        session_events.session_id,
        count(*) over (
            partition by session_events.session_id
            order by session_events.occurred_at
            range between current row and interval '{{ window_seconds }} seconds' following
        ) as events_in_window
    from session_events
    inner join busy_sessions on busy_sessions.session_id = session_events.session_id
),

flagged as (
    select distinct session_id, true as is_behaviour_bot
    from windowed_counts
    where events_in_window >= {{ min_events }}
),

{#- touched sessions that are not (or no longer) bots get a row that the post-hook deletes #}
touched_sessions as (
    select distinct session_id from session_events
    {%- if state is not none %}
    union
    select session_id from {{ events }} where _loaded_at > {{ state.built_at }}
    {%- endif %}
)

select
    touched_sessions.session_id,
    coalesce(flagged.is_behaviour_bot, false) as is_behaviour_bot
from touched_sessions
left join flagged on flagged.session_id = touched_sessions.session_id
