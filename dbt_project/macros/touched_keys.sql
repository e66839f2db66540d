{# What a model must rebuild since its last build (`state` from last_build()).

   An event's contribution to a mart can change because:
   - one of its deliveries was (re)written into base_interaction_events (a new delivery, an
     "earlier" duplicate, an erasure; the whole session is taken, which also covers the
     behaviour-bot rule flipping the session);
   - its eligibility `occurred_at <= as_of` changed because as_of moved;
   - the identity of its session changed (a login, here or in another session of the same
     browser, re-attributes the session: int_session_identity_history);
   - the privacy state of its resolved user changed (opt-out, opt-in, erasure).
   So everything is derived from the sessions those changes touch. With no state, everything. #}

{# The deliveries (not only winners: a replaced delivery's keys are rebuilt too) of the sessions
   touched since `state`, with `columns` of base_interaction_events. #}
{#- Every touched_* macro starts here: the models the keys come from, declared whatever the
    branch (with no state, at parse time, nothing below reads them), so dbt's lineage has them.
    A unit test builds everything (no state) and mocks only the inputs the SQL reads. #}
{% macro touched_keys_lineage() %}
  {%- if model.resource_type == 'model' -%}
    {%- set lineage = [
      ref('base_interaction_events'), ref('int_session_identity_history'), ref('int_session_users'),
      ref('base_user_privacy_states'),
    ] -%}
  {%- endif -%}
{% endmacro %}

{% macro touched_deliveries(state, columns) %}
  {%- do touched_keys_lineage() -%}
  {%- set events = ref('base_interaction_events') -%}
  {%- if state is none -%}
    select distinct {{ columns | join(', ') }} from {{ events }}
  {%- else -%}
    select distinct {{ columns | join(', ') }} from {{ events }}
    where session_id in ({{ touched_sessions(state) }})
  {%- endif -%}
{% endmacro %}

{# The sessions touched since `state` (with no state: none, the caller builds everything). #}
{% macro touched_sessions(state) %}
  {%- do touched_keys_lineage() -%}
  {%- if state is none -%}
  select cast(null as varchar) as session_id where 1 = 0
  {%- else %}
  {%- set events = ref('base_interaction_events') -%}
  {%- set history = ref('int_session_identity_history') -%}
  {%- set users = ref('int_session_users') -%}
  select session_id from {{ events }} where _loaded_at > {{ state.built_at }}
  union
  select session_id from {{ events }}
  where occurred_at > least({{ state.as_of }}, {{ as_of() }})
    and occurred_at <= greatest({{ state.as_of }}, {{ as_of() }})
  union
  select session_id from {{ history }} where assigned_at > {{ state.built_at }}
  union
  select session_id from {{ events }} where user_id in ({{ privacy_changed_users(state) }})
  union
  select session_id from {{ users }} where session_user_id in ({{ privacy_changed_users(state) }})
  {%- endif %}
{% endmacro %}

{# Users whose privacy state changed since the last build: their user-keyed rows are rebuilt
   even when none of their events is left (erasure). #}
{% macro privacy_changed_users(state) %}
  {%- set privacy = ref('base_user_privacy_states') -%}
  {%- if state is none -%}
    select user_id from {{ privacy }} where 1 = 0
  {%- else -%}
    select user_id from {{ privacy }} where _changed_at > {{ state.built_at }}
  {%- endif -%}
{% endmacro %}

{# Every actor and every user whose events may have changed since `state`: the own user of each
   touched delivery, and each user and actor its session has had (a session's history is short,
   so taking all of it is cheap and never misses the actor a model last saw), plus the users whose
   privacy state changed. With no state, none: the caller builds everything. #}
{% macro touched_actors(state) %}
  {%- do touched_keys_lineage() -%}
  {%- if state is none -%}
    select cast(null as varchar) as actor_id where 1 = 0
  {%- else -%}
    select 'u:' || user_id as actor_id
    from ({{ touched_deliveries(state, ['user_id']) }}) as touched
    where user_id is not null
    union
    select history.session_actor_id
    from {{ ref('int_session_identity_history') }} as history
    where history.session_actor_id is not null
      and history.session_id in ({{ touched_sessions(state) }})
    union
    select 'u:' || user_id from ({{ privacy_changed_users(state) }}) as changed
  {%- endif -%}
{% endmacro %}

{% macro touched_users(state) %}
  {%- do touched_keys_lineage() -%}
  {%- if state is none -%}
    select cast(null as varchar) as user_id where 1 = 0
  {%- else -%}
    select user_id
    from ({{ touched_deliveries(state, ['user_id']) }}) as touched
    where user_id is not null
    union
    select history.session_user_id
    from {{ ref('int_session_identity_history') }} as history
    where history.session_user_id is not null
      and history.session_id in ({{ touched_sessions(state) }})
    union
    select user_id from ({{ privacy_changed_users(state) }}) as changed
  {%- endif -%}
{% endmacro %}
