-- One row per (report_month, force_id, dimension, group_value): how the force's VAWG subjects and
-- its tactical top list (rank <= var('vawg').list_size) are distributed by sex and by
-- self-defined ethnicity (best-known values of dim_persons; 'not recorded' when unknown), so that
-- the methodology section can show whether the scoring falls unevenly on a group.

{%- set cfg = var('vawg') %}

with

subjects as (

    select * from {{ ref('fct_vawg_subjects') }}
    where report_month = {{ report_month_literal() }}

),

by_dimension as (

    select force_id, 'sex' as dimension, coalesce(sex, 'not recorded') as group_value, rank, score from subjects
    union all
    select force_id, 'ethnicity', coalesce(ethnicity_self, 'not recorded'), rank, score from subjects

),

grouped as (

    select
        force_id,
        dimension,
        group_value,
        count(*) as subjects,
        count(*) filter (where rank <= {{ cfg['list_size'] }}) as in_top_list,
        -- rounded: a parallel average adds in no fixed order, so its last bit can differ between
        -- two builds of the same month, and a backfill must reproduce the month row for row
        round(avg(score), 6) as mean_score,
        median(score) as median_score

    from by_dimension
    group by force_id, dimension, group_value

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        force_id,
        dimension,
        group_value,
        subjects,
        in_top_list,
        mean_score,
        median_score,
        subjects / sum(subjects) over (partition by force_id, dimension) as share_of_subjects,
        case when sum(in_top_list) over (partition by force_id, dimension) > 0
            then in_top_list / sum(in_top_list) over (partition by force_id, dimension) else 0 end as share_of_top

    from grouped

)

select * from final
