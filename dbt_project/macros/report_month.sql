{#
    The report month a build is "as at" (var report_month, YYYY-MM) and the period it covers.

    Every staging model keeps only what existed at the end of the report month: partitions with
    month <= report_month and record versions with updated_at < report_period_end(). Marts carry
    report_month as a column and are replaced month by month (overwrite_report_month.sql).
#}

{% macro report_month() -%}
    {%- set month = var('report_month', none) -%}
    {%- if month is none or (month | string) == '' -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error("var report_month is required (YYYY-MM), e.g. --vars '{report_month: 2026-03}'") }}
        {%- endif -%}
        {{- return('1900-01') -}}
    {%- endif -%}
    {%- set month = month | string -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-(0[1-9]|1[0-2])', month) -%}
        {{ exceptions.raise_compiler_error("var report_month must be YYYY-MM, got '" ~ month ~ "'") }}
    {%- endif -%}
    {{- return(month) -}}
{%- endmacro %}


{# The first instant of the report month, as a SQL timestamp literal. #}
{% macro report_period_start() -%}
    timestamp '{{ report_month() }}-01 00:00:00'
{%- endmacro %}


{# The first instant after the report month (exclusive end), as a SQL timestamp literal. #}
{% macro report_period_end() -%}
    {%- set parts = report_month().split('-') -%}
    {%- set year = parts[0] | int -%}
    {%- set month = parts[1] | int -%}
    {%- if month == 12 -%}{%- set year = year + 1 -%}{%- set month = 1 -%}{%- else -%}{%- set month = month + 1 -%}{%- endif -%}
    timestamp '{{ "%04d-%02d" | format(year, month) }}-01 00:00:00'
{%- endmacro %}


{# The report month as a SQL string literal, for the report_month column of the marts. #}
{% macro report_month_literal() -%}
    '{{ report_month() }}'
{%- endmacro %}
