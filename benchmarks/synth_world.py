"""Benchmark: time and peak memory of `forceprofiles synth` for a world size.

    .venv/bin/python benchmarks/synth_world.py --forces all9 --scale 0.1 --months 36
    .venv/bin/python benchmarks/synth_world.py --forces all9 --scale 1.0 --months 36
    .venv/bin/python benchmarks/synth_world.py --forces national --scale 1.0 --months 36

Prints wall time, CPU time, peak resident memory (this process), rows written and bytes on disk.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from forceprofiles.cli import resolve_forces
from forceprofiles.synth.world import WorldSpec
from forceprofiles.synth.writer import generate_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forces", default="all9")
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--end", default="2026-10")
    parser.add_argument("--out", type=Path, default=None, help="keep the world here (default: a temp dir, removed)")
    args = parser.parse_args()
    end = pd.Period(args.end, freq="M")
    start = str(end - (args.months - 1))
    forces = resolve_forces(args.forces)
    out = args.out or Path(tempfile.mkdtemp(prefix="fp_bench_world_"))
    spec = WorldSpec(forces=forces, start=start, end=str(end), scale=args.scale, seed=42)
    wall, cpu = time.perf_counter(), time.process_time()
    summary = generate_world(spec, out)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(int(e["rows"]) for e in summary["extracts"])
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(json.dumps({"forces": len(forces), "scale": args.scale, "months": args.months, "wall_s": round(wall, 1),
                      "cpu_s": round(cpu, 1), "peak_rss_mib": round(peak_mib), "extract_rows": rows,
                      "true_people": summary["people"], "bytes_on_disk": size}))
    if args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
