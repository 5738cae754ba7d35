"""Benchmark: render all four products for every force of one month from a given warehouse.

Prints seconds per product and per page (the issue's aim: under 2 s for a typical product on
2 cores). Renders sequentially in one process, so the figures are per core.

    .venv/bin/python benchmarks/render_month.py --warehouse var/warehouse/force_profiles.duckdb \
        --month 2026-10 [--forces kent,essex] [--out /tmp/render-bench]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from forceprofiles.render.api import ForceHeldError, render_product
from forceprofiles.render.cli import warehouse_forces
from forceprofiles.render.products import PRODUCT_IDS


def main() -> int:
    """Render, time each product, print a table and the per-product / per-page summary."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--month", required=True)
    parser.add_argument("--forces", default=None, help="comma-separated (default: every force in the warehouse)")
    parser.add_argument("--out", type=Path, default=None, help="output root (default: a temporary folder)")
    args = parser.parse_args()
    forces = args.forces.split(",") if args.forces else warehouse_forces(args.warehouse, args.month)
    out = args.out or Path(tempfile.mkdtemp(prefix="render-bench-"))
    timings: dict[str, list[tuple[float, int]]] = {p: [] for p in PRODUCT_IDS}
    started = time.perf_counter()
    print(f"{'force':<16}{'product':<20}{'pages':>6}{'seconds':>9}{'s/page':>8}")
    for force in forces:
        for product in PRODUCT_IDS:
            t0 = time.perf_counter()
            try:
                sidecar = render_product(args.warehouse, args.month, force, product, out)
            except ForceHeldError as held:
                print(f"{force:<16}{product:<20} held: {held}")
                continue
            seconds = time.perf_counter() - t0
            timings[product].append((seconds, sidecar["pages"]))
            print(f"{force:<16}{product:<20}{sidecar['pages']:>6}{seconds:>9.2f}{seconds / sidecar['pages']:>8.3f}")
    total = time.perf_counter() - started
    print("\nper product (median over forces):")
    for product, runs in timings.items():
        if runs:
            secs = [s for s, _ in runs]
            pages = [p for _, p in runs]
            print(f"  {product:<20} {statistics.median(secs):6.2f} s  {statistics.median(pages):5.0f} pages  "
                  f"{sum(secs) / sum(pages):.3f} s/page")
    renders = sum(len(r) for r in timings.values())
    pages = sum(p for r in timings.values() for _, p in r)
    print(f"\n{renders} products, {pages} pages in {total:.1f} s: {total / max(renders, 1):.2f} s per product, "
          f"{total / max(pages, 1):.3f} s per page -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
