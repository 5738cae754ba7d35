-- One row per 2011 LSOA (POLE "L") of the forces in seeds/lsoas.csv, with its MSOA, local
-- authority and force: the geography events are placed in and aggregated to.

with

lsoas as (

    select * from {{ ref('lsoas') }}

),

forces as (

    select force_id, force_name from {{ ref('forces') }}

),

final as (

    select
        lsoas.lsoa11cd,
        lsoas.lsoa11nm,
        lsoas.msoa11cd,
        lsoas.msoa11nm,
        lsoas.lad19cd,
        lsoas.lad19nm,
        lsoas.force_id,
        forces.force_name,
        lsoas.latitude,
        lsoas.longitude

    from lsoas
    left join forces using (force_id)

)

select * from final
