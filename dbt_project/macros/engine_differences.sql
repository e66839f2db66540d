{# The only places where DuckDB and PostgreSQL SQL differ. Everything else in the models is
   plain SQL both engines (and the larger warehouses) understand. #}

{% macro json_type() %}{{ return(adapter.dispatch('json_type', 'interaction_pipeline')()) }}{% endmacro %}
{% macro default__json_type() %}json{% endmacro %}
{% macro postgres__json_type() %}jsonb{% endmacro %}

{# Exact seconds between two UTC timestamps (no float rounding of the epoch itself). #}
{% macro seconds_between(start_at, end_at) %}
  {{- return(adapter.dispatch('seconds_between', 'interaction_pipeline')(start_at, end_at)) -}}
{% endmacro %}
{% macro default__seconds_between(start_at, end_at) -%}
  (cast(epoch_us({{ end_at }}) - epoch_us({{ start_at }}) as double) / 1000000.0)
{%- endmacro %}
{% macro postgres__seconds_between(start_at, end_at) -%}
  cast(extract(epoch from ({{ end_at }} - {{ start_at }})) as double precision)
{%- endmacro %}

{# One row per (event, listed perfume id) of `event_data.resultPerfumeIds`; a missing or
   non-array value lists nothing. `relation` must have event_id and event_data. #}
{% macro result_perfume_ids(relation, columns) %}
  {{- return(adapter.dispatch('result_perfume_ids', 'interaction_pipeline')(relation, columns)) -}}
{% endmacro %}
{% macro default__result_perfume_ids(relation, columns) -%}
  select {% for column in columns %}listed.{{ column }}, {% endfor %}listed.listed_perfume_id as perfume_id
  from (
    select {% for column in columns %}{{ column }}, {% endfor %}
      unnest(
        case when json_type(event_data, '$.resultPerfumeIds') = 'ARRAY'
          then json_extract_string(event_data, '$.resultPerfumeIds[*]')
          else cast([] as varchar[]) end
      ) as listed_perfume_id
    from {{ relation }}
  ) as listed
  where listed.listed_perfume_id is not null
{%- endmacro %}
{% macro postgres__result_perfume_ids(relation, columns) -%}
  select {% for column in columns %}listing.{{ column }}, {% endfor %}listed.value as perfume_id
  from {{ relation }} as listing
  cross join lateral jsonb_array_elements_text(
    case when jsonb_typeof(listing.event_data -> 'resultPerfumeIds') = 'array'
      then listing.event_data -> 'resultPerfumeIds' else '[]'::jsonb end
  ) as listed(value)
  where listed.value is not null
{%- endmacro %}

{# Keep only the search result list of an erased event: enough to know which perfumes to
   recompute, nothing about the person. #}
{% macro keep_result_perfume_ids(event_data) %}
  {{- return(adapter.dispatch('keep_result_perfume_ids', 'interaction_pipeline')(event_data)) -}}
{% endmacro %}
{% macro default__keep_result_perfume_ids(event_data) -%}
  json_object('resultPerfumeIds', json_extract({{ event_data }}, '$.resultPerfumeIds'))
{%- endmacro %}
{% macro postgres__keep_result_perfume_ids(event_data) -%}
  jsonb_build_object('resultPerfumeIds', {{ event_data }} -> 'resultPerfumeIds')
{%- endmacro %}

{# JSON array of text values in the given order; `[]` when there are none. #}
{% macro json_text_array_agg(expression, order_by) %}
  {{- return(adapter.dispatch('json_text_array_agg', 'interaction_pipeline')(expression, order_by)) -}}
{% endmacro %}
{% macro default__json_text_array_agg(expression, order_by) -%}
  to_json(coalesce(list({{ expression }} order by {{ order_by }}), cast([] as varchar[])))
{%- endmacro %}
{% macro postgres__json_text_array_agg(expression, order_by) -%}
  coalesce(jsonb_agg({{ expression }} order by {{ order_by }}), '[]'::jsonb)
{%- endmacro %}

{% macro empty_json_array() %}{{ return(adapter.dispatch('empty_json_array', 'interaction_pipeline')()) }}{% endmacro %}
{% macro default__empty_json_array() %}cast('[]' as json){% endmacro %}
{% macro postgres__empty_json_array() %}'[]'::jsonb{% endmacro %}

{# {"min": .., "max": .., "avg": ..} with keys in that order. #}
{% macro json_price_range(min_expression, max_expression, avg_expression) %}
  {{- return(adapter.dispatch('json_price_range', 'interaction_pipeline')(min_expression, max_expression, avg_expression)) -}}
{% endmacro %}
{% macro default__json_price_range(min_expression, max_expression, avg_expression) -%}
  json_object('min', {{ min_expression }}, 'max', {{ max_expression }}, 'avg', {{ avg_expression }})
{%- endmacro %}
{% macro postgres__json_price_range(min_expression, max_expression, avg_expression) -%}
  jsonb_build_object('min', {{ min_expression }}, 'max', {{ max_expression }}, 'avg', {{ avg_expression }})
{%- endmacro %}

{# Does the raw store hold anything to read? An empty embedded store has no Parquet file at
   all, and a fresh PostgreSQL may not have the raw schema yet: both read as no events. #}
{% macro raw_store_exists(source_relation) %}
  {{- return(adapter.dispatch('raw_store_exists', 'interaction_pipeline')(source_relation)) -}}
{% endmacro %}
{% macro default__raw_store_exists(source_relation) %}
  {% if not execute %}{{ return(true) }}{% endif %}
  {% set location = source_relation.external if source_relation.external is defined else none %}
  {% set pattern = modules.re.search("read_parquet[(]'([^']*)'", location or '') %}
  {% if pattern is none %}{{ return(true) }}{% endif %}
  {% set found = run_query("select count(*) from glob('" ~ pattern.group(1) ~ "')") %}
  {{ return(found.rows[0][0] > 0) }}
{% endmacro %}
{% macro postgres__raw_store_exists(source_relation) %}
  {% if not execute %}{{ return(true) }}{% endif %}
  {% set found = adapter.get_relation(database=source_relation.database, schema=source_relation.schema, identifier=source_relation.identifier) %}
  {{ return(found is not none) }}
{% endmacro %}

{# Indexes help PostgreSQL find touched keys; DuckDB scans columns fast and its ART indexes
   would only slow loading down, so they are PostgreSQL-only. #}
{% macro postgres_indexes(indexes) %}
  {{ return(indexes if target.type == 'postgres' else []) }}
{% endmacro %}

{# A timestamptz as a UTC `timestamp`. DuckDB: straight from the epoch (no time-zone library
   call per row, ten times faster on large scans). #}
{% macro utc_timestamp(column) %}
  {{- return(adapter.dispatch('utc_timestamp', 'interaction_pipeline')(column)) -}}
{% endmacro %}
{% macro default__utc_timestamp(column) -%}
  make_timestamp(epoch_us({{ column }}))
{%- endmacro %}
{% macro postgres__utc_timestamp(column) -%}
  ({{ column }} at time zone 'UTC')
{%- endmacro %}

{# Aggregate: `expression` at the first (or last) row of the group in `order_columns` order,
   null values included; rows failing `condition` are skipped. #}
{% macro value_at_first(expression, order_columns, condition=none) %}
  {{- return(adapter.dispatch('value_at_end', 'interaction_pipeline')(expression, order_columns, condition, 'first')) -}}
{% endmacro %}
{% macro value_at_last(expression, order_columns, condition=none) %}
  {{- return(adapter.dispatch('value_at_end', 'interaction_pipeline')(expression, order_columns, condition, 'last')) -}}
{% endmacro %}
{% macro default__value_at_end(expression, order_columns, condition, end) -%}
  {{ 'arg_min_null' if end == 'first' else 'arg_max_null' }}({{ expression }}, row({{ order_columns | join(', ') }}))
  {%- if condition %} filter (where {{ condition }}){% endif %}
{%- endmacro %}
{% macro postgres__value_at_end(expression, order_columns, condition, end) -%}
  (array_agg({{ expression }} order by
    {%- for column in order_columns %} {{ column }}{{ '' if end == 'first' else ' desc' }}{{ ',' if not loop.last }}{% endfor %})
  {%- if condition %} filter (where {{ condition }}){% endif %})[1]
{%- endmacro %}

{# A cheap 64-bit hash of an id, for grouping (collisions allowed by the callers). #}
{% macro event_id_hash(column) %}
  {{- return(adapter.dispatch('event_id_hash', 'interaction_pipeline')(column)) -}}
{% endmacro %}
{% macro default__event_id_hash(column) %}hash({{ column }}){% endmacro %}
{% macro postgres__event_id_hash(column) %}hashtextextended({{ column }}, 0){% endmacro %}

{# pre-hook of every model. PostgreSQL: a model's sorts, hashes and index builds get enough
   memory not to spill to disk, and its commit does not wait for the WAL flush (a crash can lose
   only the last moments of a build, which the next run redoes; nothing is ever half-written).
   DuckDB: nothing to set per model (profiles.yml holds its settings). #}
{% macro build_session_settings() %}
  {{- return(adapter.dispatch('build_session_settings', 'interaction_pipeline')()) -}}
{% endmacro %}
{% macro default__build_session_settings() %}{% endmacro %}
{% macro postgres__build_session_settings() -%}
  set synchronous_commit = off; set work_mem = '128MB'; set maintenance_work_mem = '256MB'
{%- endmacro %}

{# Select-list expression giving one row per integer in [start, stop] (none when stop < start). #}
{% macro integer_series(start, stop) %}
  {{- return(adapter.dispatch('integer_series', 'interaction_pipeline')(start, stop)) -}}
{% endmacro %}
{% macro default__integer_series(start, stop) %}unnest(generate_series({{ start }}, {{ stop }})){% endmacro %}
{% macro postgres__integer_series(start, stop) %}generate_series({{ start }}, {{ stop }}){% endmacro %}

{# The Monday (UTC date) of the ISO week of a UTC timestamp. #}
{% macro iso_week_start(timestamp) -%}
  cast(date_trunc('week', {{ timestamp }}) as date)
{%- endmacro %}
