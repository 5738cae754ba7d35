"""Benchmark: does a month cost the same however much history, and how does it grow with forces?

    .venv/bin/python benchmarks/growth.py --scale 0.02 --work var/bench          # the issue's axes
    .venv/bin/python benchmarks/growth.py --scale 0.002 --work /tmp/fpbench \
        --months-world kent,essex --months-axis 2,4 --forces-world kent,essex,norfolk \
        --forces-axis 1,3 --forces-months 2                                        # tiny, to check it runs

Runs benchmarks/monthly_run.py's monthly run (same stages, same child processes and figures)
at each point of two axes, at one --scale:

- months of history (default 12, 24, 36) with the nine forces: ONE world of max(axis) months
  (--months-world, default all9) is prepared; a point of N months builds its warehouse from a
  run lake that links (symlinks) only the last N-1 history partitions, then ingests the report
  month. No second world, no second history ingest.
- number of forces (default 9, 20, 43) over --forces-months months (default 12, to keep the
  national preparation affordable): ONE world (--forces-world, default national) is prepared;
  a point of F forces links only those forces' partitions and runs the month for them. The
  forces are taken in a fixed order, the nine regional forces first, then the others in
  police.uk order (so 9 is the S1 set and 20 adds avon-and-somerset .. gloucestershire).
  The central platform (national nominals, OCG register) stays the whole world's at every point.

Preparation is cached in --work and shared with monthly_run.py (same keys). Prints a table,
writes <out-prefix>.json and draws <out-prefix>.svg and .png (time per stage against months and
against forces; default out-prefix docs/benchmarks/growth). Each point's run folder is removed
after it is measured unless --keep-runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import monthly_run  # noqa: E402  (the benchmark next to this one)

STAGES = monthly_run.RUN_STAGES


def _ints(text: str) -> list[int]:
    values = sorted({int(part) for part in text.split(",") if part.strip()})
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive integers")
    return values


def ordered_forces(forces: tuple[str, ...]) -> list[str]:
    """The nine regional forces first (in their usual order), then the rest in the world's order."""
    from forceprofiles.reference import NINE_FORCES

    nine = [f for f in NINE_FORCES if f in forces]
    return nine + [f for f in forces if f not in nine]


def measure(prepared: monthly_run.Prepared, work: Path, *, axis: str, forces: list[str], history: int,
            keep: bool) -> dict[str, Any]:
    """One point: a monthly run over ``forces`` with ``history`` months in the warehouse."""
    run_dir = work / "runs" / f"growth-{prepared.key.label()}-h{history}-f{len(forces)}"
    report = monthly_run.monthly_run(prepared, run_dir, forces=forces, history=history,
                                     log=lambda line: print(f"[{axis} {len(forces)}f {history}m] {line}", flush=True))
    if not keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return point_from_report(report, axis=axis, forces=len(forces), history=history,
                             run_dir=run_dir if keep else None)


def point_from_report(report: dict[str, Any], *, axis: str, forces: int, history: int,
                      run_dir: Path | None) -> dict[str, Any]:
    """The figures of one point kept from its monthly run report, with the machine's speed at
    the time: the same national month took 1,207.2 s on one machine of this kind and 876.3 s on
    another (docs/benchmarks.md, sessions 20 and 21), so a point means little without it."""
    machine = report["machine"]
    return {"axis": axis, "forces": forces, "history_months": history,
            "lake_extract_rows": report["lake_extract_rows"], "monthly_run": report["monthly_run"],
            "stages": {s: {k: v for k, v in row.items() if k != "detail"} for s, row in report["stages"].items()},
            "build_steps": report["build_steps"], "products": report["stages"]["render"]["detail"].get("products"),
            "load_average": [machine["load_average_start"][0], machine["load_average_end"][0]],
            "machine_speed_s": machine.get("speed_s"),
            "run_dir": str(run_dir) if run_dir else None}


def print_table(points: list[dict[str, Any]]) -> None:
    """One row per point: the stages' wall seconds and the run's peak memory."""
    header = f"{'axis':<8}{'forces':>7}{'months':>7}{'rows':>12}" + "".join(f"{s:>10}" for s in STAGES) + \
             f"{'total s':>10}{'peak MiB':>10}{'tree MiB':>10}"
    print("\n" + header)
    for p in points:
        stages = "".join(f"{p['stages'][s]['wall_s']:>10.1f}" for s in STAGES)
        run = p["monthly_run"]
        print(f"{p['axis']:<8}{p['forces']:>7}{p['history_months']:>7}{p['lake_extract_rows']:>12,}{stages}"
              f"{run['wall_s']:>10.1f}{run['peak_rss_mib']:>10,.0f}{run['tree_peak_mib']:>10,.0f}")


def draw(points: list[dict[str, Any]], scale: float, prefix: Path) -> list[Path]:
    """Two panels, wall seconds per stage and in total: against months, and against forces."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = [(axis, xkey, xlabel) for axis, xkey, xlabel in (("months", "history_months", "months of history in the warehouse"),
                                                           ("forces", "forces", "forces"))
            if any(p["axis"] == axis for p in points)]  # an axis left out (--skip) gets no empty panel
    figure, panels = plt.subplots(1, max(1, len(axes)), figsize=(5.5 * max(1, len(axes)), 4.2), constrained_layout=True,
                                  squeeze=False)
    panels = panels[0]
    for panel, (axis, xkey, xlabel) in zip(panels, axes):
        chosen = sorted((p for p in points if p["axis"] == axis), key=lambda p: p[xkey])
        xs = [p[xkey] for p in chosen]
        for stage in STAGES:
            panel.plot(xs, [p["stages"][stage]["wall_s"] for p in chosen], marker="o", label=stage)
        panel.plot(xs, [p["monthly_run"]["wall_s"] for p in chosen], marker="s", color="black", linewidth=2,
                   label="monthly run")
        for p in chosen:
            panel.annotate(f"{p['lake_extract_rows']:,} rows", (p[xkey], p["monthly_run"]["wall_s"]),
                           textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
        fixed = f"{chosen[0]['forces']} forces" if axis == "months" and chosen else \
            f"{chosen[0]['history_months']} months" if chosen else ""
        panel.set_title(f"against {axis} ({fixed}, scale {scale:g})")
        panel.set_xlabel(xlabel)
        panel.set_ylabel("wall seconds")
        panel.set_xticks(xs)
        top = max([p["monthly_run"]["wall_s"] for p in chosen], default=1.0)
        panel.set_ylim(0, top * 1.15)
        panel.margins(x=0.1)
        panel.grid(alpha=0.3)
    panels[0].legend(fontsize=8, loc="upper left")
    figure.suptitle("Force Profiles monthly run: wall time per stage (2 cores)")
    written = []
    for suffix in (".svg", ".png"):
        path = prefix.with_suffix(suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110 if suffix == ".png" else None)
        written.append(path)
    plt.close(figure)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--months-axis", type=_ints, default=[12, 24, 36])
    parser.add_argument("--months-world", default="all9", help="forces of the months axis (default all9)")
    parser.add_argument("--forces-axis", type=_ints, default=[9, 20, 43])
    parser.add_argument("--forces-world", default="national", help="world the forces axis takes subsets of")
    parser.add_argument("--forces-months", type=int, default=12, help="months of history on the forces axis")
    parser.add_argument("--end", default=monthly_run.DEFAULT_END)
    parser.add_argument("--seed", type=int, default=monthly_run.DEFAULT_SEED)
    parser.add_argument("--work", type=Path, default=monthly_run.REPO / "var" / "bench")
    parser.add_argument("--out-prefix", type=Path, default=monthly_run.REPO / "docs" / "benchmarks" / "growth")
    parser.add_argument("--keep-runs", action="store_true", help="keep each point's run folder (lake, warehouse, PDFs)")
    parser.add_argument("--skip", choices=("months", "forces"), default=None, help="leave one axis out")
    args = parser.parse_args()
    work = args.work.resolve()
    points: list[dict[str, Any]] = []
    preparation: dict[str, Any] = {}
    json_path = args.out_prefix.with_suffix(".json")
    json_path.parent.mkdir(parents=True, exist_ok=True)

    def save() -> dict[str, Any]:
        """Write the points so far: a national run takes hours, and a stopped one keeps what it measured."""
        report = {"benchmark": "growth", "scale": args.scale, "points": points, "preparation": preparation}
        json_path.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
        return report

    if args.skip != "months":
        key = monthly_run.WorldKey(args.months_world, args.scale, max(args.months_axis), args.end, args.seed)
        prepared = monthly_run.prepare(work, key)
        preparation[key.label()] = {"done_this_run": sorted(prepared.fresh), **prepared.timings}
        forces = list(key.force_ids())
        for months in args.months_axis:
            points.append(measure(prepared, work, axis="months", forces=forces, history=months, keep=args.keep_runs))
            save()
    if args.skip != "forces":
        key = monthly_run.WorldKey(args.forces_world, args.scale, args.forces_months, args.end, args.seed)
        prepared = monthly_run.prepare(work, key)
        preparation[key.label()] = {"done_this_run": sorted(prepared.fresh), **prepared.timings}
        order = ordered_forces(key.force_ids())
        for count in args.forces_axis:
            if count > len(order):
                print(f"forces axis: {count} > the world's {len(order)} forces; skipped")
                continue
            points.append(measure(prepared, work, axis="forces", forces=order[:count], history=args.forces_months,
                                  keep=args.keep_runs))
            save()
    print_table(points)
    report = save()
    charts = draw(points, args.scale, args.out_prefix)
    print(f"wrote {json_path}, {', '.join(str(c) for c in charts)}")
    print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
