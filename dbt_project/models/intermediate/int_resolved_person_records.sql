-- One row per force person record (int_person_records with a force_id: every feed but the central
-- platform) with the person it was resolved to (person_clusters), over all months as at the report
-- month. The persons-of-concern links (int_missing_poc_links) and the network edges
-- (int_network_edge_evidence) read their evidence from it, each through its own window.
--
-- A view, not a table: its two readers each take one 12-month window and a few columns, and
-- DuckDB pushes both into the join. As a table it copied every record of the look-back with
-- all its columns (49 thread-seconds of the S1 build, December 2026), and at national volume
-- that copy, built beside dim_persons, ran the marts out of the build's 4 GB (session 14).

{{ config(materialized='view') }}

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
