{{
  config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
    indexes=postgres_indexes([
      {'columns': ['session_id'], 'unique': true}, {'columns': ['anonymous_id']}, {'columns': ['_changed_at']},
    ]),
    post_hook=["{{ record_build() }}"]
  )
}}
{#
  What SPEC section 5 needs of each session to resolve it, over the events eligible before
  opt-outs (macros/identity.sql): the user_id of its earliest event that has one, and the
  anonymous_id of its earliest event that has one. Rebuilt for the sessions with new, replaced
  or erased deliveries, or with events whose eligibility changed because as_of moved; a session
  left without eligible events keeps a placeholder row that the post-hook deletes.
#}

{%- set events = ref('base_interaction_events') -%}
{%- set state = last_build() -%}

with touched_sessions as (
    {%- if state is not none %}
    select session_id from {{ events }} where _loaded_at > {{ state.built_at }}
    union
    select session_id from {{ events }}
    where occurred_at > least({{ state.as_of }}, {{ as_of() }})
        and occurred_at <= greatest({{ state.as_of }}, {{ as_of() }})
    {%- else %}
    select distinct session_id from {{ events }}
    {%- endif %}
),

eligible_events as (
    select events.session_id, events.user_id, events.anonymous_id,
        events.occurred_at, events.received_at, events.event_id
    from {{ events }} as events
    where {{ eligible_events('events') }}
    {%- if state is not none %}
        and events.session_id in (select session_id from touched_sessions)
    {%- endif %}
),

summarised as (
    select
        session_id,
        {{ value_at_first('user_id', event_order(), 'user_id is not null') }} as first_user_id,
        {{ value_at_first('anonymous_id', event_order(), 'anonymous_id is not null') }} as anonymous_id
    from eligible_events
    group by session_id
)

select
    touched_sessions.session_id,
    summarised.first_user_id,
    summarised.anonymous_id,
    summarised.session_id is not null as has_events,
    {{ run_started() }} as _changed_at
from touched_sessions
left join summarised on summarised.session_id = touched_sessions.session_id
