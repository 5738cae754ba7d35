"""Generate the dbt project's seeds and lake source definitions from ``forceprofiles``.

Why a script: the seeds (offence codes, harm values, VAWG scope, forces, LSOAs) come from the
packaged reference data (``forceprofiles.reference``) and the lake source definitions from the
data contract (``forceprofiles.contract``). Generating them keeps one source of truth; the
outputs are committed so that ``dbt build`` needs nothing but the project folder.

It also writes ``macros/lake_source_columns.sql``: the declared columns and types of every
external source (the generated feed sources and the hand-written central and pipeline ones),
which the ``lake_source()`` macro needs to give an empty lake typed columns. (dbt's ``graph``
has the sources' columns at run time but not inside unit tests, hence a macro.)

Hand-maintained seeds are *not* written here: ``harm_overrides.csv`` (a policy choice with a
stated rationale per row, edited by the region) is left alone.

Usage (from the repository root)::

    PYTHONPATH=src python dbt_project/scripts/make_seeds.py           # write
    PYTHONPATH=src python dbt_project/scripts/make_seeds.py --check   # fail if out of date

``--forces`` chooses the forces whose LSOAs go into ``seeds/lsoas.csv`` (default: the nine
forces of the region; ``all`` for the 43 forces of England and Wales, about 35,000 rows).
Output is deterministic (same inputs, same bytes).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import pandas as pd
import yaml

from forceprofiles import contract, reference

PROJECT_DIR = Path(__file__).resolve().parents[1]
SEEDS_DIR = PROJECT_DIR / "seeds"
STAGING_DIR = PROJECT_DIR / "models" / "staging"

# Codes in use by forces but missing from the packaged Home Office list (reference_data/SOURCES.md:
# "offence_codes has no 8U"). NC is the project's code for a non-crime domestic incident.
EXTRA_OFFENCE_CODES: tuple[dict[str, str], ...] = (
    {"ho_code": "8U", "description": "Controlling or coercive behaviour in an intimate or family relationship",
     "offence_group": "Violence against the person", "prc_subgroup": "Stalking and harassment",
     "policeuk_category": "Violence and Sexual Offences", "is_crime": "true"},
    {"ho_code": "NC", "description": "Non-crime domestic incident (recorded incident, not a notifiable crime)",
     "offence_group": "Non-crime incidents", "prc_subgroup": "Non-crime domestic incident",
     "policeuk_category": "Non-crime", "is_crime": "false"},
)

# The packaged Home Office list uses the 2017/18 PRC subgroup names; the CCHI 2026 medians use
# the current ones. Same offences, renamed or regrouped.
CCHI_SUBGROUP_FOR_PRC_SUBGROUP: dict[str, str] = {
    "Domestic burglary": "Residential burglary",
    "Non-domestic burglary": "Non-residential burglary",
    "Theft from a vehicle": "Vehicle offences",
    "Theft of a motor vehicle": "Vehicle offences",
    "Vehicle interference": "Vehicle offences",
    "Miscellaneous crimes": "Miscellaneous crimes against society",
}

# The VAWG offence scope (DOMAIN.md, NPCC VAWG framework): sexual offences, stalking and
# harassment, controlling or coercive behaviour. Any occurrence flagged domestic abuse is in scope
# through its flag (dbt var vawg_include_domestic_abuse_flag), whatever its code: that rule is not
# a code list and so is not a row here.
VAWG_STRANDS: dict[str, tuple[str, str]] = {
    "Rape offences": ("sexual_offences", "All rape offences (HOCR 19C-19H)."),
    "Other sexual offences": ("sexual_offences", "Sexual offences other than rape, incl. child sexual exploitation (71) and grooming (88A)."),
}
VAWG_CODES: dict[str, tuple[str, str]] = {
    "8L": ("stalking_harassment", "Harassment: stalking and harassment strand of the VAWG framework."),
    "8M": ("stalking_harassment", "Racially or religiously aggravated harassment: stalking and harassment subgroup."),
    "8Q": ("stalking_harassment", "Stalking."),
    "8R": ("stalking_harassment", "Malicious communications: in the PRC stalking and harassment subgroup (online abuse of women and girls)."),
    "8U": ("coercive_control", "Controlling or coercive behaviour (Serious Crime Act 2015 s.76)."),
}

DUCKDB_TYPES = {"string": "varchar", "timestamp": "timestamp", "date": "date", "bool": "boolean",
                "int": "bigint", "float": "double"}
PROVENANCE = (
    ("_source_file", "varchar", "the landing file the row was read from (written by extract)"),
    ("_source_row", "bigint", "the row number in that file (1-based)"),
    ("_warnings", "varchar", "validation warnings on the row (the row still landed)"),
    ("force", "varchar", "hive partition: the force folder (force=<id>)"),
    ("month", "varchar", "hive partition: the extract month (month=<YYYY-MM>)"),
)
FEED_DESCRIPTIONS = {
    "crime": "Crime and non-crime occurrences and the people involved in them (monthly deltas).",
    "intelligence": "Intelligence reports (3x5x2 or legacy 5x5x5 grading) and their subjects (persons, phones, vehicles, addresses).",
    "custody": "Custody (arrest) records with the arrested person.",
    "missing": "Missing-person episodes, with where and with whom the person was found.",
    "visor": "ViSOR nominals (registered sexual, violent and potentially dangerous offenders).",
}


def offence_codes() -> pd.DataFrame:
    """The Home Office codes the warehouse knows: the packaged list plus 8U and NC."""
    codes = reference.offence_codes()
    codes["is_crime"] = "true"
    codes = pd.concat([codes, pd.DataFrame(EXTRA_OFFENCE_CODES)], ignore_index=True)
    return codes[["ho_code", "description", "offence_group", "prc_subgroup", "policeuk_category", "is_crime"]]


def harm_values(codes: pd.DataFrame) -> pd.DataFrame:
    """CCHI days per code: the median of its PRC subgroup (CCHI 2026), see the seed's YAML."""
    harm = reference.harm_by_subgroup().set_index("prc_subgroup")
    rows = []
    for code in codes.itertuples():
        cchi_subgroup = CCHI_SUBGROUP_FOR_PRC_SUBGROUP.get(code.prc_subgroup, code.prc_subgroup)
        if code.ho_code == "NC":
            rows.append((code.ho_code, None, 0.0, None, None, "non_crime",
                         "A non-crime incident is not an offence: no sentencing starting point, no harm days."))
        elif cchi_subgroup in harm.index:
            row = harm.loc[cchi_subgroup]
            rows.append((code.ho_code, cchi_subgroup, float(row["cchi_days_median"]), float(row["cchi_days_min"]),
                         float(row["cchi_days_max"]), "cchi_2026_subgroup_median",
                         f"Median of the {int(row['cchi_rows'])} CCHI 2026 rows of the PRC subgroup."))
        else:
            rows.append((code.ho_code, None, None, None, None, "no_cchi_value",
                         "No CCHI subgroup (fraud is recorded nationally, not by forces)."))
    return pd.DataFrame(rows, columns=["ho_code", "cchi_subgroup", "cchi_days", "cchi_days_min", "cchi_days_max",
                                       "basis", "note"])


def vawg_scope(codes: pd.DataFrame) -> pd.DataFrame:
    """The VAWG offence scope by code (the DA-flag rule is a dbt var, not a row)."""
    rows = []
    for code in codes.itertuples():
        if code.prc_subgroup in VAWG_STRANDS:
            strand, rationale = VAWG_STRANDS[code.prc_subgroup]
            rows.append((code.ho_code, strand, rationale))
        elif code.ho_code in VAWG_CODES:
            strand, rationale = VAWG_CODES[code.ho_code]
            rows.append((code.ho_code, strand, rationale))
    return pd.DataFrame(rows, columns=["ho_code", "vawg_strand", "rationale"])


def forces() -> pd.DataFrame:
    frame = reference.forces()
    return frame[["force_id", "force_name", "pfa19cd", "pfa19nm", "in_region", "population", "population_estimated",
                  "crimes_per_year", "crimes_estimated"]].sort_values("force_id")


def lsoas(force_ids: list[str]) -> pd.DataFrame:
    frames = [reference.force_lsoas(f).assign(force_id=f) for f in sorted(force_ids)]
    frame = pd.concat(frames, ignore_index=True)
    return frame[["lsoa11cd", "lsoa11nm", "msoa11cd", "msoa11nm", "lad19cd", "lad19nm", "force_id", "latitude",
                  "longitude"]].sort_values("lsoa11cd")


def lake_entities() -> pd.DataFrame:
    rows = [(feed, entity, ",".join(contract.RECORD_KEYS[(feed, entity)]))
            for feed in contract.FEEDS for entity in contract.entities(feed)]
    return pd.DataFrame(rows, columns=["feed", "entity", "record_key"])


def seed_files(force_ids: list[str]) -> dict[Path, str]:
    codes = offence_codes()
    frames = {
        "ho_offence_codes": codes,
        "harm_values": harm_values(codes),
        "vawg_scope": vawg_scope(codes),
        "forces": forces(),
        "lsoas": lsoas(force_ids),
        "lake_entities": lake_entities(),
    }
    return {SEEDS_DIR / f"{name}.csv": _csv(frame) for name, frame in frames.items()}


def _csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def sources_yaml(feed: str) -> str:
    """``models/staging/<feed>/_<feed>__sources.yml``: the feed's lake entities as dbt sources."""
    tables = []
    for entity in contract.entities(feed):
        columns = [{"name": f.name, "data_type": DUCKDB_TYPES[f.dtype], "description": f.description}
                   for f in contract.fields(feed, entity)]
        columns += [{"name": name, "data_type": dtype, "description": text} for name, dtype, text in PROVENANCE]
        key = ", ".join(contract.RECORD_KEYS[(feed, entity)])
        tables.append({
            "name": entity,
            "description": (f"lake/raw/{feed}/force=<id>/month=<YYYY-MM>/{entity}.parquet: the validated {feed} "
                            f"{entity} of every force and month. Record key within a force: {key}."),
            "meta": {"feed": feed, "entity": entity},
            "columns": columns,
        })
    document = {
        "version": 2,
        "sources": [{
            "name": feed,
            "description": FEED_DESCRIPTIONS[feed] + " Read with the lake_source() macro, which tolerates a lake "
                           "with no partitions yet.",
            "meta": {"lake_root": "{{ var('lake_root') }}"},
            "config": {
                "external_location": ("read_parquet('${lake_root}/raw/${feed}/force=*/month=*/${entity}.parquet', "
                                      "hive_partitioning = true, hive_types_autocast = false, union_by_name = true)"),
                "formatter": "template",
            },
            "tables": tables,
        }],
    }
    header = ("# Generated by dbt_project/scripts/make_seeds.py from src/forceprofiles/contract.py.\n"
              "# Do not edit by hand: change the contract and re-run the script.\n")
    return header + yaml.safe_dump(document, sort_keys=False, width=120, allow_unicode=True)


def source_files() -> dict[Path, str]:
    return {STAGING_DIR / feed / f"_{feed}__sources.yml": sources_yaml(feed) for feed in contract.FEEDS}


def source_columns_macro(sources: dict[Path, str]) -> str:
    """``macros/lake_source_columns.sql`` from every sources YAML (generated ones as about to be written)."""
    texts = {path: path.read_text() for path in sorted((PROJECT_DIR / "models").rglob("_*__sources.yml"))}
    texts.update(sources)
    entries = []
    for path in sorted(texts):
        for source in yaml.safe_load(texts[path]).get("sources") or []:
            tables = source.get("tables") or []
            external = "external_location" in (source.get("config") or {}) or any(
                "external_location" in (t.get("config") or {}) for t in tables)
            if not external:
                continue
            for table in tables:
                columns = ", ".join(f"('{c['name']}', '{c['data_type']}')" for c in table.get("columns") or [])
                entries.append(f"        '{source['name']}.{table['name']}': [{columns}],")
    lines = [
        "{#",
        "    Generated by scripts/make_seeds.py from the sources YAML files (models/**/_*__sources.yml).",
        "    Do not edit by hand: change the YAML (or the contract) and re-run the script.",
        "",
        "    The declared (name, type) columns of every external source, for lake_source().",
        "#}",
        "{% macro lake_source_columns(source_name, table_name) -%}",
        "    {%- set columns = {",
        *entries,
        "    } -%}",
        "    {%- set key = source_name ~ '.' ~ table_name -%}",
        "    {%- if key not in columns -%}",
        "        {{ exceptions.raise_compiler_error('lake_source_columns: no external source ' ~ key ~ '; re-run scripts/make_seeds.py') }}",
        "    {%- endif -%}",
        "    {{- return(columns[key]) -}}",
        "{%- endmacro %}",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if any generated file is out of date")
    parser.add_argument("--forces", default="region", help="'region' (the nine forces), 'all', or a comma list")
    args = parser.parse_args(argv)
    if args.forces == "region":
        force_ids = list(reference.NINE_FORCES)
    elif args.forces == "all":
        force_ids = list(reference.forces()["force_id"])
    else:
        force_ids = [f.strip() for f in args.forces.split(",") if f.strip()]
    sources = source_files()
    outputs = {**seed_files(force_ids), **sources,
               PROJECT_DIR / "macros" / "lake_source_columns.sql": source_columns_macro(sources)}
    stale = [path for path, text in outputs.items() if not path.is_file() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(PROJECT_DIR)}", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(outputs[path])
        print(f"wrote {path.relative_to(PROJECT_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
