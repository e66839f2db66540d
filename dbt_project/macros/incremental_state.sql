{# The incremental state lives in models/incremental: `incremental_manifest` (what each model
   processed, for which as_of) and `changed_sessions` (the sessions each run changed, and why).
   A model reads the changes since ITS last build, so running a subset of the models (an hourly
   schedule, a failed run) never loses a change for the others. #}

{# post-hook of every incremental model and mart: this build, in the manifest #}
{% macro record_build() %}
  {%- set manifest = ref('incremental_manifest') -%}
  insert into {{ manifest }} (model_name, built_at, as_of, is_full_build)
  select '{{ this.identifier }}', {{ run_started() }}, {{ as_of() }},
  {%- if should_full_refresh() %} true
  {%- else %} not exists (select 1 from {{ manifest }} where model_name = '{{ this.identifier }}')
  {%- endif %}
{% endmacro %}

{# {'built_at': <SQL literal>, 'as_of': <SQL literal>} of this model's last build, or none when
   this run must build everything (first run, --full-refresh, no build recorded). Declares the
   manifest as an input, so dbt builds it first. #}
{% macro last_build() %}
  {#- a unit test builds everything and must not be asked to mock the manifest #}
  {% if model.resource_type != 'model' %}{{ return(none) }}{% endif %}
  {%- set manifest = ref('incremental_manifest') -%}
  {% if not execute or not is_incremental() %}{{ return(none) }}{% endif %}
  {% set query %}
    select cast(built_at as varchar), cast(as_of as varchar)
    from {{ manifest }}
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
  {%- do require_built_this_run('stg_interaction_events') -%}
  {{ return(relation) }}
{% endmacro %}

{% macro require_built_this_run(model_name) %}
  {%- if execute and model.resource_type == 'model' -%}
    {%- set query -%}
      select count(*) from {{ ref('incremental_manifest') }}
      where model_name = '{{ model_name }}' and built_at = {{ run_started() }}
    {%- endset -%}
    {%- if run_query(query).rows[0][0] == 0 -%}
      {{ exceptions.raise_compiler_error(
        model.name ~ " reads " ~ model_name ~ ", which this run did not build: build them in the"
        ~ " same run, e.g. `dbt run -s +" ~ model.name ~ "` (Dagster's jobs select upstream models)") }}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}

{# post-hook of changed_sessions: delete the changes every model that reads them has consumed
   (built after them). A reader that was never built is not waited for: its first build reads
   everything. #}
{% macro forget_consumed_changes() %}
  {%- set readers = [] -%}
  {%- if execute -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and this.identifier != node.name
          and ('model.' ~ project_name ~ '.' ~ this.identifier) in node.depends_on.nodes -%}
      {%- do readers.append(node.name) -%}
    {%- endfor -%}
  {%- endif -%}
  {%- if readers -%}
  delete from {{ this }}
  where changed_at <= (
      select min(last_built_at) from (
          select model_name, max(built_at) as last_built_at
          from {{ ref('incremental_manifest') }}
          where model_name in ('{{ readers | join("', '") }}')
          group by model_name
      ) as readers
  )
  {%- else -%}
  select 1
  {%- endif -%}
{% endmacro %}
