-- One row per force covered by a month's run (months up to the report month), with the run's
-- decision for that force: proceed, or hold with the reason.

with

source as (

    {{ lake_source('pipeline', 'run_manifests') }}

),

as_at as (

    select * from source
    where month <= {{ report_month_literal() }}

),

forces as (

    select
        as_at.month,
        as_at.run_id,
        as_at.generated_at,
        unnest(as_at.forces) as force_id,
        as_at.decisions

    from as_at

),

final as (

    select
        month,
        force_id,
        json_extract_string(decisions, '$."' || force_id || '"') as force_decision,
        coalesce(json_extract_string(decisions, '$."' || force_id || '"') <> 'proceed', true) as is_held,
        run_id,
        generated_at

    from forces

)

select * from final
