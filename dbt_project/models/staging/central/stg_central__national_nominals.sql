-- One row per national nominal (a person with a PNC record) whose PNC record existed by the end
-- of the report month (the central snapshot has no history, only the year each PNC record was
-- created).

with

source as (

    {{ lake_source('central', 'national_nominals') }}

),

renamed as (

    select
        {{ clean_text('nominal_ref') }} as nominal_ref,
        {{ normalise_pnc('pnc_id') }} as pnc_id,
        {{ clean_text('pnc_id') }} as pnc_id_recorded,
        {{ identifier_status('pnc_id', normalise_pnc('pnc_id')) }} as pnc_id_status,
        {{ normalise_cro('cro_number') }} as cro_number,
        {{ identifier_status('cro_number', normalise_cro('cro_number')) }} as cro_number_status,
        {{ clean_text('forenames') }} as forenames,
        {{ clean_text('surname') }} as surname,
        cast(date_of_birth as date) as date_of_birth,
        {{ clean_code('sex') }} as sex,
        {{ clean_code('ethnicity_self') }} as ethnicity_self,
        {{ clean_postcode('last_known_postcode') }} as last_known_postcode,
        cast(pnc_created_year as integer) as pnc_created_year

    from source

),

as_at as (

    select * from renamed
    where pnc_created_year is null
       or pnc_created_year <= {{ report_month()[:4] }}

),

final as (

    select * from as_at

)

select * from final
