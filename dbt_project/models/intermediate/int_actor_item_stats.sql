{{
  config(
    unique_key='actor_id',
    indexes=postgres_indexes([{'columns': ['actor_id']}]),
    post_hook=["{{ delete_vanished_keys('item_id is null') }}", "{{ record_build() }}"]
  )
}}
{#
  The figures of user_item_interactions, one row per (actor, item). An event's items are its
  own perfume_id, house_id and post_id (SPEC section 5: not the catalog's house of a perfume).
  A run recomputes every item of the actors it touched (an actor's history is small) and of the
  actors with an event that entered or left the 30-day window as as_of moved; every other pair
  keeps the same events in its window, so its `recent_affinity_at_anchor` (computed for the as_of
  `recent_anchor`) only needs rescaling, which user_item_interactions does as a view. An actor
  left without events keeps one placeholder row (item_id null) that the post-hook deletes.
#}

{%- set state = last_build() -%}

with touched_actors as (
    {{ touched_actors(state) }}
    union
    {{ window_crossing_keys(state, 30, 'actor_id') }}
),

{#- only the columns used below: PostgreSQL materializes a CTE read several times #}
actor_events as (
    select event_id, actor_id, resolved_user_id, event_type, perfume_id, house_id, post_id, value,
        occurred_at, received_at
    from {{ staged_events() }}
    where (perfume_id is not null or house_id is not null or post_id is not null)
    {%- if state is not none %}
        and actor_id in (select actor_id from touched_actors)
    {%- endif %}
),

weights as (
    select event_type, weight from {{ ref('event_weights') }}
),

{#- one row per (event, item it names), with the event's weight #}
item_events as (
    {%- for item_type, column in [('perfume', 'perfume_id'), ('house', 'house_id'), ('post', 'post_id')] %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select actor_events.actor_id, actor_events.resolved_user_id, '{{ item_type }}' as item_type,
        actor_events.{{ column }} as item_id, actor_events.event_id, actor_events.event_type, actor_events.value,
        actor_events.occurred_at, actor_events.received_at, coalesce(weights.weight, 0) as weight
    from actor_events
    left join weights on weights.event_type = actor_events.event_type
    where actor_events.{{ column }} is not null
    {%- endfor %}
),

pairs as (
    select
        actor_id,
        max(resolved_user_id) as user_id,
        item_type,
        item_id,
        count(*) as interactions,
        sum(weight) as affinity,
        sum(case when occurred_at > {{ window_start(30) }} then
            weight * power(0.5, {{ seconds_between('occurred_at', as_of()) }} / 86400.0 / 7.0) else 0 end)
            as recent_affinity_at_anchor,
        min(occurred_at) as first_interaction_at,
        max(occurred_at) as last_interaction_at,
        {#- wishlist, collection and rating are a perfume's; a house or post row keeps the defaults #}
        item_type = 'perfume' and coalesce({{ value_at_last('event_type', event_order(),
            "event_type in ('WISHLIST_ADD', 'WISHLIST_REMOVE')") }} = 'WISHLIST_ADD', false) as is_wishlisted,
        item_type = 'perfume' and max(case when event_type = 'COLLECTION_ADD' then 1 else 0 end) = 1 as is_collected,
        case when item_type = 'perfume' then
            {{ value_at_last('value', event_order(), "event_type = 'RATING_COMPLETED'") }}
        end as latest_rating
    from item_events
    group by actor_id, item_type, item_id
),

{#- touched actors without any item left: placeholders, deleted by the post-hook #}
with_placeholders as (
    select * from pairs
    {%- if state is not none %}
    union all
    select
        touched_actors.actor_id, cast(null as varchar), cast(null as varchar), cast(null as varchar), 0,
        0.0, 0.0, cast(null as timestamp), cast(null as timestamp), false, false, cast(null as double precision)
    from touched_actors
    where touched_actors.actor_id not in (select actor_id from pairs)
    {%- endif %}
)

select
    actor_id,
    user_id,
    item_type,
    item_id,
    cast(interactions as bigint) as interactions,
    cast(affinity as double precision) as affinity,
    cast(recent_affinity_at_anchor as double precision) as recent_affinity_at_anchor,
    {{ as_of() }} as recent_anchor,
    first_interaction_at,
    last_interaction_at,
    is_wishlisted,
    is_collected,
    cast(latest_rating as double precision) as latest_rating
from with_placeholders
