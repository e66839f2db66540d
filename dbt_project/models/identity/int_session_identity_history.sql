{{
  config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
    indexes=postgres_indexes([
      {'columns': ['session_id']}, {'columns': ['assigned_at']}, {'columns': ['session_user_id']},
    ]),
    post_hook=["{{ record_build() }}"]
  )
}}
{#
  Every identity each session has had, appended whenever it changes: its resolved user
  (session_user of SPEC section 5: the user of its earliest event that has one, else the
  anonymous_user of its anonymous id) and the actor its events without a user of their own belong
  to ('u:' resolved user, else 'a:' anonymous id, else 's:' session id). A login re-attributes
  the sessions of its browser: here that is a new row for each of them.

  Kept as history, not updated in place, because the models downstream are built on their own
  schedules: a model rebuilding a session must also rebuild the actor the session had when that
  model last ran, however many times it changed since (macros/touched_keys.sql). The one thing
  forgotten is an erased user: their rows go (the models downstream rebuild 'u:' || the user for
  the erasure anyway). A run rewrites the whole history of each session it looks at.
  `has_events` false: the session has no eligible event any more.
#}

{%- set sessions = ref('int_session_identities') -%}
{%- set anonymous_users = ref('int_anonymous_users') -%}
{%- set privacy = ref('base_user_privacy_states') -%}
{%- set state = last_build() -%}

with
{%- if state is not none %}
newly_erased_users as (
    select user_id from {{ privacy }} where erase_requests > 0 and _changed_at > {{ state.built_at }}
),

{#- sessions that had an erased user: their current identity is written again, newly stamped, so
    int_session_users takes it up even when it equals the row before the erased ones #}
purged_sessions as (
    select session_id from {{ this }} where session_user_id in (select user_id from newly_erased_users)
),
{%- endif %}

candidate_sessions as (
    {%- if state is not none %}
    select session_id from {{ sessions }} where _changed_at > {{ state.built_at }}
    union
    select identities.session_id
    from {{ sessions }} as identities
    inner join {{ anonymous_users }} as claims on claims.anonymous_id = identities.anonymous_id
    where claims._changed_at > {{ state.built_at }}
    union
    select session_id from purged_sessions
    {%- else %}
    select session_id from {{ sessions }}
    {%- endif %}
),

resolved as (
    select
        candidate_sessions.session_id,
        coalesce(identities.first_user_id, claims.user_id) as session_user_id,
        identities.anonymous_id as session_anonymous_id,
        coalesce(identities.has_events, false) as has_events
    from candidate_sessions
    left join {{ sessions }} as identities on identities.session_id = candidate_sessions.session_id
    left join {{ anonymous_users }} as claims on claims.anonymous_id = identities.anonymous_id
),

with_actors as (
    select
        session_id,
        session_user_id,
        session_anonymous_id,
        case when has_events then {{ actor_of('session_user_id', 'session_anonymous_id', 'session_id') }} end
            as session_actor_id,
        has_events
    from resolved
),

{%- if state is not none %}

kept_history as (
    select session_id, session_user_id, session_anonymous_id, session_actor_id, has_events, assigned_at
    from {{ this }}
    where session_id in (select session_id from candidate_sessions)
        and (session_user_id is null or session_user_id not in (select user_id from newly_erased_users))
),

latest_known as (
    select session_id, session_user_id, session_anonymous_id, session_actor_id, has_events
    from (
        select kept_history.*,
            row_number() over (partition by session_id order by assigned_at desc) as recency
        from kept_history
    ) as ranked
    where recency = 1
),

{#- a candidate with nothing kept gets a row even without events, so that its old rows go #}
changed as (
    select with_actors.*
    from with_actors
    left join latest_known on latest_known.session_id = with_actors.session_id
    where latest_known.session_id is null
        or with_actors.session_id in (select session_id from purged_sessions)
        or latest_known.session_id is not null and (
            latest_known.has_events <> with_actors.has_events
            or coalesce(latest_known.session_actor_id, '') <> coalesce(with_actors.session_actor_id, '')
            or coalesce(latest_known.session_user_id, '') <> coalesce(with_actors.session_user_id, '')
            or coalesce(latest_known.session_anonymous_id, '') <> coalesce(with_actors.session_anonymous_id, '')
        )
),

{%- else %}

changed as (
    select * from with_actors where has_events
),

{%- endif %}

stamped as (
    select session_id, session_user_id, session_anonymous_id, session_actor_id, has_events,
        {{ run_started() }} as assigned_at
    from changed
    {%- if state is not none %}
    union all
    select * from kept_history
    {%- endif %}
)

select * from stamped
