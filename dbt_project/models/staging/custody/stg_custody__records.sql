-- One row per custody record (force_id, custody_ref) with the arrested person: the latest
-- version as at the end of the report month.

with

source as (

    {{ lake_source('custody', 'records') }}

),

as_at as (

    select * from source
    where month <= {{ report_month_literal() }}
      and updated_at < {{ report_period_end() }}

),

renamed as (

    select
        {{ clean_text('force_id') }} as force_id,
        {{ clean_text('custody_ref') }} as custody_ref,
        {{ clean_code('arrest_summons_no') }} as arrest_summons_no,
        arrested_at,
        {{ clean_code('ho_code') }} as ho_code,
        {{ clean_text('custody_suite') }} as custody_suite,
        {{ clean_lower_code('disposal') }} as disposal,
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
        min(source_month) over (partition by force_id, custody_ref) as first_source_month

    from renamed
    qualify row_number() over (
        partition by force_id, custody_ref
        order by updated_at desc, source_month desc, source_row desc
    ) = 1

),

final as (

    select * from latest

)

select * from final
