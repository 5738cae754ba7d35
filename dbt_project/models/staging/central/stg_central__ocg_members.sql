-- One row per known member of a registered OCG (groups mapped by the end of the report month).
-- The register carries no membership dates: a member of a group counts from the group's mapping.

with

source as (

    {{ lake_source('central', 'ocg_members') }}

),

groups as (

    select ocg_ref from {{ ref('stg_central__ocg_register') }}

),

renamed as (

    select
        {{ clean_text('ocg_ref') }} as ocg_ref,
        {{ normalise_pnc('pnc_id') }} as pnc_id,
        {{ clean_text('pnc_id') }} as pnc_id_recorded,
        {{ identifier_status('pnc_id', normalise_pnc('pnc_id')) }} as pnc_id_status,
        {{ clean_text('forenames') }} as forenames,
        {{ clean_text('surname') }} as surname,
        cast(date_of_birth as date) as date_of_birth,
        {{ clean_lower_code('role') }} as role

    from source

),

as_at as (

    select renamed.*
    from renamed
    inner join groups using (ocg_ref)

),

final as (

    select
        md5(concat_ws('|', ocg_ref, pnc_id_recorded, forenames, surname, cast(date_of_birth as varchar)))
            as ocg_member_id,
        *

    from as_at

)

select * from final
