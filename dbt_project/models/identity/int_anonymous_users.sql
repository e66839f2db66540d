{{
  config(
    materialized='incremental',
    unique_key='anonymous_id',
    incremental_strategy='delete+insert',
    indexes=postgres_indexes([{'columns': ['anonymous_id'], 'unique': true}, {'columns': ['_changed_at']}]),
    post_hook=["{{ record_build() }}"]
  )
}}
{#
  anonymous_user(a) of SPEC section 5: the user_id of the first event RECEIVED (received_at,
  then occurred_at, then event_id) that carries both anonymous_id = a and a user_id, over the
  events eligible before opt-outs. Received, not occurred: a forged old client timestamp cannot
  claim a browser's history ahead of its owner. Rebuilt for the anonymous ids of new, replaced or
  erased deliveries and of events whose eligibility changed with as_of. An id that had a claim
  and lost it keeps its row with user_id null, so the identity history re-resolves its sessions.
#}

{%- set events = ref('base_interaction_events') -%}
{%- set state = last_build() -%}

with touched_anonymous_ids as (
    {%- if state is not none %}
    select anonymous_id from {{ events }} where _loaded_at > {{ state.built_at }} and anonymous_id is not null
    union
    select anonymous_id from {{ events }}
    where anonymous_id is not null
        and occurred_at > least({{ state.as_of }}, {{ as_of() }})
        and occurred_at <= greatest({{ state.as_of }}, {{ as_of() }})
    {%- else %}
    select distinct anonymous_id from {{ events }} where anonymous_id is not null
    {%- endif %}
),

claims as (
    select events.anonymous_id, events.user_id, events.occurred_at, events.received_at, events.event_id
    from {{ events }} as events
    where {{ eligible_events('events') }}
        and events.anonymous_id is not null
        and events.user_id is not null
    {%- if state is not none %}
        and events.anonymous_id in (select anonymous_id from touched_anonymous_ids)
    {%- endif %}
),

first_claims as (
    select
        anonymous_id,
        {{ value_at_first('user_id', arrival_order()) }} as user_id,
        {{ value_at_first('occurred_at', arrival_order()) }} as identified_at
    from claims
    group by anonymous_id
),

keyed as (
    select anonymous_id from first_claims
    {%- if state is not none %}
    union
    select anonymous_id from {{ this }}
    where user_id is not null and anonymous_id in (select anonymous_id from touched_anonymous_ids)
    {%- endif %}
)

select
    keyed.anonymous_id,
    first_claims.user_id,
    first_claims.identified_at,
    {{ run_started() }} as _changed_at
from keyed
left join first_claims on first_claims.anonymous_id = keyed.anonymous_id
