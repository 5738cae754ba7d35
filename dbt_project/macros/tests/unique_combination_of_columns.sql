{#
    The combination of the given columns is unique (a model's grain).
    (dbt_utils has the same test; hub packages cannot be installed here.)

    data_tests:
      - unique_combination_of_columns:
          arguments:
            combination_of_columns: [report_month, force_id, month]
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') %}
    select {{ columns }}, count(*) as rows_with_this_key
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1
{% endtest %}
