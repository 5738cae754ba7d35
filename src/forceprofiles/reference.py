"""Real, openly licensed reference data shipped inside the package.

Why this module exists: the synthetic world, the scoring and the products are calibrated
on real published figures (force volumes, offence codes, harm weights, geography,
police.uk street-level crime), but the shared data folder they come from is not
available at runtime. ``scripts/build_reference_data.py`` copies a compacted version
into ``forceprofiles/reference_data/`` (provenance and licences in its ``SOURCES.md``);
this module is the only place that knows the file layout, so callers get plain pandas
DataFrames with stable, snake_case columns.

Every loader is cached (the files are read once per process) and hands out a copy, so a
caller that modifies its frame cannot corrupt what the next caller sees.

Unknown force ids and local-authority codes raise ``ValueError``: a typo should fail
loudly, not come back as an empty frame that looks like "no crime".
"""

from __future__ import annotations

import copy
import gzip
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "NINE_FORCES",
    "reference_data_dir",
    "forces",
    "force_lsoas",
    "offence_codes",
    "prc_offences",
    "force_offence_counts",
    "harm_by_subgroup",
    "police_uk_street",
    "police_uk_outcomes",
    "police_uk_months",
    "msoa21_boundaries",
    "msoa21_boundary_lads",
]

#: The nine forces of the region, as police.uk force ids.
NINE_FORCES: tuple[str, ...] = (
    "norfolk",
    "suffolk",
    "essex",
    "kent",
    "hertfordshire",
    "bedfordshire",
    "cambridgeshire",
    "warwickshire",
    "west-mercia",
)

_LSOA_COLUMNS = ["lsoa11cd", "lsoa11nm", "msoa11nm", "msoa11cd", "lad19cd", "lad19nm", "latitude", "longitude"]
_STREET_COLUMNS = [
    "crime_key", "month", "reported_by", "falls_within", "longitude", "latitude", "location",
    "lsoa_code", "lsoa_name", "crime_type", "last_outcome_category", "context",
]
_OUTCOME_COLUMNS = [
    "crime_key", "month", "reported_by", "falls_within", "longitude", "latitude", "location",
    "lsoa_code", "lsoa_name", "outcome_type",
]
_FLOAT_COLUMNS = {"longitude", "latitude"}


def reference_data_dir() -> Path:
    """Directory of the packaged reference files (parquet, gzipped geojson, SOURCES.md)."""
    return Path(__file__).resolve().parent / "reference_data"


@lru_cache(maxsize=None)
def _read(name: str) -> pd.DataFrame:
    """Read one parquet file once; private, never returned without copying."""
    path = reference_data_dir() / name
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run scripts/build_reference_data.py to regenerate the reference data"
        )
    return pd.read_parquet(path)


def _check_force(force_id: str) -> str:
    known = _read("forces.parquet")["force_id"]
    if force_id not in set(known):
        raise ValueError(f"unknown force id {force_id!r}; expected one of {sorted(known)}")
    return force_id


# --------------------------------------------------------------------------- forces


def forces() -> pd.DataFrame:
    """The 43 territorial police forces of England and Wales, one row each.

    Columns: force_id (police.uk id), force_name (police.uk label), prc_name (name in the
    Home Office PRC tables), pfa19cd, pfa19nm (ONS police force area 2019), in_region
    (one of NINE_FORCES), crimes_per_year, crimes_estimated, population,
    population_estimated.

    For the nine forces crimes_per_year is the 2024/25 figure and population the mid-2019
    figure from DOMAIN.md. The other 34 have no such figures here, so both are estimated
    (flagged True): crimes = the force's 2017/18 PRC total without fraud, scaled by the
    nine forces' 2024/25 / 2017/18 ratio; population = crimes x the nine forces'
    population per crime. These estimates are only good enough to size a synthetic world
    (City of London's is far above its resident population, for instance).
    """
    return _read("forces.parquet").copy()


@lru_cache(maxsize=None)
def _force_lsoas(force_id: str) -> pd.DataFrame:
    lsoas = _read("lsoas.parquet")
    return lsoas.loc[lsoas["force_id"] == force_id, _LSOA_COLUMNS].reset_index(drop=True)


def force_lsoas(force_id: str) -> pd.DataFrame:
    """Every 2011 LSOA in a force area (via LAD 2019 -> police force area 2019).

    Columns: lsoa11cd, lsoa11nm, msoa11nm (LSOA name without its final letter),
    msoa11cd, lad19cd, lad19nm, latitude, longitude (population-weighted centroid,
    6 decimals). msoa11cd is inferred (no source file pairs MSOA names and codes): see
    reference_data/SOURCES.md. Sorted by lsoa11cd.
    """
    return _force_lsoas(_check_force(force_id)).copy()


# --------------------------------------------------------------------------- offences


def offence_codes() -> pd.DataFrame:
    """Home Office offence codes (132) with offence group, PRC subgroup and police.uk category.

    Columns: ho_code (e.g. '8N', '19C', '105A', '1/4.1/4.10/4.2' for homicide),
    description, offence_group, prc_subgroup, policeuk_category.
    """
    return _read("offence_codes.parquet").copy()


def prc_offences() -> pd.DataFrame:
    """The offence dictionary as the PRC 2017/18 table spells it (fraud codes included).

    Columns: ho_code, description, offence_group, prc_subgroup. Kept separately from
    offence_codes() because force_offence_counts() is keyed on these codes; in the
    current data every PRC code is also in offence_codes().
    """
    return _read("prc_offences.parquet").copy()


@lru_cache(maxsize=None)
def _force_offence_counts(force_id: str) -> pd.DataFrame:
    counts = _read("prc_force_offence_counts.parquet")
    out = counts.loc[counts["force_id"] == force_id, ["ho_code", "quarter", "offences"]]
    return out.astype({"quarter": "int64", "offences": "int64"}).reset_index(drop=True)


def force_offence_counts(force_id: str) -> pd.DataFrame:
    """Police recorded crime 2017/18 for one force by offence code and financial quarter.

    Columns: ho_code, quarter (1..4; Q1 = April-June 2017), offences. Fraud (recorded
    nationally by Action Fraud and others, not by forces) is excluded. Counts are real
    and include the source's few negative adjustments (e.g. -1 after a reclassification);
    zero rows are kept so every force has the same codes.
    """
    return _force_offence_counts(_check_force(force_id)).copy()


def harm_by_subgroup() -> pd.DataFrame:
    """Cambridge Crime Harm Index (2026) per PRC subgroup, as published in the source.

    Columns: policeuk_category, prc_subgroup, cchi_days_median, cchi_days_min,
    cchi_days_max, cchi_rows, national_count_2024_25.
    """
    return _read("harm_by_subgroup.parquet").copy()


# --------------------------------------------------------------------------- police.uk


def _police_uk(force_id: str, kind: str, columns: list[str]) -> pd.DataFrame:
    name = f"police_uk_{force_id}_{kind}.parquet"
    if not (reference_data_dir() / name).exists():
        empty = {c: pd.Series(dtype="float64" if c in _FLOAT_COLUMNS else "str") for c in columns}
        empty["crime_key"] = pd.Series(dtype="Int32")
        return pd.DataFrame(empty)[columns]
    df = _read(name)
    return df.astype({"crime_key": "Int32"})[columns]


@lru_cache(maxsize=None)
def _street(force_id: str) -> pd.DataFrame:
    return _police_uk(force_id, "street", _STREET_COLUMNS)


@lru_cache(maxsize=None)
def _outcomes(force_id: str) -> pd.DataFrame:
    return _police_uk(force_id, "outcomes", _OUTCOME_COLUMNS)


def police_uk_street(force_id: str) -> pd.DataFrame:
    """police.uk street-level crime rows (Bedfordshire, Hertfordshire; empty for others).

    Columns: crime_key, month ('YYYY-MM'), reported_by, falls_within, longitude,
    latitude, location, lsoa_code, lsoa_name, crime_type, last_outcome_category, context.
    crime_key replaces the 64-hex Crime ID: a small integer shared with
    police_uk_outcomes() of the same force, null where the source had no Crime ID
    (anti-social behaviour). Rows are in source order and include the source's quirks
    (locations outside the force area, rows without LSOA, repeated Crime IDs).
    """
    return _street(_check_force(force_id)).copy()


def police_uk_outcomes(force_id: str) -> pd.DataFrame:
    """police.uk outcome rows (Bedfordshire, Hertfordshire; empty for others).

    Columns: crime_key, month, reported_by, falls_within, longitude, latitude, location,
    lsoa_code, lsoa_name, outcome_type. Join to police_uk_street() on crime_key.
    """
    return _outcomes(_check_force(force_id)).copy()


def police_uk_months(force_id: str) -> list[str]:
    """Months ('YYYY-MM', sorted) covered by the packaged street file; [] if none."""
    street = _street(_check_force(force_id))
    return sorted(street["month"].dropna().unique().tolist())


# --------------------------------------------------------------------------- boundaries


@lru_cache(maxsize=None)
def _lads() -> tuple[str, ...]:
    folder = reference_data_dir() / "msoa21_boundaries"
    return tuple(sorted(p.name.removesuffix(".geojson.gz") for p in folder.glob("*.geojson.gz")))


def msoa21_boundary_lads() -> list[str]:
    """Local-authority codes (current, e.g. 'E06000055') with packaged MSOA 2021 boundaries."""
    return list(_lads())


@lru_cache(maxsize=None)
def _boundaries(lad_code: str) -> dict[str, Any]:
    path = reference_data_dir() / "msoa21_boundaries" / f"{lad_code}.geojson.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def msoa21_boundaries(lad_code: str) -> dict[str, Any]:
    """GeoJSON FeatureCollection of the MSOA (2021) polygons of one local authority.

    Available for the local authorities of the nine forces (msoa21_boundary_lads()).
    Coordinates are WGS84 (CRS84) rounded to 5 decimals (about 1 m); feature properties
    are as published (MSOA21CD, MSOA21NM, LADCD_ACTIVE, ...). Returns a fresh deep copy.
    """
    if lad_code not in _lads():
        raise ValueError(f"no MSOA 2021 boundaries for {lad_code!r}; see msoa21_boundary_lads()")
    return copy.deepcopy(_boundaries(lad_code))
