{#
    Cleaning expressions shared by the staging models, so that every feed's values come out in
    one shape (person resolution compares them across feeds and forces).
#}

{# Trimmed text with runs of whitespace collapsed; empty becomes null. #}
{% macro clean_text(column) -%}
    nullif(trim(regexp_replace({{ column }}, '\s+', ' ', 'g')), '')
{%- endmacro %}


{# A code: trimmed, upper case; empty becomes null. #}
{% macro clean_code(column) -%}
    nullif(upper(trim({{ column }})), '')
{%- endmacro %}


{# A lower-case code (code lists such as role, outcome, risk_grade). #}
{% macro clean_lower_code(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}


{#
    A UK postcode in its standard form: upper case, no punctuation, one space before the
    inward code (the last three characters), e.g. ' lu4  9dn' -> 'LU4 9DN'. Values that are too
    short or too long to be a postcode are kept upper-cased without the space.
#}
{% macro clean_postcode(column) -%}
    {%- set compact = "upper(regexp_replace(" ~ column ~ ", '[^A-Za-z0-9]', '', 'g'))" -%}
    case
        when length({{ compact }}) between 5 and 7
            then left({{ compact }}, length({{ compact }}) - 3) || ' ' || right({{ compact }}, 3)
        else nullif({{ compact }}, '')
    end
{%- endmacro %}


{#
    A UK phone number as digits in national form: '+44 7599 658736', '0044 7599 658736' and
    '07599-658736' all become '07599658736'. Empty becomes null.
#}
{% macro clean_phone(column) -%}
    {%- set digits = "regexp_replace(" ~ column ~ ", '[^0-9+]', '', 'g')" -%}
    nullif(
        case
            when {{ digits }} like '+44%' then '0' || substr({{ digits }}, 4)
            when {{ digits }} like '0044%' then '0' || substr({{ digits }}, 5)
            else replace({{ digits }}, '+', '')
        end,
        ''
    )
{%- endmacro %}


{# A vehicle registration mark: upper case, letters and digits only ('es63 ypn' -> 'ES63YPN'). #}
{% macro clean_vrm(column) -%}
    nullif(upper(regexp_replace({{ column }}, '[^A-Za-z0-9]', '', 'g')), '')
{%- endmacro %}


{#
    An address line as a comparison key: lower case, accents and punctuation removed, single
    spaces ('60 Hill Way, Central Bedfordshire' -> '60 hill way central bedfordshire').
#}
{% macro address_key(column) -%}
    nullif(trim(regexp_replace(lower(strip_accents({{ column }})), '[^a-z0-9]+', ' ', 'g')), '')
{%- endmacro %}


{#
    A name for comparison: lower case, accents removed, anything but letters becomes a space
    ("O'Neill-Smith" -> 'o neill smith'). Person resolution compares these; products show the
    names as recorded.
#}
{% macro standard_name(column) -%}
    nullif(trim(regexp_replace(lower(strip_accents({{ column }})), '[^a-z]+', ' ', 'g')), '')
{%- endmacro %}
