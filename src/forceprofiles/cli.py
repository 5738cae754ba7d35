"""The ``forceprofiles`` command line: every stage of the monthly job without Airflow.

The Airflow DAG is thin glue over the same functions, so anything the scheduler does can be
reproduced, debugged and tested from a shell.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

DESCRIPTION = """\
Force Profiles: monthly force threat profiles (VAWG and missing persons) from several police
forces' crime, intelligence, custody, missing-person and ViSOR records.

Start here:
  forceprofiles synth --out var/world            generate the embedded synthetic world
                                                 (nine forces, 36 months, small scale)
Run `forceprofiles COMMAND --help` for the options of a command.
"""

SYNTH_EPILOG = """\
Forces: a comma-separated list of police.uk force ids (e.g. bedfordshire,hertfordshire),
`all9` for the nine eastern and midland forces of the default world, or `national` for all
43 territorial forces of England and Wales.

Scale multiplies real yearly volumes (1.0 = a force's real crime volume; the default 0.02 is
small enough for a laptop in seconds). The same arguments and seed give byte-identical output.

Examples:
  forceprofiles synth --out var/world
  forceprofiles synth --out var/big --forces all9 --scale 1.0 --start 2023-11 --end 2026-10
  forceprofiles synth --out var/pg --forces kent,essex --postgres postgresql://postgres@127.0.0.1/test
"""

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _month(value: str) -> str:
    if not _MONTH.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a month in the form YYYY-MM")
    return value


def _scale(value: str) -> float:
    number = float(value)
    if not 0 < number <= 10:
        raise argparse.ArgumentTypeError("scale must be greater than 0 and at most 10")
    return number


def resolve_forces(value: str) -> tuple[str, ...]:
    """Turn the --forces argument into force ids (``all9``, ``national`` or a list)."""
    from forceprofiles import reference

    if value == "all9":
        return reference.NINE_FORCES
    if value == "national":
        return tuple(reference.forces()["force_id"])
    forces = tuple(part.strip() for part in value.split(",") if part.strip())
    known = set(reference.forces()["force_id"])
    unknown = [f for f in forces if f not in known]
    if unknown:
        raise SystemExit(f"forceprofiles: unknown force id(s) {', '.join(unknown)}; "
                         f"known ids: {', '.join(sorted(known))}")
    return forces


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="forceprofiles", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    synth = commands.add_parser("synth", help="generate a synthetic multi-force world (the embedded default data)",
                                description="Generate a seeded synthetic world: each force's monthly extracts in "
                                            "its own dialect, the central platform, and the ground truth.",
                                epilog=SYNTH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    synth.add_argument("--out", type=Path, required=True, help="output directory (its landing/, central/ and truth/ are replaced)")
    synth.add_argument("--forces", default="all9", help="force ids, `all9` (default) or `national`")
    synth.add_argument("--start", type=_month, default="2023-11", help="first month, YYYY-MM (default 2023-11)")
    synth.add_argument("--end", type=_month, default="2026-10", help="last month, YYYY-MM (default 2026-10)")
    synth.add_argument("--scale", type=_scale, default=0.02, help="fraction of real volumes (default 0.02)")
    synth.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    synth.add_argument("--postgres", metavar="DSN", default=None,
                       help="load the extracts of forces configured for database delivery into PostgreSQL")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(handler=_run_synth)
    run = commands.add_parser("run", help="run the monthly job for one month (extract, validate, hold decisions)",
                              description="Run the monthly job without Airflow, as the DAG force_profiles_monthly "
                                          "does: every force x feed, then the hold decisions and the run manifest "
                                          "(lake/manifests/<YYYY-MM>/run.json). Exit code 0 even if forces are held "
                                          "(a business outcome); 1 if a stage crashed for some force or feed.")
    run.add_argument("--month", type=_month, default=None,
                     help="YYYY-MM (default: the previous calendar month in Europe/London, or with --world the "
                          "world's last month)")
    run.add_argument("--forces", default=None, help="comma-separated force ids (default: the world's forces with "
                                                    "--world, else every force in profiles/forces.yml)")
    run.add_argument("--stages", default="extract,validate,build,render,send",
                     help="comma-separated stages among extract,validate,build,render,send (default: all; "
                          "send needs a mail server: see `forceprofiles mailsink`)")
    run.add_argument("--out", type=Path, default=None,
                     help="where products go (default $FORCEPROFILES_OUT or var/out)")
    run.add_argument("--dev-secrets", action="store_true",
                     help="send: generate missing group passwords into var/distribution/dev-secrets.env (development)")
    run.add_argument("--history", type=int, default=1, metavar="N",
                     help="also ingest the N-1 months before --month first, oldest first (default 1: only the month); "
                          "the profiles look back 36 months, so a first run on a new lake wants --history 36")
    run.add_argument("--warehouse", type=Path, default=None,
                     help="the DuckDB warehouse file (default $FORCEPROFILES_WAREHOUSE or var/warehouse/...)")
    run.add_argument("--central", type=Path, default=None,
                     help="the central platform's Parquet folder (default: the world's central/ with --world)")
    run.add_argument("--baseline-linkage", action="store_true",
                     help="resolve persons by exact identifiers instead of the Splink model")
    run.add_argument("--world", type=Path, default=None, help="a world made by `synth`: read its landing/ folder")
    run.add_argument("--lake", type=Path, default=None, help="the data lake (default $FORCEPROFILES_LAKE or var/lake)")
    run.add_argument("--postgres", metavar="DSN", default=None,
                     help="database of forces configured for PostgreSQL delivery (default $FORCEPROFILES_POSTGRES_DSN)")
    run.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), metavar="N",
                     help="processes extracting and validating force x feed partitions in parallel "
                          "(default: up to 2, the cores of the reference machine)")
    run.set_defaults(handler=_run_run)
    from forceprofiles.linkage_cli import add_link_parser

    add_link_parser(commands)
    from forceprofiles.render.cli import add_render_parser

    add_render_parser(commands)
    from forceprofiles.distribute.cli import add_distribute_parsers

    add_distribute_parsers(commands)
    from forceprofiles.evaluate import add_evaluate_parser

    add_evaluate_parser(commands)
    return parser


def _run_synth(args: argparse.Namespace) -> int:
    from forceprofiles.progress import progress_bar
    from forceprofiles.synth.calibration import month_range
    from forceprofiles.synth.world import WorldSpec
    from forceprofiles.synth.writer import generate_world

    forces = resolve_forces(args.forces)
    months = month_range(args.start, args.end)
    spec = WorldSpec(forces=forces, start=args.start, end=args.end, scale=args.scale, seed=args.seed)
    started = time.perf_counter()
    with progress_bar("synth", total=len(forces) * len(months), enabled=not args.quiet) as advance:
        summary = generate_world(spec, args.out, postgres_dsn=args.postgres, on_month=lambda f, m: advance())
    elapsed = time.perf_counter() - started
    rows = sum(int(e["rows"]) for e in summary["extracts"])  # type: ignore[index, union-attr]
    print(f"synth: {len(forces)} forces x {len(months)} months, {rows:,} extract rows, "
          f"{summary['people']:,} true people -> {args.out} in {elapsed:.1f} s")
    return 0


RUN_STAGES = ("extract", "validate", "build", "render", "send")


def _run_run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from forceprofiles import contract, pipeline, settings
    from forceprofiles.progress import progress_bar

    month = args.month or pipeline.default_month(args.world)
    forces = pipeline.resolve_forces(args.forces or pipeline.default_forces(args.world))
    landing = args.world / "landing" if args.world else settings.landing_root()
    started = time.perf_counter()
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in stages if s not in RUN_STAGES]
    if unknown:
        print(f"forceprofiles run: unknown stage(s) {', '.join(unknown)}; known: {', '.join(RUN_STAGES)}",
              file=sys.stderr)
        return 2
    ingest_stages = [s for s in stages if s in pipeline.STAGES]
    lake = args.lake or settings.lake_root()
    console = Console()
    errors = 0
    if ingest_stages:
        history = pipeline.months_before(month, args.history - 1)
        if args.world:  # a synthetic world has no months before its start
            history = [m for m in history if m in pipeline.world_summary(args.world)["months"]]
        partitions = (len(history) + 1) * len(forces) * len(contract.FEEDS)
        with progress_bar("extract+validate", total=partitions) as advance:
            for earlier in history:
                done = pipeline.ingest_month(earlier, forces, landing_root=landing, lake_root=lake,
                                             postgres_dsn=args.postgres, stages=ingest_stages, workers=args.workers,
                                             on_partition=advance)
                console.print(f"ingest {earlier}: {len(forces) - len(done['held'])} of {len(forces)} forces proceed; "
                              f"{len(done['errors'])} crash(es)", markup=False, highlight=False)
            summary = pipeline.ingest_month(month, forces, landing_root=landing, lake_root=lake,
                                            postgres_dsn=args.postgres, stages=ingest_stages, workers=args.workers,
                                            on_partition=advance)
        console.print(pipeline.summary_table(summary))
        for line in pipeline.hold_lines(summary):
            console.print(line, markup=False, highlight=False)
        held = summary["held"]
        decided = (f"{len(forces) - len(held)} of {len(forces)} forces proceed{', held: ' + ', '.join(held) if held else ''}"
                   if summary["manifest"] else "extract only, no hold decisions")
        console.print(f"run {month}: {decided}; {len(summary['errors'])} crash(es); "
                      f"manifest {summary['manifest'] or '-'} ({time.perf_counter() - started:.1f} s)")
        errors = len(summary["errors"])
    warehouse = args.warehouse or settings.warehouse_path()
    if pipeline.BUILD_STAGE in stages:
        started = time.perf_counter()
        central = args.central or (args.world / "central" if args.world else None)
        with console.status(f"build {month}: dbt staging and POLE, Splink person resolution, dbt marts ..."):
            built = pipeline.build_month(month, lake_root=lake, warehouse_path=warehouse, central_root=central,
                                         use_splink=not args.baseline_linkage)
        marts = ", ".join(f"{name} {rows:,}" for name, rows in (built.get("marts") or {}).items())
        console.print(f"build {month}: warehouse {warehouse} ({built.get('person_resolution', '?')} person resolution; "
                      f"mart rows: {marts or '-'}) ({time.perf_counter() - started:.1f} s)", markup=False)
    out = args.out or settings.output_root()
    if "render" in stages:  # held forces are skipped, with the reason, by the render stage itself
        code = main(["render", "--month", month, "--forces", ",".join(forces), "--warehouse", str(warehouse),
                     "--out", str(out)])
        if code:
            return code
    if "send" in stages:
        code = main(["send", "--month", month, "--forces", ",".join(forces), "--out", str(out), "--lake", str(lake),
                     *(["--dev-secrets"] if args.dev_secrets else [])])
        if code:
            return code
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``forceprofiles`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
