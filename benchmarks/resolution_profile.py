"""Benchmark: person resolution step by step on a built warehouse, with time and memory per step.

    .venv/bin/python benchmarks/resolution_profile.py --warehouse var/bench/runs/<run>/warehouse/force_profiles.duckdb

Why: at S1's scale person resolution was the build's peak memory (docs/benchmarks.md). This
runs the build's hook (``forceprofiles.warehouse_resolution.resolve_persons_in_warehouse``) on
the warehouse's int_person_records, attached read-only (the result goes to an in-memory
database and is thrown away), and prints, at each step the hook logs, the seconds, the
process's RSS and the peak RSS so far (a 0.2 s sampler), so the step that holds the memory is
visible. ``--memory`` sets the DuckDB memory limit of the connection, as the build does.
``--truth`` (a synthetic world's truth folder) also scores the persons found, pairwise against
the true people, as ``forceprofiles evaluate`` does (without rebuilding the marts), so a change
to resolution can be measured on a national warehouse in minutes, and ``--model`` compares
another model artefact on the same warehouse (``git show REV:profiles/linkage/person_model.json``):

    .venv/bin/python benchmarks/resolution_profile.py --warehouse <run>/warehouse/force_profiles.duckdb \
        --truth var/bench/prepared/<world>/world/truth --json-out var/bench/resolution.json
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--model", type=Path, default=None,
                        help="a person model artefact to resolve with (default: profiles/linkage/person_model.json), "
                             "e.g. an earlier version from git, to compare two models on one warehouse")
    parser.add_argument("--memory", default=None, help="DuckDB memory_limit of the connection (default: the build's)")
    parser.add_argument("--truth", type=Path, default=None, help="a synthetic world's truth folder: score the persons")
    parser.add_argument("--json-out", type=Path, default=None, help="write the figures here as JSON")
    args = parser.parse_args()

    import duckdb
    import psutil

    from forceprofiles.warehouse import duckdb_config
    from forceprofiles.warehouse_resolution import resolve_persons_in_warehouse

    process = psutil.Process()
    peak = [0]

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()

    class StepPrinter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            print(f"{record.getMessage():<70}RSS {process.memory_info().rss / 2**30:>6.2f} GiB   "
                  f"peak so far {peak[0] / 2**30:>6.2f} GiB", flush=True)

    logger = logging.getLogger("forceprofiles.warehouse_resolution")
    logger.addHandler(StepPrinter())
    logger.setLevel(logging.INFO)
    config = duckdb_config()
    if args.memory:
        config["memory_limit"] = args.memory
    with duckdb.connect(config=config) as con:
        con.execute(f"attach '{args.warehouse}' as built (read_only)")
        con.execute("create view main.int_person_records as select * from built.main.int_person_records")
        started = time.perf_counter()
        resolve_persons_in_warehouse(con, model_path=args.model, threshold=args.threshold)
        seconds = time.perf_counter() - started
        persons = con.execute("select count(distinct person_key) from main.person_clusters").fetchall()[0][0]
        largest = con.execute("select max(n) from (select count(*) as n from main.person_clusters "
                              "group by person_key)").fetchall()[0][0]
        used = con.execute("select model_version, prior, force_same_u from main.person_resolution_settings").fetchall()[0]
        report = {"warehouse": str(args.warehouse), "threshold": args.threshold, "seconds": round(seconds, 1),
                  "model_version": used[0], "prior": used[1], "force_same_u": used[2],
                  "persons": persons, "largest_person_records": largest,
                  "peak_rss_gib": round(peak[0] / 2**30, 2)}
        print(f"{persons:,} persons (largest {largest:,} records) in {seconds:.1f} s; "
              f"peak RSS {peak[0] / 2**30:.2f} GiB")
        if args.truth:
            from forceprofiles.evaluate import evaluate_person_resolution, record_truth

            report["pairwise"] = evaluate_person_resolution(record_truth(con, args.truth))
            print(json.dumps(report["pairwise"], indent=1))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
