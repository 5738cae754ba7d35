"""Benchmark: person resolution step by step on a built warehouse, with time and memory per step.

    .venv/bin/python benchmarks/resolution_profile.py --warehouse var/bench/runs/<run>/warehouse/force_profiles.duckdb

Why: at S1's scale person resolution was the build's peak memory (docs/benchmarks.md). This
runs the build's hook (``forceprofiles.warehouse_resolution.resolve_persons_in_warehouse``) on
the warehouse's int_person_records, attached read-only (the result goes to an in-memory
database and is thrown away), and prints, at each step the hook logs, the seconds, the
process's RSS and the peak RSS so far (a 0.2 s sampler), so the step that holds the memory is
visible. ``--memory`` sets the DuckDB memory limit of the connection, as the build does.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--memory", default=None, help="DuckDB memory_limit of the connection (default: the build's)")
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
        resolve_persons_in_warehouse(con, threshold=args.threshold)
        persons = con.execute("select count(distinct person_key) from main.person_clusters").fetchone()[0]
    print(f"{persons:,} persons; peak RSS {peak[0] / 2**30:.2f} GiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
