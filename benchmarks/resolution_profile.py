"""Benchmark: person resolution step by step on a built warehouse, with time and memory per step.

    .venv/bin/python benchmarks/resolution_profile.py --warehouse var/bench/runs/<run>/warehouse/force_profiles.duckdb

Why: at S1's scale the build's peak memory is person resolution's (docs/benchmarks.md). This
runs the steps of ``linkage.resolve`` one by one on the warehouse's int_person_records (read
only; nothing is written) and prints, per step, seconds, the process's RSS after it and the peak
RSS so far (a 0.2 s sampler), so the step that holds the memory is visible.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--threshold", type=float, default=0.95)
    args = parser.parse_args()

    import duckdb
    import psutil

    from forceprofiles import linkage

    process = psutil.Process()
    peak = [0]

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    started = [time.perf_counter()]

    def step(label: str, detail: str = "") -> None:
        now = time.perf_counter()
        print(f"{label:<12}{now - started[0]:>8.1f} s   RSS {process.memory_info().rss / 2**30:>6.2f} GiB   "
              f"peak so far {peak[0] / 2**30:>6.2f} GiB   {detail}", flush=True)
        started[0] = now

    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        persons = con.execute("""
            select record_id, coalesce(force_id, 'central') as source, forenames, surname, date_of_birth,
                   sex, address, postcode, pnc_id, cro_number from main.int_person_records""").df()
    step("read", f"{len(persons):,} records")
    prepared = linkage.prepare_persons(persons)
    step("prepare")
    model = linkage.load_model()
    settings = model["splink_settings"]
    collapsed = linkage.collapse_identical(prepared, settings, args.threshold)
    representatives = prepared[collapsed.representative.to_numpy() == prepared["record_id"].to_numpy()]
    step("collapse", f"{len(representatives):,} distinct records compared")
    linker = linkage._linker(representatives.reset_index(drop=True), settings)
    predictions = linker.inference.predict(threshold_match_probability=args.threshold, warning_mode="never")
    links = predictions.as_duckdbpyrelation().query(
        "p", "select record_id_l, record_id_r, match_probability from p").df()
    step("predict", f"{len(links):,} links at >= {args.threshold}")
    clusters = linkage._connected_components(prepared, links, collapsed)
    step("components", f"{clusters['cluster_id'].nunique():,} persons")
    print(f"peak RSS {peak[0] / 2**30:.2f} GiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
