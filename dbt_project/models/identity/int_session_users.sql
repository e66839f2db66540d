{{
  config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
    indexes=postgres_indexes([
      {'columns': ['session_id'], 'unique': true}, {'columns': ['session_user_id']}, {'columns': ['changed_at']},
    ]),
    post_hook=["{{ delete_vanished_keys('not has_events') }}", "{{ record_build() }}"]
  )
}}
{#
  The current identity of every session with eligible events: the latest row of
  int_session_identity_history. `stg_interaction_events` gives each event its resolved user
  (its own user_id, else session_user_id) and actor from here.
#}

{%- set history = ref('int_session_identity_history') -%}
{%- set state = last_build() -%}

with latest as (
    select session_id, session_user_id, session_anonymous_id, session_actor_id, has_events,
        assigned_at as changed_at
    from (
        select history.*,
            row_number() over (partition by session_id order by assigned_at desc) as recency
        from {{ history }} as history
        {%- if state is not none %}
        where session_id in (select session_id from {{ history }} where assigned_at > {{ state.built_at }})
        {%- endif %}
    ) as ranked
    where recency = 1
)

select * from latest
