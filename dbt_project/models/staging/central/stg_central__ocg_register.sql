-- One row per organised crime group mapped on the register by the end of the report month.

with

source as (

    {{ lake_source('central', 'ocg_register') }}

),

renamed as (

    select
        {{ clean_text('ocg_ref') }} as ocg_ref,
        {{ clean_text('lead_force') }} as lead_force,
        {{ clean_code('threat_band') }} as threat_band,
        {{ clean_text('primary_activity') }} as primary_activity,
        {{ clean_lower_code('status') }} as status,
        cast(mapped_on as date) as mapped_on

    from source

),

as_at as (

    select * from renamed
    where mapped_on is null
       or mapped_on < {{ report_period_end() }}

),

final as (

    select * from as_at

)

select * from final
