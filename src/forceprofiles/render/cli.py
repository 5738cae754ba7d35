"""``forceprofiles render``: the render stage from a shell, with a progress bar and a summary table."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from forceprofiles.render.products import PRODUCT_IDS

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

EPILOG = """\
Writes out/<YYYY-MM>/<force>/<product>.pdf, a <product>.json sidecar beside each (sha256, pages,
inputs, what changed) and out/<YYYY-MM>/manifest.json. Forces held that month are skipped and
listed in the manifest with the reason. The warehouse is opened read-only.

Examples:
  forceprofiles render --month 2026-10
  forceprofiles render --month 2026-10 --forces kent,essex --products vawg-tactical
"""


def _month(value: str) -> str:
    if not _MONTH.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a month in the form YYYY-MM")
    return value


def add_render_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``render`` subcommand on the main parser."""
    render = commands.add_parser("render", help="render the monthly PDF products from the warehouse",
                                 description="Render the VAWG and missing-persons products (strategic and "
                                             "tactical) for each force from the warehouse, as at one month.",
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    render.add_argument("--month", type=_month, required=True, help="the report month, YYYY-MM")
    render.add_argument("--forces", default=None,
                        help="comma-separated force ids (default: every force with records in the warehouse)")
    render.add_argument("--products", default=",".join(PRODUCT_IDS),
                        help=f"comma-separated products (default: {','.join(PRODUCT_IDS)})")
    render.add_argument("--warehouse", type=Path, default=None,
                        help="the DuckDB warehouse (default $FORCEPROFILES_WAREHOUSE or var/warehouse/...)")
    render.add_argument("--out", type=Path, default=None, help="output root (default $FORCEPROFILES_OUT or var/out)")
    render.add_argument("--quiet", action="store_true", help="no progress bar")
    render.set_defaults(handler=run_render)


def warehouse_forces(warehouse: Path, month: str) -> list[str]:
    """Forces with rows in the feed accounting for the month (the run's forces)."""
    from forceprofiles.render import data

    with data.connect(warehouse) as con:
        return [r["force_id"] for r in data.rows(con, "select distinct force_id from main.fct_feed_accounting "
                                                      "where report_month = ? order by force_id", [month])]


def run_render(args: argparse.Namespace) -> int:
    """Render, then print one row per force and product (pages, size, seconds) and the skips."""
    from rich.console import Console
    from rich.table import Table

    from forceprofiles import settings
    from forceprofiles.progress import progress_bar
    from forceprofiles.render.api import render_month

    warehouse = args.warehouse or settings.warehouse_path()
    out = args.out or settings.output_root()
    products = [p.strip() for p in args.products.split(",") if p.strip()]
    unknown = [p for p in products if p not in PRODUCT_IDS]
    if unknown:
        raise SystemExit(f"forceprofiles render: unknown product(s) {', '.join(unknown)}; "
                         f"known: {', '.join(PRODUCT_IDS)}")
    forces = ([f.strip() for f in args.forces.split(",") if f.strip()] if args.forces
              else warehouse_forces(warehouse, args.month))
    started = time.perf_counter()
    with progress_bar("render", total=len(forces) * len(products), enabled=not args.quiet) as advance:
        manifest = render_month(warehouse, args.month, forces, products, out, on_done=lambda f, p: advance())
    elapsed = time.perf_counter() - started
    table = Table(title=f"render {args.month}")
    for column in ("force", "product", "pages", "KB", "sha256", "changes"):
        table.add_column(column, justify="right" if column in ("pages", "KB") else "left")
    wanted = set(forces)
    for s in manifest["products"]:
        if s["force_id"] in wanted and s["product"] in products:
            table.add_row(s["force_id"], s["product"], str(s["pages"]), f"{s['bytes'] / 1024:,.0f}", s["sha256"][:12],
                          s["changes"])
    console = Console()
    console.print(table)
    for skip in manifest["skipped"]:
        console.print(f"skipped {skip['force_id']} {skip['product']}: {skip['reason']}", markup=False, highlight=False)
    console.print(f"render {args.month}: {len(manifest['products'])} product(s) in {out / args.month} "
                  f"({elapsed:.1f} s)", markup=False)
    return 0
