{# Read the raw stores with one set of column types whatever the engine: event_id as text,
   event_data as JSON, timestamps as UTC `timestamp`. #}

{% macro raw_events_relation() %}
  {% set relation = source('raw', 'interaction_events') %}
  {% if raw_store_exists(relation) %}
    {{ return(relation) }}
  {% endif %}
  {{ return("(select cast(null as varchar) as event_id, cast(null as timestamptz) as received_at,
      cast(null as timestamptz) as occurred_at, cast(null as varchar) as session_id,
      cast(null as varchar) as user_id, cast(null as varchar) as event_type,
      cast(null as varchar) as event_category, cast(null as varchar) as perfume_id,
      cast(null as varchar) as house_id, cast(null as varchar) as post_id, cast(null as varchar) as path,
      cast(null as varchar) as referrer, cast(null as varchar) as user_agent,
      cast(null as varchar) as device_type, cast(null as varchar) as browser, cast(null as varchar) as os,
      cast(null as boolean) as is_bot, cast(null as integer) as duration_ms,
      cast(null as integer) as scroll_depth, cast(null as double precision) as value,
      cast(null as varchar) as source, cast(null as varchar) as event_data,
      cast(null as varchar) as anonymous_id where 1 = 0)") }}
{% endmacro %}

{% macro privacy_events_relation() %}
  {% set relation = source('raw', 'user_privacy_events') %}
  {% if raw_store_exists(relation) %}
    {{ return(relation) }}
  {% endif %}
  {{ return("(select cast(null as varchar) as user_id, cast(null as varchar) as action,
      cast(null as timestamptz) as requested_at where 1 = 0)") }}
{% endmacro %}

{# `where_sql` filters the raw columns before any conversion, so DuckDB can skip whole
   Parquet row groups and PostgreSQL can use the received_at index. #}
{% macro normalized_raw_events(where_sql='1 = 1') %}
  select
    cast(event_id as varchar) as event_id,
    {{ utc_timestamp('received_at') }} as received_at,
    {{ utc_timestamp('occurred_at') }} as occurred_at,
    session_id,
    user_id,
    case when user_id is not null then 'u:' || user_id else 's:' || session_id end as actor_id,
    event_type,
    event_category,
    perfume_id,
    house_id,
    post_id,
    path,
    referrer,
    user_agent,
    device_type,
    browser,
    os,
    is_bot,
    duration_ms,
    scroll_depth,
    cast(value as double precision) as value,
    source,
    cast(event_data as {{ json_type() }}) as event_data,
    {#- Parquet files written before the column existed read it as null (union_by_name) #}
    anonymous_id
  from {{ raw_events_relation() }} as raw_events
  where {{ where_sql }}
{% endmacro %}

{# Order of the deliveries of one event_id: the earliest received_at wins (SPEC section 5),
   ties by occurred_at then by content, so every engine picks the same row. #}
{% macro delivery_order() -%}
  received_at, occurred_at, session_id, event_type, coalesce(user_id, ''), coalesce(perfume_id, ''),
  coalesce(post_id, ''), coalesce(path, '')
{%- endmacro %}
