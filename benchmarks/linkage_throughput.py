"""Throughput of person resolution (records/s) on ~100k person records from a synthetic world.

    PYTHONPATH=src python benchmarks/linkage_throughput.py [--scale 0.18] [--world var/linkage_bench]

Generates (or reuses) a world of four forces over six months, builds its person records
(about 100k at scale 0.18; 83k at 0.15), resolves them with the committed model and reports the time of
each step and the pairwise precision/recall against the ground truth. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from forceprofiles.linkage import load_model, resolve, stable_person_keys
from forceprofiles.linkage_synth import pairwise_scores, world_persons
from forceprofiles.synth.world import WorldSpec
from forceprofiles.synth.writer import generate_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.18)
    parser.add_argument("--world", type=Path, default=Path("var/linkage_bench"))
    parser.add_argument("--threshold", type=float, default=0.95)
    args = parser.parse_args()
    spec = WorldSpec(forces=("norfolk", "suffolk", "essex", "cambridgeshire"), start="2025-01", end="2025-06",
                     scale=args.scale, seed=2024)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    marker = args.world / "world.json"
    if not marker.exists() or json.loads(marker.read_text())["spec"]["scale"] != args.scale:
        generate_world(spec, args.world)
    timings["generate_world_s"] = time.perf_counter() - started
    started = time.perf_counter()
    persons, truth = world_persons(args.world)
    timings["build_persons_s"] = time.perf_counter() - started
    model = load_model()
    started = time.perf_counter()
    clusters, links = resolve(persons, model, threshold=args.threshold)
    keyed = stable_person_keys(clusters, None)
    timings["resolve_s"] = time.perf_counter() - started
    scores = pairwise_scores(clusters, truth)
    report = {
        "records": len(persons),
        "people_true": int(truth["person_id"].nunique()),
        "people_found": int(keyed["person_key"].nunique()),
        "links": len(links),
        "records_per_s": round(len(persons) / timings["resolve_s"]),
        **{k: round(v, 2) for k, v in timings.items()},
        **{k: round(v, 4) for k, v in scores.items()},
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
