-- One row per person involved in an occurrence (force_id, crime_ref, role, person_ref), in its
-- role (suspect, offender, victim, witness): the latest version as at the end of the report month.

with

source as (

    {{ lake_source('crime', 'involvements') }}

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
        {{ clean_lower_code('role') }} as role,
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
        min(source_month) over (partition by force_id, crime_ref, role, person_ref) as first_source_month

    from renamed
    qualify row_number() over (
        partition by force_id, crime_ref, role, person_ref
        order by updated_at desc, source_month desc, source_row desc
    ) = 1

),

final as (

    select * from latest

)

select * from final
