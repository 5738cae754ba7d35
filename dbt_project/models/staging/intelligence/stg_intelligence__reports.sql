-- One row per intelligence report (force_id, intel_ref): its latest version as at the end of
-- the report month.

with

source as (

    {{ lake_source('intelligence', 'reports') }}

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
        created_at,
        {{ clean_lower_code('grading_scheme') }} as grading_scheme,
        {{ clean_code('source_evaluation') }} as source_evaluation,
        {{ clean_code('intelligence_assessment') }} as intelligence_assessment,
        {{ clean_code('handling_code') }} as handling_code,
        {{ clean_text('summary') }} as summary,
        {{ clean_code('lsoa11cd') }} as lsoa11cd,
        updated_at,
        month as source_month,
        _source_file as source_file,
        _source_row as source_row

    from as_at

),

latest as (

    select * from renamed
    qualify row_number() over (
        partition by force_id, intel_ref
        order by updated_at desc, source_month desc, source_row desc
    ) = 1

),

final as (

    select
        *,
        grading_scheme || ' ' || source_evaluation || intelligence_assessment || handling_code as grading

    from latest

)

select * from final
