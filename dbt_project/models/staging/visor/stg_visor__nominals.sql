-- One row per ViSOR nominal (force_id, visor_ref): the latest version as at the end of the
-- report month.

with

source as (

    {{ lake_source('visor', 'nominals') }}

),

as_at as (

    select * from source
    where month <= {{ report_month_literal() }}
      and updated_at < {{ report_period_end() }}

),

renamed as (

    select
        {{ clean_text('force_id') }} as force_id,
        {{ clean_text('visor_ref') }} as visor_ref,
        {{ person_fields() }},
        {{ clean_code('category') }} as category,
        cast(mappa_category as integer) as mappa_category,
        cast(mappa_level as integer) as mappa_level,
        {{ clean_lower_code('rosh') }} as rosh,
        {{ clean_lower_code('rm2000') }} as rm2000,
        {{ clean_lower_code('notification_period') }} as notification_period,
        cast(registered_on as date) as registered_on,
        nullif(upper(regexp_replace(civil_orders, '\s', '', 'g')), '') as civil_orders,
        {{ clean_text('managing_unit') }} as managing_unit,
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
        min(source_month) over (partition by force_id, visor_ref) as first_source_month

    from renamed
    qualify row_number() over (
        partition by force_id, visor_ref
        order by updated_at desc, source_month desc, source_row desc
    ) = 1

),

final as (

    select * from latest

)

select * from final
