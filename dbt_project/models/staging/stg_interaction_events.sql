{{
  config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
    indexes=postgres_indexes([
      {'columns': ['event_id'], 'unique': true}, {'columns': ['session_id']}, {'columns': ['actor_id']},
      {'columns': ['resolved_user_id']}, {'columns': ['perfume_id']}, {'columns': ['post_id']},
      {'columns': ['anonymous_id']}, {'columns': ['occurred_at']},
    ]),
    post_hook=["{{ delete_vanished_keys('event_id is null') }}", "{{ record_build() }}"]
  )
}}
{#
  The events every mart is built from (SPEC section 5): one row per event_id (its earliest
  delivery), no crawler events, occurred_at <= as_of, no flagged behaviour-bot session when
  var('exclude_behaviour_bot_sessions') is on, each with its resolved user and actor (the
  session's identity from int_session_users), and without the events whose resolved user is
  opted out now.

  Resolving before the opt-out filter and reading the identities off the same resolution is
  what SPEC section 5 asks: for the events that remain, resolving again over what remains gives
  the same users and actors (only a session's or browser's own row, in `sessions` and
  `identity_map`, can pass to the next user, and those marts compute it from the rows here).

  A table rebuilt per touched session (macros/touched_keys.sql), stamped `_staged_at`; a touched
  session left without events keeps a placeholder row (event_id null) that the post-hook deletes.
  Every model reading it requires it to be at the run's as_of (`staged_events()`).
#}

{%- set events = ref('base_interaction_events') -%}
{%- set identities = ref('int_session_users') -%}
{%- set privacy = ref('base_user_privacy_states') -%}
{%- set state = last_build() -%}

with touched_sessions as (
    {{ touched_sessions(state) }}
),

eligible_events as (
    select events.*
    from {{ events }} as events
    where {{ eligible_events('events') }}
    {%- if state is not none %}
        and events.session_id in (select session_id from touched_sessions)
    {%- endif %}
),

resolved as (
    select
        eligible_events.*,
        coalesce(eligible_events.user_id, identities.session_user_id) as resolved_user_id,
        case
            when eligible_events.user_id is not null then 'u:' || eligible_events.user_id
            else identities.session_actor_id
        end as actor_id
    from eligible_events
    inner join {{ identities }} as identities on identities.session_id = eligible_events.session_id
),

staged as (
    select resolved.*
    from resolved
    where resolved.resolved_user_id is null
        or resolved.resolved_user_id not in (select user_id from {{ privacy }} where is_opted_out)
),

{#- touched sessions left without events: placeholders, deleted by the post-hook #}
with_placeholders as (
    select {{ raw_event_columns() | join(', ') }}, resolved_user_id, actor_id from staged
    {%- if state is not none %}
    union all
    select {% for column in raw_event_columns() %}{{ 'touched_sessions.session_id' if column == 'session_id' else 'null' }} as {{ column }}, {% endfor %}
        null as resolved_user_id, null as actor_id
    from touched_sessions
    where touched_sessions.session_id not in (select session_id from staged)
    {%- endif %}
)

select
    {%- for column in raw_event_columns() if column != 'is_bot' %}
    {{ column }},
    {%- endfor %}
    resolved_user_id,
    actor_id,
    {{ run_started() }} as _staged_at
from with_placeholders
