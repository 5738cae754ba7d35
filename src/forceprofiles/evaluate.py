"""``forceprofiles evaluate``: measure the warehouse against a synthetic world's ground truth.

The synthetic world plants what the products exist to find (the true person behind every record,
serial perpetrators, exploitation networks, unregistered groups) and writes it to ``truth/``,
which the pipeline never reads. This module is the only reader besides the tests. It answers the
questions issue #4 sets for the default world:

- person resolution: pairwise precision, recall and F1, within and across forces;
- VAWG: the share of planted serial perpetrators in their force's tactical top N
  (:mod:`forceprofiles.evaluate_vawg`);
- missing persons and networks: recall of planted persons and locations of concern, the share of
  planted unregistered groups surfaced as OCG candidates and the share of candidates that are
  real (:mod:`forceprofiles.evaluate_missing`).

Every figure comes with the definition of its denominator, because a share is only as honest as
what it is a share of.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from forceprofiles.linkage_synth import pairwise_scores

# Targets issue #4 sets on the default world: (section, figure, minimum).
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("person_resolution", "all_f1", 0.97),
    ("vawg", "serial_in_top_n_share", 0.90),
    ("networks", "unregistered_groups_surfaced_share", 0.80),
    ("networks", "candidates_real_share", 0.50),
)


class EvaluationError(RuntimeError):
    """The warehouse or the truth folder cannot be evaluated (missing month, missing files)."""


def record_truth(conn: duckdb.DuckDBPyConnection, truth_dir: Path) -> pd.DataFrame:
    """(record_id, force_id, person_key, person_id) for every resolved person record with a known
    true person.

    Force records are matched to the truth by (force, person_ref) through ``truth/nominals``;
    the people found with a missing child (who carry no person_ref) through ``truth/records``;
    national nominals by their reference, which encodes the true person id. OCG register members
    have no truth key and are left out.
    """
    truth_dir = Path(truth_dir)
    nominals = _read_parquets(truth_dir / "nominals", ["force_id", "person_ref", "person_id"])
    nominals = nominals.drop_duplicates(["force_id", "person_ref"])
    found_with = _read_parquets(truth_dir / "records", ["force_id", "feed", "record_ref", "role", "person_id"])
    found_with = (found_with[(found_with["feed"] == "missing") & (found_with["role"] == "found_with")]
                  [["force_id", "record_ref", "person_id"]].drop_duplicates(["force_id", "record_ref"]))
    conn.register("truth_nominals", nominals)
    conn.register("truth_found_with", found_with)
    try:
        frame = conn.execute("""
            select
                records.record_id,
                records.force_id,
                clusters.person_key,
                coalesce(
                    truth_nominals.person_id,
                    truth_found_with.person_id,
                    case when records.source_entity = 'national_nominals'
                         then try_cast(substr(records.source_ref, 4) as bigint) end
                ) as person_id
            from main.int_person_records as records
            inner join main.person_clusters as clusters using (record_id)
            left join truth_nominals
                on records.person_ref = truth_nominals.person_ref
               and records.force_id = truth_nominals.force_id
            left join truth_found_with
                on records.role = 'found_with'
               and records.source_ref = truth_found_with.record_ref
               and records.force_id = truth_found_with.force_id
        """).df()
    finally:
        conn.unregister("truth_nominals")
        conn.unregister("truth_found_with")
    return frame[frame["person_id"].notna()].astype({"person_id": "int64"}).reset_index(drop=True)


def person_truth(records: pd.DataFrame) -> pd.DataFrame:
    """(person_key, person_id, records, purity): the true person behind each resolved key.

    A key's true person is the one most of its records belong to (ties: the lowest id, so the
    answer is deterministic); ``purity`` is the share of its records that are that person. The
    product evaluations use this to ask "is the planted person in the list?".
    """
    counts = records.groupby(["person_key", "person_id"]).size().rename("n").reset_index()
    totals = counts.groupby("person_key")["n"].sum().rename("records")
    best = (counts.sort_values(["person_key", "n", "person_id"], ascending=[True, False, True])
            .drop_duplicates("person_key").set_index("person_key"))
    out = best.join(totals)
    out["purity"] = out["n"] / out["records"]
    return out.reset_index()[["person_key", "person_id", "records", "purity"]]


def evaluate_person_resolution(records: pd.DataFrame) -> dict[str, Any]:
    """Pairwise precision, recall and F1 of the warehouse's person keys, within and across forces.

    A pair is two records of the same true person. "Within" pairs are two records of one source
    (a force, or the central platform); "cross" pairs span sources: the links the products lean
    on when they say a subject offends in another force.
    """
    frame = records.assign(source=records["force_id"].fillna("central"))
    scores = pairwise_scores(frame[["record_id", "source", "person_key"]],
                             frame[["record_id", "person_id"]], key="person_key")
    scores["records"] = int(len(frame))
    scores["true_persons"] = int(frame["person_id"].nunique())
    scores["resolved_persons"] = int(frame["person_key"].nunique())
    scores["definition"] = ("pairwise over every force and national-nominal person record whose true person is "
                            "known (OCG register members excluded); the warehouse's person_clusters as last built")
    return scores


def evaluate_month(warehouse: Path, month: str, truth_dir: Path) -> dict[str, Any]:
    """Every figure of the evaluation for ``month``, with the targets and whether each is met."""
    from forceprofiles.evaluate_missing import evaluate_missing, evaluate_networks
    from forceprofiles.evaluate_vawg import evaluate_vawg

    warehouse, truth_dir = Path(warehouse), Path(truth_dir)
    if not warehouse.is_file():
        raise EvaluationError(f"{warehouse}: no warehouse file (run `forceprofiles run` first)")
    if not (truth_dir / "serial_perpetrators.parquet").is_file():
        raise EvaluationError(f"{truth_dir}: not a synthetic world's truth folder (no serial_perpetrators.parquet)")
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        months = {row[0] for row in conn.execute("select distinct report_month from main.dim_persons").fetchall()}
        if month not in months:
            raise EvaluationError(f"{warehouse}: no build for {month} (built: {', '.join(sorted(months)) or 'none'})")
        records = record_truth(conn, truth_dir)
        keys = person_truth(records)
        result: dict[str, Any] = {
            "month": month,
            "warehouse": str(warehouse),
            "person_resolution": evaluate_person_resolution(records),
            "vawg": evaluate_vawg(conn, month, truth_dir, keys),
            "missing_persons": evaluate_missing(conn, month, truth_dir, keys),
            "networks": evaluate_networks(conn, month, truth_dir, keys),
        }
    finally:
        conn.close()
    result["targets"] = [
        {"section": section, "figure": figure, "target": minimum,
         "value": result[section].get(figure), "met": (result[section].get(figure) or 0.0) >= minimum}
        for section, figure, minimum in TARGETS
    ]
    return result


def format_report(result: dict[str, Any]) -> str:
    """A plain-text report of :func:`evaluate_month`'s result, one figure per line."""
    lines = [f"Evaluation of {result['warehouse']} as at {result['month']}", ""]
    for section in ("person_resolution", "vawg", "missing_persons", "networks"):
        figures = result[section]
        lines.append(section.replace("_", " ").capitalize())
        for name, value in figures.items():
            if name in ("definition", "definitions") or isinstance(value, (dict, list)):
                continue
            lines.append(f"  {name:<44} {_fmt(value)}")
        definition = figures.get("definition") or figures.get("definitions")
        if definition:
            text = definition if isinstance(definition, str) else "; ".join(f"{k}: {v}" for k, v in definition.items())
            lines.append(f"  (definition: {text})")
        lines.append("")
    lines.append("Targets")
    for target in result["targets"]:
        mark = "met" if target["met"] else "NOT MET"
        lines.append(f"  {target['section']}.{target['figure']:<40} {_fmt(target['value'])} >= {target['target']}  {mark}")
    return "\n".join(lines)


def add_evaluate_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``evaluate`` subcommand on the CLI's subparsers."""
    parser = commands.add_parser(
        "evaluate", help="measure the warehouse against a synthetic world's ground truth",
        description="Compare the warehouse's marts for a month with the truth/ folder of the synthetic world "
                    "they were built from: person resolution, serial perpetrators in the top lists, persons and "
                    "locations of concern, OCG candidates. Exit 1 when a target is not met.")
    parser.add_argument("--month", required=True, help="report month, YYYY-MM")
    parser.add_argument("--truth", type=Path, required=True, help="the world's truth/ folder")
    parser.add_argument("--warehouse", type=Path, default=None,
                        help="warehouse file (default $FORCEPROFILES_WAREHOUSE or var/warehouse/force_profiles.duckdb)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(handler=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    """The ``evaluate`` subcommand: print the figures; exit 1 if a target is missed, 2 on error."""
    from forceprofiles import settings

    warehouse = args.warehouse or settings.warehouse_path()
    try:
        result = evaluate_month(warehouse, args.month, args.truth)
    except EvaluationError as error:
        print(f"evaluate: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str) if args.json else format_report(result))
    return 0 if all(target["met"] for target in result["targets"]) else 1


def _read_parquets(folder: Path, columns: list[str]) -> pd.DataFrame:
    files = sorted(folder.rglob("*.parquet"))
    if not files:
        raise EvaluationError(f"{folder}: no truth files")
    return pd.concat([pd.read_parquet(file, columns=columns) for file in files], ignore_index=True)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
