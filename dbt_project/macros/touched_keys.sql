{# What a model must rebuild since its last build (`state` from last_build()): the sessions
   changed since then (models/incremental/changed_sessions.sql says why a session changes), and
   from them the actors, users, perfumes and posts they touch. With no state, everything. #}

{# The deliveries (not only winners: a replaced delivery's keys are rebuilt too) of the sessions
   touched since `state`, with `columns` of base_interaction_events. #}
{#- Every touched_* macro starts here: the models the keys come from, declared whatever the
    branch (with no state, at parse time, nothing below reads them), so dbt's lineage has them.
    A unit test builds everything (no state) and mocks only the inputs the SQL reads. #}
{% macro touched_keys_lineage() %}
  {%- if model.resource_type == 'model' -%}
    {%- set lineage = [
      ref('base_interaction_events'), ref('int_session_identity_history'), ref('base_user_privacy_states'),
      ref('changed_sessions'),
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

{# The sessions changed since `state` (with no state: none, the caller builds everything).
   changed_sessions must have been built in this run, or the changes since its last build would
   be missed. #}
{% macro touched_sessions(state) %}
  {%- do touched_keys_lineage() -%}
  {%- if state is none -%}
  select cast(null as varchar) as session_id where 1 = 0
  {%- else %}
  {%- do require_built_this_run('changed_sessions') -%}
  select distinct session_id from {{ ref('changed_sessions') }} where changed_at > {{ state.built_at }}
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

{# The `column` values (actors, users) of staged events that entered or left a `days`-day window
   because as_of moved since `state`: occurred_at between the two window starts. A key without
   such an event keeps the same events in its window, so its windowed figures stay exact
   (decayed ones only need rescaling to the new as_of, see decayed_since()). #}
{% macro window_crossing_keys(state, days, column) %}
  {%- if state is none -%}
  select cast(null as varchar) as {{ column }} where 1 = 0
  {%- else -%}
  select distinct {{ column }} from {{ staged_events() }}
  where {{ column }} is not null
      and occurred_at > least({{ state.as_of }}, {{ as_of() }}) - interval '{{ days }} days'
      and occurred_at <= greatest({{ state.as_of }}, {{ as_of() }}) - interval '{{ days }} days'
  {%- endif -%}
{% endmacro %}

{# A decayed sum kept at `anchor` (the as_of it was computed for), brought to this run's as_of:
   Σ w·0.5^((as_of−t)/h) = 0.5^((as_of−anchor)/h) · Σ w·0.5^((anchor−t)/h). The anchor is never
   older than the window, so the factor cannot overflow. #}
{% macro decayed_since(sum_column, anchor_column, half_life_days) -%}
  ({{ sum_column }} * power(0.5, {{ seconds_between(anchor_column, as_of()) }} / 86400.0 / {{ half_life_days }}))
{%- endmacro %}
