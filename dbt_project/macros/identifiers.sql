{#
    Police identifiers: PNC IDs and CRO numbers, checked by their check letter (DOMAIN.md,
    src/forceprofiles/identifiers.py, which these expressions mirror).

    PNC ID: YYYY/NNNNNNNC (short form YY/NNNNNNC); the check letter is
    'ZABCDEFGHJKLMNPQRTUVWXY'[int(YY || serial zero-padded to 7 digits) mod 23].
    CRO number: NNNNNN/YYC with the same alphabet over int(YY || serial padded to 6 digits) mod 23.

    A valid check letter is a cheap guard against typos before an identifier is trusted as
    evidence that two records are the same person. Invalid identifiers are not dropped: staging
    keeps the value as recorded (pnc_id_recorded) and flags it (pnc_id_status = 'invalid').
#}

{% macro _check_letter(digits) -%}
    substr('ZABCDEFGHJKLMNPQRTUVWXY', cast(try_cast({{ digits }} as hugeint) % 23 as integer) + 1, 1)
{%- endmacro %}


{# The long form of a valid PNC ID (short forms: 19YY for YY > 30, else 20YY); null if absent or invalid. #}
{% macro normalise_pnc(column) -%}
    {%- set value = "upper(trim(" ~ column ~ "))" -%}
    {%- set year = "regexp_extract(" ~ value ~ ", '^([0-9]{2}|[0-9]{4})/', 1)" -%}
    {%- set serial = "regexp_extract(" ~ value ~ ", '/([0-9]{1,7})[A-Z]$', 1)" -%}
    {%- set letter = "right(" ~ value ~ ", 1)" -%}
    {%- set expected = _check_letter("right(" ~ year ~ ", 2) || lpad(" ~ serial ~ ", 7, '0')") -%}
    case
        when regexp_full_match({{ value }}, '[0-9]{4}/[0-9]{7}[A-Z]') and {{ letter }} = {{ expected }}
            then {{ value }}
        when regexp_full_match({{ value }}, '[0-9]{2}/[0-9]{1,7}[A-Z]') and {{ letter }} = {{ expected }}
            then case when try_cast({{ year }} as integer) > 30 then '19' else '20' end
                || {{ year }} || '/' || lpad({{ serial }}, 7, '0') || {{ letter }}
    end
{%- endmacro %}


{# The standard form of a valid CRO number (serial padded to 6 digits); null if absent or invalid. #}
{% macro normalise_cro(column) -%}
    {%- set value = "upper(trim(" ~ column ~ "))" -%}
    {%- set serial = "regexp_extract(" ~ value ~ ", '^([0-9]{1,6})/', 1)" -%}
    {%- set year = "regexp_extract(" ~ value ~ ", '/([0-9]{2})[A-Z]$', 1)" -%}
    {%- set letter = "right(" ~ value ~ ", 1)" -%}
    {%- set expected = _check_letter(year ~ " || lpad(" ~ serial ~ ", 6, '0')") -%}
    case
        when regexp_full_match({{ value }}, '[0-9]{1,6}/[0-9]{2}[A-Z]') and {{ letter }} = {{ expected }}
            then lpad({{ serial }}, 6, '0') || '/' || {{ year }} || {{ letter }}
    end
{%- endmacro %}


{#
    'valid', 'invalid' or 'absent' for an identifier column, given its normalised expression:
    absent when nothing was recorded, invalid when something was but it fails the format or
    the check letter.
#}
{% macro identifier_status(column, normalised) -%}
    case
        when nullif(trim({{ column }}), '') is null then 'absent'
        when ({{ normalised }}) is null then 'invalid'
        else 'valid'
    end
{%- endmacro %}


{#
    The person columns every person-bearing lake entity shares (contract.PERSON_FIELDS), cleaned
    the same way in every staging model.
#}
{% macro person_fields() -%}
        {{ clean_text('person_ref') }} as person_ref,
        {{ clean_text('forenames') }} as forenames,
        {{ clean_text('surname') }} as surname,
        cast(date_of_birth as date) as date_of_birth,
        {{ clean_code('sex') }} as sex,
        {{ clean_code('ethnicity_self') }} as ethnicity_self,
        {{ clean_code('ethnicity_officer') }} as ethnicity_officer,
        {{ normalise_pnc('pnc_id') }} as pnc_id,
        {{ clean_text('pnc_id') }} as pnc_id_recorded,
        {{ identifier_status('pnc_id', normalise_pnc('pnc_id')) }} as pnc_id_status,
        {{ normalise_cro('cro_number') }} as cro_number,
        {{ clean_text('cro_number') }} as cro_number_recorded,
        {{ identifier_status('cro_number', normalise_cro('cro_number')) }} as cro_number_status,
        {{ clean_text('address') }} as address,
        {{ clean_postcode('postcode') }} as postcode,
        {{ clean_phone('phone') }} as phone
{%- endmacro %}


{# The names of the columns person_fields() produces, to carry them from a staging model. #}
{% macro person_columns() -%}
        person_ref,
        forenames,
        surname,
        date_of_birth,
        sex,
        ethnicity_self,
        ethnicity_officer,
        pnc_id,
        pnc_id_recorded,
        pnc_id_status,
        cro_number,
        cro_number_recorded,
        cro_number_status,
        address,
        postcode,
        phone
{%- endmacro %}
