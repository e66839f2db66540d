{# Time: every timestamp inside the warehouse is a UTC `timestamp` (no zone), so arithmetic
   never depends on a session time zone; marts expose them as UTC `timestamptz`. #}

{# The dbt var `as_of` (ISO timestamp, any zone), else the environment variable DBT_AS_OF, else
   the run's start time, as a SQL literal. The environment variable is read only when executing:
   dbt re-parses the whole project when a var passed with --vars changes, or when an env_var()
   read while parsing changes, but not for this — a scheduled or benchmarked run with its own
   as_of keeps partial parsing (about 4 s less start-up). #}
{% macro as_of() %}
  {%- set configured = var('as_of', none) -%}
  {%- if configured in (none, '', 'None') and execute -%}
    {%- set configured = env_var('DBT_AS_OF', '') -%}
  {%- endif -%}
  {%- if configured in (none, '', 'None') -%}
    {%- set moment = run_started_at -%}
  {%- else -%}
    {%- set text = configured | string | replace('Z', '+00:00') -%}
    {%- set moment = modules.datetime.datetime.fromisoformat(text) -%}
    {%- if moment.tzinfo is none -%}
      {%- set moment = moment.replace(tzinfo=modules.pytz.utc) -%}
    {%- endif -%}
  {%- endif -%}
  {{- utc_literal(moment) -}}
{% endmacro %}

{# When this run started: stamps the rows a run (re)writes, so later models can find them. #}
{% macro run_started() %}{{ utc_literal(run_started_at) }}{% endmacro %}

{% macro utc_literal(moment) -%}
  cast('{{ moment.astimezone(modules.pytz.utc).strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{% macro window_start(days) -%}
  ({{ as_of() }} - interval '{{ days }} days')
{%- endmacro %}

{# UTC timestamptz for a mart column. #}
{% macro as_utc(column) -%}
  ({{ column }} at time zone 'UTC')
{%- endmacro %}
