-- Who the missing-persons lists score and who reaches their top lists, by sex and by self-defined
-- ethnicity, per force: the products' methodology section shows these so that a skew can be seen
-- and questioned. Same shape as fct_vawg_fairness, with subject_type saying which list:
-- 'child_at_risk' (fct_missing_children_at_risk) or 'person_of_concern'
-- (fct_missing_persons_of_concern). A person with no recorded value is in group 'not recorded'.

with

subjects as (

    select 'child_at_risk' as subject_type, force_id, person_key, score, in_top_list, sex, ethnicity_self
    from {{ ref('fct_missing_children_at_risk') }}
    where report_month = {{ report_month_literal() }}

    union all

    select 'person_of_concern', force_id, person_key, score, in_top_list, sex, ethnicity_self
    from {{ ref('fct_missing_persons_of_concern') }}
    where report_month = {{ report_month_literal() }}

),

long as (

    select subject_type, force_id, person_key, score, in_top_list,
           'sex' as dimension, coalesce(sex, 'not recorded') as group_value
    from subjects
    union all
    select subject_type, force_id, person_key, score, in_top_list,
           'ethnicity', coalesce(ethnicity_self, 'not recorded')
    from subjects

),

grouped as (

    select
        subject_type,
        force_id,
        dimension,
        group_value,
        count(*) as subjects,
        count(*) filter (where in_top_list) as in_top_list,
        -- rounded: a parallel average adds in no fixed order, so its last bit can differ between
        -- two builds of the same month, and a backfill must reproduce the month row for row
        round(avg(score), 6) as mean_score,
        median(score) as median_score
    from long
    group by all

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        force_id,
        subject_type,
        dimension,
        group_value,
        subjects,
        in_top_list,
        mean_score,
        median_score,
        subjects / sum(subjects) over (partition by force_id, subject_type, dimension) as share_of_subjects,
        case when sum(in_top_list) over (partition by force_id, subject_type, dimension) > 0
             then in_top_list / sum(in_top_list) over (partition by force_id, subject_type, dimension)
             else 0 end as share_of_top

    from grouped

)

select * from final
