-- The association graph: one row per (person_key_a < person_key_b, edge_type) with its weight
-- (networks.edges.weights x pieces of evidence, capped at max_evidence_per_type), and the pair's
-- total weight over all types. A pair is a strong edge when its total weight reaches
-- networks.communities.min_strong_weight, or when independent kinds of evidence corroborate it
-- (at least communities.min_corroborating_types edge types), and the pair met (one of its edges is of
-- communities.interaction_types: a shared phone and home address alone is most often one person
-- recorded twice, or a household); communities are built from strong edges only
-- (int_network_communities).

{%- set net = var('networks') %}
{%- set edges = net['edges'] %}

with

evidence as (

    select * from {{ ref('int_network_edge_evidence') }}

),

typed as (

    select
        person_key_a,
        person_key_b,
        edge_type,
        count(*) as evidence_count,
        case edge_type
            {%- for type, weight in edges['weights'].items() %}
            when '{{ type }}' then {{ weight }}
            {%- endfor %}
            else 0
        end * least(count(*), {{ edges['max_evidence_per_type'] }}) as weight,
        string_agg(distinct force_id, ';' order by force_id) as forces,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at

    from evidence
    group by person_key_a, person_key_b, edge_type

),

final as (

    select
        *,
        sum(weight) over (partition by person_key_a, person_key_b) as pair_weight,
        count(*) over (partition by person_key_a, person_key_b) as pair_edge_types,
        (
            sum(weight) over (partition by person_key_a, person_key_b)
                >= {{ net['communities']['min_strong_weight'] }}
            or count(*) over (partition by person_key_a, person_key_b)
                >= {{ net['communities']['min_corroborating_types'] }}
        )
        and bool_or(edge_type in ('{{ net['communities']['interaction_types'] | join("', '") }}'))
            over (partition by person_key_a, person_key_b) as is_strong

    from typed

)

select * from final
