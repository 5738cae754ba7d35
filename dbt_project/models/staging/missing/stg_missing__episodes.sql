-- One row per missing-person episode (force_id, episode_ref): the latest version as at the end
-- of the report month. An episode still open then has no returned_at, even if a later month's
-- extract records the return.

with

source as (

    {{ lake_source('missing', 'episodes') }}

),

as_at as (

    select * from source
    where month <= {{ report_month_literal() }}
      and updated_at < {{ report_period_end() }}

),

renamed as (

    select
        {{ clean_text('force_id') }} as force_id,
        {{ clean_text('episode_ref') }} as episode_ref,
        {{ person_fields() }},
        {{ clean_lower_code('risk_grade') }} as risk_grade,
        went_missing_at,
        returned_at,
        coalesce(from_care, false) as is_from_care,
        {{ clean_postcode('missing_from_postcode') }} as missing_from_postcode,
        {{ clean_code('missing_from_lsoa11cd') }} as missing_from_lsoa11cd,
        {{ clean_text('found_address') }} as found_address,
        {{ clean_postcode('found_postcode') }} as found_postcode,
        {{ clean_code('found_lsoa11cd') }} as found_lsoa11cd,
        {{ clean_text('found_with_forenames') }} as found_with_forenames,
        {{ clean_text('found_with_surname') }} as found_with_surname,
        cast(found_with_date_of_birth as date) as found_with_date_of_birth,
        {{ clean_phone('found_with_phone') }} as found_with_phone,
        nullif(lower(regexp_replace(exploitation_indicators, '\s', '', 'g')), '') as exploitation_indicators,
        return_interview_at,
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
        min(source_month) over (partition by force_id, episode_ref) as first_source_month

    from renamed
    qualify row_number() over (
        partition by force_id, episode_ref
        order by updated_at desc, source_month desc, source_row desc
    ) = 1

),

final as (

    select
        *,
        returned_at is null as is_open,
        coalesce(exploitation_indicators like '%cse%', false) as has_cse_indicator,
        coalesce(exploitation_indicators like '%cce%' or exploitation_indicators like '%county_lines%', false)
            as has_cce_indicator

    from latest

)

select * from final
