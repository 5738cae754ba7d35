-- The strong part of the association graph as at the report month: one row per (person_key_a <
-- person_key_b, edge_type) of every strong pair (the edges communities are built from), with its
-- weight, evidence count, forces and dates (int_network_edges). Weak pairs (one shared report, one
-- co-offence) stay in int_network_edges for the month being built: kept month after month they
-- would be most of the warehouse and say little.

with

edges as (

    select * from {{ ref('int_network_edges') }}

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        person_key_a,
        person_key_b,
        edge_type,
        weight,
        evidence_count,
        forces,
        first_seen_at,
        last_seen_at,
        pair_weight,
        is_strong

    from edges
    where is_strong

)

select * from final
