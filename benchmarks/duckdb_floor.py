"""Benchmark: the DuckDB floor, VAWG scores in ONE SQL statement over the lake, against the pipeline's build.

    .venv/bin/python benchmarks/duckdb_floor.py --pipeline-json var/bench/s1.json      # lake, month, build time from a monthly_run
    .venv/bin/python benchmarks/duckdb_floor.py --lake var/lake --month 2026-10 \
        [--warehouse var/warehouse/force_profiles.duckdb] [--build [--central var/world/central]]

Why: issue #7 asks for the pipeline's build and scoring stage to be within 5x of what DuckDB
alone needs for the same answer. The floor is one `create table ... as select` over the lake's
Parquet (lake/raw/crime/force=*/month=*/{occurrences,involvements}.parquet) and the dbt seeds
(harm_values.csv, harm_overrides.csv, vawg_scope.csv) that does what the VAWG scoring needs and
nothing more: the latest version of each record as at the month (month <= M, updated_at before
its end), VAWG scope (a vawg_scope code or the domestic-abuse flag), harm days for crimes (an
enabled override, else the CCHI value), the scoring window by recorded month, and recency,
frequency, gravity and victims points with the bands of profiles/vawg.yml. Suspects and victims
are the force's own person id (force_id|person_ref): no person resolution, no uplifts (serial,
escalation, ViSOR, intelligence), no other marts, no tests. It is a lower bound, not the same
answer: the pipeline resolves persons across records and forces, so it finds fewer subjects.

Timed best of 3 (a fresh in-memory DuckDB each time, default threads: both cores), rows out
reported. With --warehouse, the pipeline's subject count for the month is printed beside it.
The pipeline's time comes from a monthly_run JSON (--pipeline-json: the build stage's wall time
and build_month's own seconds) or from timing pipeline.build_month here (--build, into
--warehouse or a temporary file; its disclosure-log entry goes to a temporary log). Prints a
table and a JSON line (--json-out FILE writes the JSON too).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "dbt_project" / "seeds"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _period(month: str) -> tuple[str, str]:
    """The first instant of ``month`` and of the month after, as timestamp literals."""
    year, number = (int(part) for part in month.split("-"))
    year_after, after = (year + 1, 1) if number == 12 else (year, number + 1)
    return f"timestamp '{year:04d}-{number:02d}-01 00:00:00'", f"timestamp '{year_after:04d}-{after:02d}-01 00:00:00'"


def _bands(column: str, bands: list[dict[str, Any]], key: str, compare: str) -> str:
    """A CASE over profiles/vawg.yml bands, first match wins (as int_vawg_scores does)."""
    whens = " ".join(f"when {column} {compare} {band[key]} then {band['points']}" for band in bands)
    return f"case {whens} else 0 end"


def _in_list(values: list[str]) -> str:
    return ", ".join(_quote(v) for v in values)


def floor_sql(lake: Path, month: str, vawg: dict[str, Any]) -> str:
    """The one statement: VAWG RFGV base points per subject (force person id) as at ``month``."""
    start, end = _period(month)
    raw = lake.resolve() / "raw" / "crime"

    def parquet(entity: str) -> str:
        return (f"read_parquet({_quote(str(raw / 'force=*' / 'month=*' / f'{entity}.parquet'))}, "
                f"hive_partitioning = true, hive_types_autocast = false, union_by_name = true)")

    scope = vawg["scope"]
    return f"""
create or replace table floor_scores as
with
occurrences as (
    select force_id, crime_ref, lower(trim(record_type)) as record_type, upper(trim(ho_code)) as ho_code,
           committed_at, reported_at, coalesce(flag_domestic_abuse, false) as is_domestic_abuse
    from {parquet('occurrences')}
    where month <= {_quote(month)} and updated_at < {end}
    qualify row_number() over (partition by force_id, crime_ref
                               order by updated_at desc, month desc, _source_row desc) = 1
),
involvements as (
    select force_id, crime_ref, lower(trim(role)) as role, force_id || '|' || person_ref as person
    from {parquet('involvements')}
    where month <= {_quote(month)} and updated_at < {end}
    qualify row_number() over (partition by force_id, crime_ref, role, person_ref
                               order by updated_at desc, month desc, _source_row desc) = 1
),
harm as (
    select hv.ho_code, coalesce(ov.cchi_days, hv.cchi_days) as harm_days
    from read_csv({_quote(str(SEEDS / 'harm_values.csv'))}) as hv
    left join (select * from read_csv({_quote(str(SEEDS / 'harm_overrides.csv'))}) where is_enabled) as ov
        using (ho_code)
),
vawg_occurrences as (
    select occurrences.force_id, occurrences.crime_ref,
           case when occurrences.record_type = 'crime' then coalesce(harm.harm_days, 0) else 0 end as harm_days,
           date_diff('month', date_trunc('month', coalesce(occurrences.committed_at, occurrences.reported_at)),
                     {start}) as offence_months_ago
    from occurrences
    left join harm using (ho_code)
    where (occurrences.ho_code in (select ho_code from read_csv({_quote(str(SEEDS / 'vawg_scope.csv'))}))
           or occurrences.is_domestic_abuse)
      and occurrences.reported_at < {end}
      and date_diff('month', date_trunc('month', occurrences.reported_at), {start})
          between 0 and {int(vawg['window_months']) - 1}
),
suspects as (
    select distinct force_id, crime_ref, person from involvements where role in ({_in_list(scope['suspect_roles'])})
),
victims as (
    select distinct force_id, crime_ref, person as victim from involvements
    where role in ({_in_list(scope['victim_roles'])})
),
subject_offences as (
    select suspects.person, vawg_occurrences.*
    from suspects inner join vawg_occurrences using (force_id, crime_ref)
),
offence_totals as (
    select person, count(*) as offence_count, sum(harm_days) as harm_days,
           min(offence_months_ago) as months_since_last_offence
    from subject_offences group by person
),
victim_totals as (
    select subject_offences.person, count(distinct victims.victim) as victim_count
    from subject_offences inner join victims using (force_id, crime_ref)
    where victims.victim <> subject_offences.person
    group by subject_offences.person
),
points as (
    select offence_totals.*, coalesce(victim_totals.victim_count, 0) as victim_count,
           {_bands('months_since_last_offence', vawg['recency']['bands'], 'max_months_ago', '<=')} as recency_points,
           {_bands('offence_count', vawg['frequency']['bands'], 'min_offences', '>=')} as frequency_points,
           {_bands('harm_days', vawg['gravity']['bands'], 'min_harm_days', '>=')} as gravity_points,
           {_bands('coalesce(victim_totals.victim_count, 0)', vawg['victims']['bands'], 'min_victims', '>=')}
               as victims_points
    from offence_totals left join victim_totals using (person)
)
select *, recency_points + frequency_points + gravity_points + victims_points as score from points
"""


def time_floor(sql: str, repeats: int = 3) -> tuple[list[float], int, float | None]:
    """Seconds of each run (fresh in-memory DuckDB), subjects out and the top score."""
    import duckdb

    seconds: list[float] = []
    rows, top = 0, None
    for _ in range(repeats):
        con = duckdb.connect()
        started = time.perf_counter()
        con.execute(sql)
        seconds.append(time.perf_counter() - started)
        rows, top = con.execute("select count(*), max(score) from floor_scores").fetchone()  # type: ignore[misc]
        con.close()
    return seconds, int(rows), top


def pipeline_subjects(warehouse: Path, month: str) -> dict[str, int] | None:
    """The pipeline's VAWG subjects of the month (resolved persons), read-only; None if not built."""
    import duckdb

    if not warehouse.is_file():
        return None
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        listed = con.execute("select count(*), count(distinct person_key) from main.fct_vawg_subjects "
                             "where report_month = ?", [month]).fetchone()
        scored = con.execute("select count(*) from main.int_vawg_scores").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return {"fct_vawg_subjects_rows": int(listed[0]), "subjects": int(listed[1]),  # type: ignore[index]
            "int_vawg_scores_rows_last_build": int(scored[0])}  # type: ignore[index]


def time_build(lake: Path, month: str, warehouse: Path | None, central: Path | None) -> dict[str, Any]:
    """pipeline.build_month timed in this process (disclosure-log entry kept out of var/)."""
    scratch = Path(tempfile.mkdtemp(prefix="fp_floor_build_"))
    os.environ["FORCEPROFILES_DISCLOSURE_LOG"] = str(scratch / "disclosures.sqlite")
    from forceprofiles import pipeline

    target = warehouse or scratch / "force_profiles.duckdb"
    started = time.perf_counter()
    built = pipeline.build_month(month, lake_root=lake, warehouse_path=target, central_root=central)
    return {"build_month_s": round(time.perf_counter() - started, 1), "warehouse": str(target),
            "dbt_steps_s": {s["step"]: s["seconds"] for s in built.get("steps", [])}}


def from_pipeline_json(path: Path) -> dict[str, Any]:
    """Lake, month, warehouse and build seconds from a monthly_run JSON report."""
    report = json.loads(path.read_text())
    return {"lake": report["lake"], "month": report["report_month"], "warehouse": report["warehouse"],
            "build_stage_wall_s": report["stages"]["build"]["wall_s"],
            "build_month_s": report["build_steps"].get("build_month_s")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, default=None, help="the lake (default: from --pipeline-json)")
    parser.add_argument("--month", default=None, help="report month YYYY-MM (default: from --pipeline-json)")
    parser.add_argument("--warehouse", type=Path, default=None,
                        help="the pipeline's warehouse: subjects to compare (and --build's target)")
    parser.add_argument("--pipeline-json", type=Path, default=None, help="a monthly_run.py --json-out report")
    parser.add_argument("--build", action="store_true", help="time pipeline.build_month here instead")
    parser.add_argument("--central", type=Path, default=None, help="central platform folder for --build")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()
    given = from_pipeline_json(args.pipeline_json) if args.pipeline_json else {}
    lake = args.lake or (Path(given["lake"]) if given else None)
    month = args.month or given.get("month")
    if lake is None or not month or not _MONTH.match(month):
        parser.error("give --lake and --month YYYY-MM, or --pipeline-json")
    warehouse = args.warehouse or (Path(given["warehouse"]) if given.get("warehouse") else None)
    vawg = yaml.safe_load((REPO / "profiles" / "vawg.yml").read_text())
    seconds, rows, top = time_floor(floor_sql(lake, month, vawg), args.repeats)
    best = min(seconds)
    report: dict[str, Any] = {"benchmark": "duckdb_floor", "lake": str(lake), "month": month,
                              "floor_runs_s": [round(s, 3) for s in seconds], "floor_best_s": round(best, 3),
                              "floor_subjects": rows, "floor_top_score": top, "vawg_profile": vawg.get("version")}
    if args.build:
        report["pipeline"] = time_build(lake, month, args.warehouse, args.central)
        warehouse = Path(report["pipeline"]["warehouse"])
    elif given:
        report["pipeline"] = {k: given[k] for k in ("build_stage_wall_s", "build_month_s")}
    if warehouse is not None:
        report["pipeline_subjects"] = pipeline_subjects(warehouse, month)
    for name in ("build_stage_wall_s", "build_month_s"):
        value = (report.get("pipeline") or {}).get(name)
        if value:
            report[f"ratio_{name.removesuffix('_s')}_over_floor"] = round(value / best, 1)
    print_report(report)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return 0


def print_report(report: dict[str, Any]) -> None:
    """A small table and the JSON line."""
    print(f"\nDuckDB floor, VAWG base scores as at {report['month']} (profiles/vawg.yml {report['vawg_profile']})")
    print(f"{'what':<44}{'seconds':>10}{'rows':>10}{'x floor':>9}")
    runs = ", ".join(f"{s:.3f}" for s in report["floor_runs_s"])
    print(f"{'floor: one SQL statement (best of ' + str(len(report['floor_runs_s'])) + ')':<44}"
          f"{report['floor_best_s']:>10.3f}{report['floor_subjects']:>10,}{1:>9.1f}   runs {runs}")
    pipeline = report.get("pipeline") or {}
    subjects = (report.get("pipeline_subjects") or {}).get("subjects")
    for name, label in (("build_month_s", "pipeline build_month (dbt + Splink + marts)"),
                        ("build_stage_wall_s", "pipeline build stage (child process wall)")):
        if pipeline.get(name):
            ratio = report[f"ratio_{name.removesuffix('_s')}_over_floor"]
            shown = f"{subjects:,}" if subjects is not None else "-"
            print(f"{label:<44}{pipeline[name]:>10.1f}{shown:>10}{ratio:>9.1f}")
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    raise SystemExit(main())
