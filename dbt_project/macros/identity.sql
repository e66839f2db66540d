{# The events identities are resolved over before opt-outs (SPEC section 5): the winning delivery
   of each event_id, not erased, not a crawler's, occurred_at <= as_of, and not in a flagged
   behaviour-bot session when var('exclude_behaviour_bot_sessions') is on. `alias` is a
   base_interaction_events relation. #}
{% macro eligible_events(alias) %}
  {%- set bot_sessions = ref('base_session_bot_flags') -%}
  {{ alias }}.is_winner
    and not {{ alias }}.is_deleted
    and not {{ alias }}.is_bot
    and {{ alias }}.occurred_at <= {{ as_of() }}
    {%- if var('exclude_behaviour_bot_sessions') %}
    and {{ alias }}.session_id not in (select session_id from {{ bot_sessions }} where is_behaviour_bot)
    {%- endif %}
{% endmacro %}

{# SPEC section 5: the order of "earliest" (occurred_at, received_at, event_id) and the order in
   which a browser's claims are RECEIVED (received_at, occurred_at, event_id). #}
{% macro event_order() %}{{ return(['occurred_at', 'received_at', 'event_id']) }}{% endmacro %}
{% macro arrival_order() %}{{ return(['received_at', 'occurred_at', 'event_id']) }}{% endmacro %}

{# The actor of SPEC section 5 from an event's resolved user and its session's anonymous id. #}
{% macro actor_of(resolved_user_id, session_anonymous_id, session_id) -%}
  case
    when {{ resolved_user_id }} is not null then 'u:' || {{ resolved_user_id }}
    when {{ session_anonymous_id }} is not null then 'a:' || {{ session_anonymous_id }}
    else 's:' || {{ session_id }}
  end
{%- endmacro %}
