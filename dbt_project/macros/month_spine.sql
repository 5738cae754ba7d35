{#
    A month spine: one 'YYYY-MM' string per calendar month, from a first month to the report month
    (both included), for the select list of a mart that fills months without rows with zeros.
    It is a set-returning expression (unnest), so it yields one row per month for each input row,
    or for each group of a grouped select.

    Give exactly one of:
      months       the last N months, the report month included (N a number: a fixed trend window)
      first_month  a SQL expression for the first month as 'YYYY-MM' (e.g. min(month) in a grouped
                   select: every month from each group's first month on)

        select {{ month_spine(months=36) }} as month

        select force_id, {{ month_spine(first_month='min(month)') }} as month
        from counted
        group by force_id
#}
{% macro month_spine(months=none, first_month=none) -%}
    {%- if (months is none) == (first_month is none) -%}
        {{ exceptions.raise_compiler_error("month_spine: give exactly one of months or first_month") }}
    {%- endif -%}
    {%- if months is not none -%}
        {%- set start -%} {{ report_period_start() }} - to_months({{ (months | int) - 1 }}) {%- endset -%}
    {%- else -%}
        {%- set start -%} {{ first_month }} || '-01' {%- endset -%}
    {%- endif -%}
    strftime(unnest(generate_series(
        cast({{ start }} as date),
        cast({{ report_period_start() }} as date),
        interval 1 month
    )), '%Y-%m')
{%- endmacro %}
