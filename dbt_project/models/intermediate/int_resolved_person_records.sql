-- One row per force person record (int_person_records with a force_id: every feed but the central
-- platform) with the person it was resolved to (person_clusters), over all months as at the report
-- month. The persons-of-concern links (int_missing_poc_links) and the network edges
-- (int_network_edge_evidence) read their evidence from it, each through its own window.
--
-- Only the columns those two read. Carrying all of int_person_records' columns made this copy
-- of every record the second slowest model of the S1 marts (49 thread-seconds, December 2026).
-- A table, not a view: as a view, its join ran inside each of its readers' several references,
-- and the S1 marts ran out of the build's 4 GB (December 2026).

with

records as (

    select record_id, force_id, source_feed, source_entity, source_ref, role, address_key, phone, event_at
    from {{ ref('int_person_records') }}
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
