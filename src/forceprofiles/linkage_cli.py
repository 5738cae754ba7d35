"""``forceprofiles link``: resolve any persons table in the person schema into clusters.

Kept out of cli.py so the command line stays a thin index of subcommands; heavy imports
(Splink, DuckDB) happen only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

LINK_EPILOG = """\
The input is any persons table (CSV or Parquet) in the person schema:
  record_id, source, forenames, surname, date_of_birth, address, postcode
  and optionally sex, pnc_id, cro_number.
e.g. a partner agency's list (source = the agency) stacked on police person records.

Output: one row per record with cluster_id, person_key, cluster_size and match_probability.
--links writes every pairwise link above the threshold with its match weight, each field's
comparison level and contribution (mw_<field>) and a readable explanation.

Examples:
  forceprofiles link --input partner_and_police.csv --output clusters.csv --links links.csv
  forceprofiles link --input persons.parquet --output clusters.parquet --previous-keys last_month.parquet
"""


def add_link_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``link`` subcommand on the CLI's subparsers."""
    link = commands.add_parser("link", help="resolve a persons table into person clusters (Splink)",
                               description="Link person records within and across sources with the saved, "
                                           "versioned person model (nothing is retrained).",
                               epilog=LINK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    link.add_argument("--input", type=Path, required=True, help="persons table, .csv or .parquet")
    link.add_argument("--output", type=Path, required=True, help="clusters, .csv or .parquet")
    link.add_argument("--model", type=Path, default=None,
                      help="model artefact (default profiles/linkage/person_model.json)")
    link.add_argument("--threshold", type=float, default=0.95, help="match probability to link at (default 0.95)")
    link.add_argument("--links", type=Path, default=None, help="also write the explained pairwise links here")
    link.add_argument("--previous-keys", type=Path, default=None,
                      help="last run's output (record_id, person_key): keep its person keys")
    link.set_defaults(handler=run_link)


def _read(path: Path):  # type: ignore[no-untyped-def]
    import pandas as pd

    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    raise ValueError(f"{path}: expected a .csv or .parquet file")


def _write(frame, path: Path) -> None:  # type: ignore[no-untyped-def]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
    else:
        raise ValueError(f"{path}: expected a .csv or .parquet file")


def run_link(args: argparse.Namespace) -> int:
    """Handler of ``forceprofiles link``; exit code 2 on a bad input (message on stderr)."""
    from forceprofiles.linkage import PersonSchemaError, load_model, resolve, stable_person_keys

    started = time.perf_counter()
    try:
        persons = _read(args.input)
        model = load_model(args.model)
        previous = _read(args.previous_keys) if args.previous_keys else None
        clusters, links = resolve(persons, model, threshold=args.threshold)
    except (PersonSchemaError, ValueError, FileNotFoundError) as error:
        print(f"forceprofiles link: error: {error}", file=sys.stderr)
        return 2
    keyed = stable_person_keys(clusters, previous)
    _write(keyed, args.output)
    if args.links:
        _write(links, args.links)
    people = keyed["person_key"].nunique()
    cross = int((links["source_l"] != links["source_r"]).sum()) if len(links) else 0
    print(f"link: {len(keyed):,} records -> {people:,} people; {len(links):,} links ({cross:,} across sources) "
          f"at p>={args.threshold} with model {model['version']} -> {args.output} "
          f"in {time.perf_counter() - started:.1f} s")
    return 0
