{#
    Every row satisfies a SQL boolean expression (model-level), or, given on a column, the
    expression applied to that column (e.g. expression: ">= 0"). Rows where the expression is
    null count as failures.

    data_tests:
      - expression_is_true:
          arguments:
            expression: "rows_read = rows_landed + rows_quarantined"
#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not coalesce(
        {%- if column_name %} {{ column_name }} {{ expression }}
        {%- else %} {{ expression }}
        {%- endif %}, false)
{% endtest %}
