-- One row per crime or non-crime occurrence (force_id, crime_ref): its latest version as at
-- the end of the report month.

with

source as (

    {{ lake_source('crime', 'occurrences') }}

),

as_at as (

    select * from source
    where month <= {{ report_month_literal() }}
      and updated_at < {{ report_period_end() }}

),

renamed as (

    select
        {{ clean_text('force_id') }} as force_id,
        {{ clean_text('crime_ref') }} as crime_ref,
        {{ clean_lower_code('record_type') }} as record_type,
        {{ clean_code('ho_code') }} as ho_code,
        committed_at,
        reported_at,
        {{ clean_code('lsoa11cd') }} as lsoa11cd,
        latitude,
        longitude,
        {{ clean_text('location_desc') }} as location_desc,
        coalesce(flag_domestic_abuse, false) as is_domestic_abuse,
        coalesce(flag_cse, false) as is_cse,
        {{ clean_lower_code('outcome') }} as outcome,
        updated_at,
        month as source_month,
        _source_file as source_file,
        _source_row as source_row

    from as_at

),

latest as (

    select * from renamed
    qualify row_number() over (
        partition by force_id, crime_ref
        order by updated_at desc, source_month desc, source_row desc
    ) = 1

),

final as (

    select * from latest

)

select * from final
