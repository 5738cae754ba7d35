-- One row per operation against a registered OCG started by the end of the report month, with
-- its status then (an operation that ended later was still ongoing).

with

source as (

    {{ lake_source('central', 'prior_operations') }}

),

renamed as (

    select
        {{ clean_text('operation') }} as operation,
        {{ clean_text('ocg_ref') }} as ocg_ref,
        {{ clean_text('lead_force') }} as lead_force,
        cast(started_on as date) as started_on,
        cast(ended_on as date) as ended_on,
        {{ clean_lower_code('outcome') }} as outcome

    from source

),

as_at as (

    select
        operation,
        ocg_ref,
        lead_force,
        started_on,
        case when ended_on < {{ report_period_end() }} then ended_on end as ended_on,
        case when ended_on < {{ report_period_end() }} then outcome else 'ongoing' end as outcome

    from renamed
    where started_on is null
       or started_on < {{ report_period_end() }}

),

final as (

    select * from as_at

)

select * from final
