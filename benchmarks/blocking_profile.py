"""Benchmark: how many pairs each blocking rule makes person resolution score, on a built warehouse.

    .venv/bin/python benchmarks/blocking_profile.py --warehouse var/bench/runs/<run>/warehouse/force_profiles.duckdb \
        --json-out var/bench/blocking.json

Why: Splink's ``predict`` scores every pair some blocking rule brings together, so its time
follows the number of pairs, and a rule on a common key (a date of birth and a surname's first
letter) makes pairs that grow with the square of the records, not with the records. At national
volume the resolution step grew faster than the months of history (docs/benchmarks.md, S2);
this says which rule it is. It prepares the distinct records exactly as the build's hook does
(``forceprofiles.warehouse_resolution``: normalise, then one row per set of identical records,
attached read-only, nothing written) and counts with Splink's own
``splink.blocking_analysis.count_comparisons_from_blocking_rules``: for each rule in the model's
order, the pairs it adds that no earlier rule made (what ``predict`` scores) and the running
total. ``--sample`` below 1 estimates from a hash sample of the records on each side (Splink
scales the count back up); 1.0, the default, counts exactly.

Also prints, per rule, the gross pairs of its largest blocks (``--largest``), so a skewed key
(one date of birth held by thousands of records) shows by its size; the key's value is never
printed, so nothing personal is.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=None, help="a person model artefact (default: the saved one)")
    parser.add_argument("--sample", type=float, default=1.0,
                        help="record sample proportion per side of each blocking join (1.0: exact counts)")
    parser.add_argument("--largest", type=int, default=3, help="sizes of each rule's largest blocks to print")
    parser.add_argument("--last-months", default=None,
                        help="comma-separated windows, e.g. 2,4,6: count again on the force records first seen "
                             "in the warehouse's last N months only (the central platform's kept whole), as a "
                             "warehouse of N months of history would hold them, so one build shows how the pairs "
                             "grow with history")
    parser.add_argument("--json-out", type=Path, default=None, help="write the figures here as JSON")
    args = parser.parse_args()

    windows: list[int | None] = [None]
    if args.last_months:
        windows = [int(n) for n in args.last_months.split(",")]
    reports = [count_pairs(args.warehouse, last_months=n, model=args.model, sample=args.sample,
                           largest=args.largest) for n in windows]
    if len(reports) > 1:
        print(f"\n{'months':>7}{'records':>14}{'distinct':>14}{'pairs to score':>18}{'pairs a record':>16}")
        for report in reports:
            print(f"{report['last_months']:>7}{report['records']:>14,}{report['distinct_records']:>14,}"
                  f"{report['pairs_to_score']:>18,}{report['pairs_to_score'] / max(report['distinct_records'], 1):>16,.1f}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(reports if len(reports) > 1 else reports[0], indent=1) + "\n",
                                 encoding="utf-8")
    return 0


def count_pairs(warehouse: Path, *, last_months: int | None, model: Path | None, sample: float,
                largest: int) -> dict[str, Any]:
    """Pairs each blocking rule adds over the warehouse's person records (or its last months' only)."""
    import duckdb
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    from forceprofiles.linkage import linkage_memory_limit, load_model, settings_for_table
    from forceprofiles.warehouse import duckdb_config
    # The hook's own preparation steps, so the records counted are exactly the ones predict scores.
    from forceprofiles.warehouse_resolution import (
        distinct_records_table,
        group_identical_records,
        normalise_person_records,
    )

    started = time.perf_counter()
    with duckdb.connect(config=duckdb_config()) as con:
        con.execute(f"attach '{warehouse}' as built (read_only)")
        window = ""
        if last_months is not None:
            newest = con.execute("select max(first_source_month) from built.main.int_person_records").fetchall()[0][0]
            cutoff = con.execute("select strftime(cast(? || '-01' as date) - to_months(? - 1), '%Y-%m')",
                                 [newest, last_months]).fetchall()[0][0]
            window = f" where r.force_id is null or r.first_source_month >= '{cutoff}'"
        con.execute(f"create view main.int_person_records as select * from built.main.int_person_records r{window}")
        records, per_force = normalise_person_records(con)
        groups = group_identical_records(con)
        table = distinct_records_table(con)
    prepared_seconds = time.perf_counter() - started
    label = "all months" if last_months is None else f"the last {last_months} month(s)"
    print(f"\n{label}: {records:,} records, {groups:,} distinct records to compare "
          f"(prepared in {prepared_seconds:.1f} s)", flush=True)

    settings = settings_for_table(load_model(model), records, per_force)
    rules = [rule["blocking_rule"] for rule in settings["blocking_rules_to_generate_predictions"]]
    splink_db = duckdb.connect(config={"memory_limit": linkage_memory_limit()})
    frame = DuckDBAPI(connection=splink_db).register(table, dataset_display_name="persons")
    del table

    started = time.perf_counter()
    counted = count_comparisons_from_blocking_rules(frame, blocking_rules=rules, link_type="dedupe_only",
                                                   unique_id_column_name="record_id",
                                                   record_sample_proportion=sample)
    count_seconds = time.perf_counter() - started

    rows: list[dict[str, Any]] = []
    print(f"{'rule':<4}{'pairs it adds':>16}{'cumulative':>16}{'largest blocks (gross pairs)':>36}  blocking rule")
    for number, (rule, count) in enumerate(zip(rules, counted), start=1):
        sizes = _largest_blocks(splink_db, frame.physical_name, rule, largest)
        rows.append({"rule": rule, "pairs_added": int(count["marginal_comparison_count"]),
                     "cumulative_pairs": int(count["cumulative_comparison_count"]),
                     "largest_blocks_gross_pairs": sizes, "is_estimate": bool(count["is_estimate"])})
        print(f"{number:<4}{rows[-1]['pairs_added']:>16,}{rows[-1]['cumulative_pairs']:>16,}"
              f"{', '.join(f'{n:,}' for n in sizes):>36}  {rule}")
    splink_db.close()
    total = rows[-1]["cumulative_pairs"] if rows else 0
    print(f"{total:,} pairs to score over {groups:,} distinct records "
          f"({total / max(groups, 1):,.1f} a record); counted in {count_seconds:.1f} s"
          f"{' (estimated from a sample)' if sample < 1 else ''}", flush=True)
    return {"warehouse": str(warehouse), "last_months": last_months if last_months is not None else "all",
            "records": records, "distinct_records": groups, "sample": sample, "pairs_to_score": total,
            "prepare_seconds": round(prepared_seconds, 1), "count_seconds": round(count_seconds, 1), "rules": rows}


def _largest_blocks(con: Any, table: str, rule: str, how_many: int) -> list[int]:
    """Gross pairs (n·(n-1)/2) of a rule's ``how_many`` largest blocks, for an equi-join rule whose
    left and right keys are the same expressions; [] for a rule that joins two different columns."""
    keys = []
    for condition in rule.split(" AND "):
        left, _, right = condition.partition(" = ")
        if left.replace('l."', '"') != right.replace('r."', '"'):
            return []
        keys.append(left.replace('l."', '"'))
    sizes = con.execute(f"""
        select count(*) as n from {table} where {" and ".join(f"{k} is not null" for k in keys)}
        group by {", ".join(keys)} order by n desc limit {how_many}
    """).fetchall()
    return [n * (n - 1) // 2 for (n,) in sizes]


if __name__ == "__main__":
    raise SystemExit(main())
