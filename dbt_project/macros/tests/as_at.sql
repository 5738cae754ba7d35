{#
    "As at" tests: nothing in the model is later than the report month being built.

    not_after_report_month: a YYYY-MM column (e.g. source_month) is <= var report_month.
    before_report_period_end: a timestamp column (e.g. updated_at) is before the first instant
    after the report month.
#}
{% test not_after_report_month(model, column_name) %}
    select *
    from {{ model }}
    where {{ column_name }} > {{ report_month_literal() }}
{% endtest %}


{% test before_report_period_end(model, column_name) %}
    select *
    from {{ model }}
    where {{ column_name }} >= {{ report_period_end() }}
{% endtest %}
