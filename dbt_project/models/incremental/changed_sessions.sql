{{
  config(
    materialized='incremental',
    full_refresh=false,
    indexes=postgres_indexes([{'columns': ['changed_at']}, {'columns': ['session_id']}]),
    post_hook=["{{ forget_consumed_changes() }}", "{{ record_build() }}"]
  )
}}
{#
  The "this run" model: every session whose staged events may have changed, appended once per
  run with the run's start (`changed_at`) and why. A model downstream rebuilds the sessions
  changed since ITS last build (`touched_sessions()` in macros/touched_keys.sql), and from them
  the actors, users, perfumes and posts they touch. Rows every reader has consumed are deleted
  (`forget_consumed_changes()`), so the log stays the size of a few runs.

  An event's contribution to the marts can change because:
  - `delivered`: a delivery of it was (re)written into base_interaction_events — a new delivery,
    an "earlier" duplicate, an erasure (the whole session is taken, which also covers the
    behaviour-bot rule flipping the session);
  - `as_of_moved`: its eligibility `occurred_at <= as_of` changed because as_of moved;
  - `identity`: its session's identity changed (a login here or in another session of the same
    browser: int_session_identity_history);
  - `privacy`: the privacy state of its user or its session's user changed (opt-out, opt-in,
    erasure).
  The first build starts the log empty: every reader builds everything on its first build.
#}

{%- set events = ref('base_interaction_events') -%}
{%- set history = ref('int_session_identity_history') -%}
{%- set identities = ref('int_session_users') -%}
{%- set privacy = ref('base_user_privacy_states') -%}
{%- set state = last_build() -%}

{%- if state is none %}

select cast(null as varchar) as session_id, cast(null as timestamp) as changed_at,
    cast(null as varchar(16)) as reason
where false

{%- else %}

with delivered as (
    select distinct session_id, 'delivered' as reason
    from {{ events }}
    where _loaded_at > {{ state.built_at }}
),

as_of_moved as (
    select distinct session_id, 'as_of_moved' as reason
    from {{ events }}
    where occurred_at > least({{ state.as_of }}, {{ as_of() }})
        and occurred_at <= greatest({{ state.as_of }}, {{ as_of() }})
),

identity_changed as (
    select distinct session_id, 'identity' as reason
    from {{ history }}
    where assigned_at > {{ state.built_at }}
),

privacy_changed_users as (
    select user_id from {{ privacy }} where _changed_at > {{ state.built_at }}
),

privacy_changed as (
    select distinct session_id, 'privacy' as reason
    from {{ events }}
    where user_id in (select user_id from privacy_changed_users)
    union
    select session_id, 'privacy'
    from {{ identities }}
    where session_user_id in (select user_id from privacy_changed_users)
),

changes as (
    select * from delivered
    union all select * from as_of_moved
    union all select * from identity_changed
    union all select * from privacy_changed
)

select session_id, {{ run_started() }} as changed_at, cast(min(reason) as varchar(16)) as reason
from changes
group by session_id

{%- endif %}
