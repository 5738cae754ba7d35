{#
    Incremental strategy for the marts: replace the report month's rows.

    Every mart row carries report_month. Rebuilding a month deletes that month's rows, whatever
    the new batch holds (even nothing: a month rebuilt on an emptied lake must not keep its old
    rows), then inserts the new batch. Other months are never touched, so the marts keep the
    month-by-month history the products trend over, and a backfill of month M reproduces M.

    Used through `+incremental_strategy: overwrite_report_month` (dbt_project.yml). The first
    build of a mart creates the table from the batch.
#}
{% macro get_incremental_overwrite_report_month_sql(arg_dict) -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- set temp_relation = arg_dict['temp_relation'] -%}
    {%- set dest_columns = arg_dict['dest_columns'] -%}
    {%- set column_list = get_quoted_csv(dest_columns | map(attribute='name')) -%}
    delete from {{ target_relation }}
    where report_month = {{ report_month_literal() }};

    insert into {{ target_relation }} ({{ column_list }})
    select {{ column_list }}
    from {{ temp_relation }};
{%- endmacro %}
