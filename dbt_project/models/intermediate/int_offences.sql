-- One row per Home Office offence code: its classification, harm weight (CCHI days, after any
-- configured override) and VAWG scope. The single lookup every harm and VAWG figure uses.
--
-- Harm precedence: an enabled row of seeds/harm_overrides.csv, else seeds/harm_values.csv (the
-- CCHI 2026 median of the code's PRC subgroup, or the official spreadsheet's value where a force
-- has dropped it in: see the seed's YAML).

with

offence_codes as (

    select * from {{ ref('ho_offence_codes') }}

),

harm_values as (

    select * from {{ ref('harm_values') }}

),

harm_overrides as (

    select * from {{ ref('harm_overrides') }}
    where is_enabled

),

vawg_scope as (

    select * from {{ ref('vawg_scope') }}

),

joined as (

    select
        offence_codes.ho_code,
        offence_codes.description,
        offence_codes.offence_group,
        offence_codes.prc_subgroup as offence_subgroup,
        offence_codes.policeuk_category,
        offence_codes.is_crime,
        harm_values.cchi_subgroup,
        harm_values.cchi_days as harm_days_cchi,
        harm_overrides.cchi_days as harm_days_override,
        coalesce(harm_overrides.cchi_days, harm_values.cchi_days, 0) as harm_days,
        case
            when harm_overrides.ho_code is not null then 'override'
            when harm_values.cchi_days is null then 'no_harm_value'
            else harm_values.basis
        end as harm_basis,
        harm_overrides.rationale as harm_override_rationale,
        vawg_scope.ho_code is not null as is_vawg_offence,
        vawg_scope.vawg_strand

    from offence_codes
    left join harm_values using (ho_code)
    left join harm_overrides using (ho_code)
    left join vawg_scope using (ho_code)

),

final as (

    select * from joined

)

select * from final
