{#
    Read one external source (a lake entity, a central-platform file, the validation and run
    manifests), tolerating files that do not exist yet.

    dbt-duckdb renders an external source as read_parquet(<glob>) / read_json(<glob>), which
    fails when the glob matches no file: an empty lake, a feed a force has never sent, no central
    platform configured. This macro checks the glob first and, when nothing matches, returns an
    empty relation with the columns (and types) declared in the source's YAML. When files exist,
    it unions them BY NAME onto that typed empty relation, so a column missing from every file
    (or typed NULL because all its values are empty) still comes out with its declared type.
    (The declared columns are read from lake_source_columns.sql, which scripts/make_seeds.py
    generates from the sources YAML: dbt's graph has no sources inside unit tests.)

    Use it as the body of the staging model's `source` CTE:
        with source as ( {{ lake_source('crime', 'occurrences') }} ), ...

    In a dbt unit test the source is a fixture CTE (no external location): it is selected from
    directly, still on top of the typed empty relation, so a fixture only needs the columns the
    test is about.
#}

{% macro lake_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set columns = lake_source_columns(source_name, table_name) -%}
    select
    {%- for column in columns %}
        cast(null as {{ column[1] }}) as {{ adapter.quote(column[0]) }}{{ "," if not loop.last }}
    {%- endfor %}
    where false
    {%- if lake_source_has_files(relation) %}
    union all by name
    select * from {{ relation }}
    {%- endif %}
{%- endmacro %}


{#
    True when the relation reads files and its glob (the first quoted string of its external
    location) matches at least one; true for a non-external relation (a unit-test fixture).
#}
{% macro lake_source_has_files(relation) -%}
    {%- set external = relation.external if relation.external is defined else none -%}
    {%- if not external -%}
        {{- return(true) -}}
    {%- endif -%}
    {%- if not execute -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set match = modules.re.search("'([^']*)'", external) -%}
    {%- if not match -%}
        {{ exceptions.raise_compiler_error("lake_source: cannot find the file pattern in " ~ external) }}
    {%- endif -%}
    {%- set pattern = match.group(1) -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {{- return(found.columns[0].values()[0] > 0) -}}
{%- endmacro %}
