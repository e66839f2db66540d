{# The events whose keys a model must rebuild since its last build (`state` from last_build()):

   - every event of a session in which an event was (re)written into base_interaction_events
     (new deliveries, earlier duplicates, erasures); taking the whole session also covers the
     behaviour-bot rule flipping the session;
   - every event of a user whose privacy state changed (opt-out, opt-in, erasure);
   - every event whose eligibility `occurred_at <= as_of` changed because as_of moved.

   All deliveries are returned (not only winners), so the keys of a replaced delivery are
   rebuilt too. With no state, every event. `columns` are columns of base_interaction_events. #}
{% macro touched_events(state, columns) %}
  {%- set events = ref('base_interaction_events') -%}
  {%- set privacy = ref('base_user_privacy_states') -%}
  {%- if state is none -%}
    select distinct {{ columns | join(', ') }} from {{ events }}
  {%- else -%}
    select {{ columns | join(', ') }} from {{ events }}
    where session_id in (select session_id from {{ events }} where _loaded_at > {{ state.built_at }})
    union
    select {{ columns | join(', ') }} from {{ events }}
    where user_id in (select user_id from {{ privacy }} where _changed_at > {{ state.built_at }})
    union
    select {{ columns | join(', ') }} from {{ events }}
    where occurred_at > least({{ state.as_of }}, {{ as_of() }})
      and occurred_at <= greatest({{ state.as_of }}, {{ as_of() }})
  {%- endif -%}
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
