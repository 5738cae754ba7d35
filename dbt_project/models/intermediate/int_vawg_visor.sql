-- One row per resolved person who is a ViSOR nominal in any force as at the report month: the
-- ViSOR status and civil orders that uplift a VAWG subject's score (var('vawg').visor and
-- .civil_orders).
--
-- A person on ViSOR in two forces is one row: the nominal worth the most points gives the
-- status; civil orders are pooled over all their nominals. visor_status reads
-- 'RSO / MAPPA 1 / risk high'. civil_order_points is capped at civil_orders.max_points.

{%- set visor = var('vawg')['visor'] %}
{%- set orders = var('vawg')['civil_orders'] %}

with

nominals as (

    select * from {{ ref('stg_visor__nominals') }}

),

records as (

    select record_id, force_id, source_ref from {{ ref('int_person_records') }}
    where source_feed = 'visor'

),

clusters as (

    select record_id, person_key from {{ source('resolution', 'person_clusters') }}

),

scored as (

    select
        clusters.person_key,
        records.record_id as visor_record_id,
        nominals.force_id as visor_force_id,
        nominals.visor_ref,
        nominals.category,
        nominals.mappa_category,
        nominals.mappa_level,
        nominals.rosh,
        nominals.civil_orders,
        concat_ws(' / ',
            nominals.category,
            case when nominals.mappa_level is not null then 'MAPPA ' || nominals.mappa_level end,
            case when nominals.rosh is not null then 'risk ' || replace(nominals.rosh, '_', ' ') end
        ) as visor_status,
        {{ visor['nominal_points'] }}
            + case nominals.category
                {%- for key, points in visor['category_points'].items() %}
                when '{{ key }}' then {{ points }}
                {%- endfor %}
                else 0 end
            + case cast(nominals.mappa_level as varchar)
                {%- for key, points in visor['mappa_level_points'].items() %}
                when '{{ key }}' then {{ points }}
                {%- endfor %}
                else 0 end
            + case nominals.rosh
                {%- for key, points in visor['rosh_points'].items() %}
                when '{{ key }}' then {{ points }}
                {%- endfor %}
                else 0 end
            as visor_points

    from nominals
    inner join records
        on records.force_id = nominals.force_id
       and records.source_ref = nominals.visor_ref
    inner join clusters using (record_id)

),

orders as (

    select distinct person_key, trim(order_type) as order_type
    from scored, unnest(string_split(coalesce(civil_orders, ''), ';')) as split(order_type)
    where trim(order_type) <> ''

),

order_points as (

    select
        person_key,
        string_agg(order_type, ';' order by order_type) as civil_orders,
        count(*) as civil_order_count,
        least({{ orders['max_points'] }}, sum(
            case order_type
                {%- for key, points in orders['order_points'].items() %}
                when '{{ key }}' then {{ points }}
                {%- endfor %}
                else {{ orders['other_order_points'] }} end
        )) as civil_order_points

    from orders
    group by person_key

),

best_nominal as (

    select * from scored
    qualify row_number() over (
        partition by person_key
        order by visor_points desc, visor_force_id, visor_ref
    ) = 1

),

final as (

    select
        best_nominal.person_key,
        best_nominal.visor_record_id,
        best_nominal.visor_force_id,
        best_nominal.visor_ref,
        best_nominal.category,
        best_nominal.mappa_category,
        best_nominal.mappa_level,
        best_nominal.rosh,
        best_nominal.visor_status,
        best_nominal.visor_points,
        order_points.civil_orders,
        coalesce(order_points.civil_order_count, 0) as civil_order_count,
        coalesce(order_points.civil_order_points, 0) as civil_order_points

    from best_nominal
    left join order_points using (person_key)

)

select * from final
