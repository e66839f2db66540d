{# The SQL of stg_interaction_events, inlined by every model that reads staging.

   Why not ref() the view: its `occurred_at <= as_of` is fixed when the view is (re)created, so a
   run that builds only some marts (an hourly schedule selecting the trending models) would read
   staging at an older as_of. Inlining keeps every model at its own run's as_of. Models that use it
   also declare `depends_on` the view, so lineage and build order stay those of staging. #}
{% macro stg_interaction_events() %}
  {%- set deliveries = ref('base_interaction_events') -%}
  {%- set privacy = ref('base_user_privacy_states') -%}
  {%- set bot_sessions = ref('base_session_bot_flags') -%}
  (
    select
        event_id, received_at, occurred_at, session_id, user_id, actor_id, event_type,
        event_category, perfume_id, house_id, post_id, path, referrer, user_agent, device_type,
        browser, os, duration_ms, scroll_depth, value, source, event_data, anonymous_id
    from {{ deliveries }} as deliveries
    where deliveries.is_winner
        and not deliveries.is_deleted
        and not deliveries.is_bot
        and deliveries.occurred_at <= {{ as_of() }}
        and (deliveries.user_id is null
            or deliveries.user_id not in (select user_id from {{ privacy }} where is_opted_out))
        {%- if var('exclude_behaviour_bot_sessions') %}
        and deliveries.session_id not in (select session_id from {{ bot_sessions }} where is_behaviour_bot)
        {%- endif %}
  ) as stg_interaction_events
{%- endmacro %}
