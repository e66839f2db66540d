{# Each incremental model remembers when it was last built and for which as_of, in one small
   table. A model rebuilds the keys touched since ITS last build, so running a subset of the
   models (an hourly schedule, a failed run) never loses a change for the others. #}

{% macro incremental_state_relation() -%}
  {{ target.schema }}.dbt_incremental_state
{%- endmacro %}

{% macro create_incremental_state_table() %}
  create schema if not exists {{ target.schema }};
  create table if not exists {{ incremental_state_relation() }} (
    model_name varchar(200) not null,
    built_at timestamp not null,
    as_of timestamp not null
  );
{% endmacro %}

{# post-hook of every incremental model #}
{% macro record_incremental_state() %}
  insert into {{ incremental_state_relation() }} (model_name, built_at, as_of)
  values ('{{ this.identifier }}', {{ run_started() }}, {{ as_of() }})
{% endmacro %}

{# {'built_at': <SQL literal>, 'as_of': <SQL literal>} of the last build, or none when this
   run must build everything (first run, --full-refresh, no state recorded). #}
{% macro last_build() %}
  {% if not execute or not is_incremental() %}{{ return(none) }}{% endif %}
  {% set query %}
    select cast(built_at as varchar), cast(as_of as varchar)
    from {{ incremental_state_relation() }}
    where model_name = '{{ this.identifier }}'
    order by built_at desc
    limit 1
  {% endset %}
  {% set rows = run_query(query).rows %}
  {% if rows | length == 0 %}{{ return(none) }}{% endif %}
  {{ return({
    'built_at': "cast('" ~ rows[0][0] ~ "' as timestamp)",
    'as_of': "cast('" ~ rows[0][1] ~ "' as timestamp)",
  }) }}
{% endmacro %}

{# Delete the placeholder rows a model writes for keys that no longer have any event
   (delete+insert can only remove keys that the new rows mention). #}
{% macro delete_vanished_keys(condition) %}
  delete from {{ this }} where {{ condition }}
{% endmacro %}

{# ref('stg_interaction_events'), for a model of this run: staging is a table built for one
   as_of, so a model reading it must run in the same invocation as staging (select it with its
   upstream, `dbt run -s +model`), or it would compute its marts at another as_of, or miss
   events staging has not taken in yet. #}
{% macro staged_events() %}
  {%- set relation = ref('stg_interaction_events') -%}
  {%- if execute and model.resource_type == 'model' -%}
    {%- set query -%}
      select count(*) from {{ incremental_state_relation() }}
      where model_name = 'stg_interaction_events' and built_at = {{ run_started() }}
    {%- endset -%}
    {%- if run_query(query).rows[0][0] == 0 -%}
      {{ exceptions.raise_compiler_error(
        model.name ~ " reads stg_interaction_events, which this run did not build: build them in the"
        ~ " same run, e.g. `dbt run -s +" ~ model.name ~ "` (Dagster's jobs select upstream models)") }}
    {%- endif -%}
  {%- endif -%}
  {{ return(relation) }}
{% endmacro %}
