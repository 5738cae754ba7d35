-- One row per force person record (int_person_records with a force_id: every feed but the central
-- platform) with the person it was resolved to (person_clusters), over all months as at the report
-- month. The persons-of-concern links (int_missing_poc_links) and the network edges
-- (int_network_edge_evidence) read their evidence from it, each through its own window.

with

records as (

    select * from {{ ref('int_person_records') }}
    where force_id is not null

),

clusters as (

    select record_id, person_key from {{ source('resolution', 'person_clusters') }}

),

final as (

    select clusters.person_key, records.*
    from records
    inner join clusters using (record_id)

)

select * from final
