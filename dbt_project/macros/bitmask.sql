{#- Distinct sorted values per group without building a list per group.

    list_sort(list_distinct(list(x))) grouped by person keeps every record's value in a list
    until the group ends; at S1 (6.9 million records, 2.7 million persons) that aggregate took
    13.6 s of operator time in a 19.4 s dim_persons (benchmarks/model_profile.py). A small set
    of values (forces, roles, feeds) can instead be numbered once (a sorted dictionary of every
    value) and each group keeps one integer with a bit per value it saw (bit_or), decoded back
    to the sorted values at the end: the same lists in about 2.5 s. A uhugeint has 128 bits, so
    the dictionary must hold at most 128 values; bitmask_dictionary stops the build with a
    clear error beyond that rather than lose values. -#}

{% macro bitmask_dictionary(column, what) -%}
    case
        when count(distinct {{ column }}) <= 128
            then list_sort(list_distinct(list({{ column }})))
        else error('more than 128 distinct {{ what }} in the person records: dbt_project/macros/bitmask.sql keeps at most 128 values a column; aggregate this column with list_distinct instead')
    end
{%- endmacro %}

{% macro bitmask_of(dictionary, column) -%}
    1::uhugeint << (list_position({{ dictionary }}, {{ column }}) - 1)::uhugeint
{%- endmacro %}

{% macro values_in_bitmask(dictionary, bits) -%}
    list_filter({{ dictionary }}, lambda value, position: ({{ bits }} >> (position - 1)::uhugeint) & 1 = 1)
{%- endmacro %}
