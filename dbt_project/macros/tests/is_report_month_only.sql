{#
    Every row of the model belongs to the report month being built (for tables rebuilt per
    month, whose report_month column says which month they are "as at").
#}
{% test is_report_month_only(model, column_name) %}
    select *
    from {{ model }}
    where {{ column_name }} is distinct from {{ report_month_literal() }}
{% endtest %}
