-- One row per subject of an intelligence report (force_id, intel_ref, subject_type, person_ref,
-- value): a person, or a phone, vehicle or address (in value). Latest version as at the end of
-- the report month. value_key is the value normalised for matching across records.

with

source as (

    {{ lake_source('intelligence', 'subjects') }}

),

as_at as (

    select * from source
    where month <= {{ report_month_literal() }}
      and updated_at < {{ report_period_end() }}

),

renamed as (

    select
        {{ clean_text('force_id') }} as force_id,
        {{ clean_text('intel_ref') }} as intel_ref,
        {{ clean_lower_code('subject_type') }} as subject_type,
        {{ clean_text('value') }} as value,
        {{ person_fields() }},
        updated_at,
        month as source_month,
        _source_file as source_file,
        _source_row as source_row

    from as_at

),

latest as (

    select
        *,
        -- the month the record first reached the lake: person resolution anchors keys on it
        min(source_month) over (partition by force_id, intel_ref, subject_type, person_ref, value) as first_source_month

    from renamed
    qualify row_number() over (
        partition by force_id, intel_ref, subject_type, person_ref, value
        order by updated_at desc, source_month desc, source_row desc
    ) = 1

),

final as (

    select
        *,
        case subject_type
            when 'phone' then {{ clean_phone('value') }}
            when 'vehicle' then {{ clean_vrm('value') }}
            when 'address' then {{ address_key('value') }}
        end as value_key

    from latest

)

select * from final
