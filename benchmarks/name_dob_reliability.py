"""How often two records sharing a name and a date of birth are one person, on a built warehouse.

    .venv/bin/python benchmarks/name_dob_reliability.py \\
        --warehouse var/bench/runs/<run>/warehouse/force_profiles.duckdb \\
        --truth var/bench/prepared/<world>/world/truth

Why: the person model links at a match probability of 0.95. Whether a link on a forename,
surname and date of birth alone should pass that bar depends on how often such pairs are
really one person, which depends on the size of the table (a nation holds more namesakes
than a county). This counts it on a synthetic world's known truth: pairs of distinct records
(distinct in true person, postcode, PNC ID and source) with the same standardised forename,
surname and date of birth, split by whether they also share a postcode or a PNC ID (pairs with
two different PNC IDs are left out: the clustering never joins them), and by whether the two
records are held by the same police force (null when one is the central platform's: the force
is evidence in person model 1.3.0). Prints one row per class: the pairs, and the share that are
one true person, per distinct pair and weighted by records.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True, help="the synthetic world's truth folder")
    parser.add_argument("--memory", default="6GB", help="DuckDB memory_limit (default 6GB)")
    args = parser.parse_args()

    import duckdb

    from forceprofiles.evaluate import record_truth

    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        con.execute(f"set memory_limit='{args.memory}'")
        con.register("truth", record_truth(con, args.truth)[["record_id", "person_id"]])
        table = con.execute("""
            with records as (
                select truth.person_id, lower(r.forename_std) as forename, lower(r.surname_std) as surname,
                       r.date_of_birth, r.postcode, r.pnc_id, coalesce(r.force_id, 'central') as source
                from main.int_person_records as r
                inner join truth using (record_id)
                where r.forename_std is not null and r.surname_std is not null and r.date_of_birth is not null
            ),
            profiles as (
                select row_number() over () as profile_id, *
                from (select forename, surname, date_of_birth, person_id, postcode, pnc_id, source,
                             count(*) as records
                      from records group by all)
            ),
            pairs as (
                select a.person_id = b.person_id as one_person,
                       a.records * b.records as record_pairs,
                       coalesce(a.postcode = b.postcode, false) as postcode_shared,
                       coalesce(a.pnc_id = b.pnc_id, false) as pnc_shared,
                       coalesce(a.pnc_id <> b.pnc_id, false) as pnc_conflict,
                       case when a.source = 'central' or b.source = 'central' then null
                            else a.source = b.source end as same_force
                from profiles as a
                inner join profiles as b
                    on a.forename = b.forename and a.surname = b.surname
                   and a.date_of_birth = b.date_of_birth and a.profile_id < b.profile_id
            )
            select postcode_shared, pnc_shared, same_force, count(*) as distinct_pairs, sum(record_pairs) as record_pairs,
                   round(avg(one_person::int), 4) as share_one_person,
                   round(sum(record_pairs * one_person::int) / sum(record_pairs), 4) as share_one_person_by_records
            from pairs
            where not pnc_conflict
            group by all
            order by all
        """).df()
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
