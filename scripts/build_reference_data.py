#!/usr/bin/env python
"""Build the packaged reference data (src/forceprofiles/reference_data/) from the
read-only shared folder.

Why this script exists: the shared data folder (../shared/data beside the repository)
is not available at runtime, so the few real, openly licensed tables the project needs
are copied into the package here, compacted (columns dropped, hashes replaced by small
integer keys, aggregated, rounded). Running it again on the same input must give the
same bytes, so a rebuild shows up in git only when the input or this script changes:

* rows are written in a fixed order (sorted keys, or source-file order for police.uk),
* parquet files are written by pyarrow with zstd compression and no pandas metadata
  (which would embed the pandas version), and parquet holds no timestamps,
* geojson is gzipped with mtime 0 and no file name in the gzip header.

Usage::

    python scripts/build_reference_data.py [DATA_DIR] [--out OUT_DIR]

DATA_DIR defaults to ../shared/data relative to the repository root.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT_DIR = REPO_ROOT / "src" / "forceprofiles" / "reference_data"

NINE_FORCES = (
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

# DOMAIN.md, "Volumes for the nine forces": crimes in 2024/25 over the 13 police.uk
# categories, and mid-2019 population. Hard-coded because DOMAIN.md is a document, not
# data; check_domain_table() cross-checks these against the file when it is present.
NINE_CRIMES_2024_25 = {
    "norfolk": 59_533,
    "suffolk": 44_496,
    "essex": 144_423,
    "kent": 162_059,
    "hertfordshire": 82_318,
    "bedfordshire": 52_032,
    "cambridgeshire": 67_710,
    "warwickshire": 39_544,
    "west-mercia": 80_845,
}
NINE_POPULATION_2019 = {
    "norfolk": 907_760,
    "suffolk": 761_350,
    "essex": 1_846_655,
    "kent": 1_860_111,
    "hertfordshire": 1_189_519,
    "bedfordshire": 674_992,
    "cambridgeshire": 855_796,
    "warwickshire": 577_933,
    "west-mercia": 1_291_577,
}

# Rows of the PRC table and of forces_policeuk.csv that are not territorial forces.
NON_TERRITORIAL_PRC = {
    "British Transport Police",
    "Action Fraud",
    "CIFAS",
    "UK Finance",
    "Financial Fraud Action UK",
}
NON_TERRITORIAL_IDS = {"btp"}
# The one name no normalisation reconciles ("London, City of" in PRC and ONS files).
NAME_OVERRIDES = {"london city of": "city of london"}

POLICE_UK_FORCES = ("bedfordshire", "hertfordshire")
STREET_COLUMNS = {
    "Crime ID": "crime_id",
    "Month": "month",
    "Reported by": "reported_by",
    "Falls within": "falls_within",
    "Longitude": "longitude",
    "Latitude": "latitude",
    "Location": "location",
    "LSOA code": "lsoa_code",
    "LSOA name": "lsoa_name",
    "Crime type": "crime_type",
    "Last outcome category": "last_outcome_category",
    "Context": "context",
}
OUTCOME_COLUMNS = {
    "Crime ID": "crime_id",
    "Month": "month",
    "Reported by": "reported_by",
    "Falls within": "falls_within",
    "Longitude": "longitude",
    "Latitude": "latitude",
    "Location": "location",
    "LSOA code": "lsoa_code",
    "LSOA name": "lsoa_name",
    "Outcome type": "outcome_type",
}

# Highest 2011-vintage MSOA codes: msoa_centroids.csv mixes 2011 and 2021 codes, and
# codes above these were first issued for 2021 (6,791 English + 410 Welsh remain, which
# is exactly the 7,201 MSOAs of 2011).
MAX_MSOA11_E = 6934
MAX_MSOA11_W = 423

COORD_DECIMALS_CENTROID = 6  # about 0.1 m
COORD_DECIMALS_GEOJSON = 5  # about 1 m


# --------------------------------------------------------------------------- writing


def write_parquet(df: pd.DataFrame, path: Path, schema: pa.Schema) -> None:
    """Write with a fixed schema, zstd, no pandas metadata (version-free bytes)."""
    table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    table = table.replace_schema_metadata(None)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=19,
        use_dictionary=True,
        write_statistics=False,
        data_page_size=1 << 20,
    )


def _norm_name(name: str) -> str:
    s = name.lower().replace("&", " and ")
    s = re.sub(r"[^a-z0-9]+", " ", s)
    s = re.sub(r"\b(police|constabulary|service)\b", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    return NAME_OVERRIDES.get(s, s)


def _str_or_none(s: pd.Series) -> pd.Series:
    """Empty strings from the CSVs become nulls."""
    return s.where(s != "", None).astype(object)


# --------------------------------------------------------------------------- checks


def check_domain_table(data_dir: Path) -> None:
    """Cross-check the hard-coded nine-force figures against DOMAIN.md if it is there."""
    domain = data_dir.parent / "DOMAIN.md"
    if not domain.exists():
        print(f"note: {domain} not found; nine-force figures not cross-checked")
        return
    text = domain.read_text(encoding="utf-8")
    for fid in NINE_FORCES:
        label = fid.replace("-", " ").title()
        m = re.search(rf"^\|\s*{label}\s*\|\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|", text, re.M)
        if not m:
            raise SystemExit(f"DOMAIN.md: no row for {label}")
        crimes, pop = int(m.group(1).replace(",", "")), int(m.group(3).replace(",", ""))
        if crimes != NINE_CRIMES_2024_25[fid] or pop != NINE_POPULATION_2019[fid]:
            raise SystemExit(f"DOMAIN.md figures for {label} differ from this script")


# --------------------------------------------------------------------------- forces


def build_forces(data_dir: Path) -> tuple[pd.DataFrame, dict[str, str], pd.DataFrame]:
    """The 43 territorial forces with their ids in the three naming schemes.

    Returns (forces, prc_name -> force_id, PRC rows for the 43 forces without fraud).
    """
    pol = pd.read_csv(data_dir / "forces_policeuk.csv", dtype=str)
    pol = pol[~pol["id"].isin(NON_TERRITORIAL_IDS)]
    pol = pol.rename(columns={"id": "force_id", "Label": "force_name"})[["force_id", "force_name"]]
    pol["key"] = pol["force_name"].map(_norm_name)

    pfa = pd.read_csv(data_dir / "geography" / "lad19_csp19_pfa19.csv", dtype=str)
    pfa = pfa[["PFA19CD", "PFA19NM"]].drop_duplicates().rename(columns=str.lower)
    pfa["key"] = pfa["pfa19nm"].map(_norm_name)

    prc = read_prc(data_dir)
    prc_names = pd.DataFrame({"prc_name": sorted(set(prc["force_name"]) - NON_TERRITORIAL_PRC)})
    prc_names["key"] = prc_names["prc_name"].map(_norm_name)

    for name, frame in (("police.uk", pol), ("PFA19", pfa), ("PRC", prc_names)):
        if len(frame) != 43 or frame["key"].duplicated().any():
            raise SystemExit(f"{name}: expected 43 distinct forces, got {len(frame)}")
    forces = pol.merge(prc_names, on="key", how="inner").merge(pfa, on="key", how="inner")
    if len(forces) != 43:
        missing = set(pol["key"]) - set(forces["key"])
        raise SystemExit(f"force names not reconciled: {sorted(missing)}")

    prc = prc[~prc["force_name"].isin(NON_TERRITORIAL_PRC)]
    prc = prc[prc["offence_group"] != "Fraud offences"]
    prc_to_id = dict(zip(forces["prc_name"], forces["force_id"]))
    prc = prc.assign(force_id=prc["force_name"].map(prc_to_id))

    totals = prc.groupby("force_id")["offences"].sum()
    forces["in_region"] = forces["force_id"].isin(NINE_FORCES)
    nine = list(NINE_FORCES)
    ratio = sum(NINE_CRIMES_2024_25.values()) / totals.loc[nine].sum()
    pop_per_crime = sum(NINE_POPULATION_2019.values()) / sum(NINE_CRIMES_2024_25.values())

    def crimes(fid: str) -> int:
        if fid in NINE_CRIMES_2024_25:
            return NINE_CRIMES_2024_25[fid]
        return int(round(float(totals.loc[fid]) * ratio))

    forces["crimes_per_year"] = forces["force_id"].map(crimes).astype("int64")
    forces["crimes_estimated"] = ~forces["in_region"]
    forces["population"] = [
        NINE_POPULATION_2019[f] if f in NINE_POPULATION_2019 else int(round(c * pop_per_crime))
        for f, c in zip(forces["force_id"], forces["crimes_per_year"])
    ]
    forces["population"] = forces["population"].astype("int64")
    forces["population_estimated"] = ~forces["in_region"]
    forces = forces.sort_values("force_id").reset_index(drop=True)
    cols = [
        "force_id", "force_name", "prc_name", "pfa19cd", "pfa19nm", "in_region",
        "crimes_per_year", "crimes_estimated", "population", "population_estimated",
    ]
    print(f"forces: 43; PRC->2024/25 scale {ratio:.4f}; population per crime {pop_per_crime:.3f}")
    return forces[cols], prc_to_id, prc


def read_prc(data_dir: Path) -> pd.DataFrame:
    prc = pd.read_csv(data_dir / "offences" / "prc_force_offence_counts_2017_18.csv", dtype=str)
    prc = prc.rename(
        columns={
            "Financial Year": "year",
            "Financial Quarter": "quarter",
            "Force Name": "force_name",
            "Offence Description": "description",
            "Offence Group": "offence_group",
            "Offence Subgroup": "prc_subgroup",
            "Offence Code": "ho_code",
            "Number of Offences": "offences",
        }
    )
    prc["offences"] = prc["offences"].str.strip().astype("int64")  # ' 66776 ', '-00'
    prc["quarter"] = prc["quarter"].astype("int64")
    if set(prc["year"]) != {"2017/18"} or set(prc["quarter"]) != {1, 2, 3, 4}:
        raise SystemExit("PRC: unexpected year or quarter values")
    return prc


# --------------------------------------------------------------------------- offences


def build_offences(data_dir: Path, prc: pd.DataFrame, out: Path) -> None:
    codes = pd.read_csv(data_dir / "offences" / "ho_offence_codes_policeuk_categories.csv", dtype=str)
    codes = codes.rename(
        columns={
            "Offence_Code": "ho_code",
            "Offence_Description": "description",
            "Offence_Group": "offence_group",
            "Offence_Subgroup": "prc_subgroup",
            "Police.uk_Cat": "policeuk_category",
        }
    )
    codes = codes[["ho_code", "description", "offence_group", "prc_subgroup", "policeuk_category"]]
    s = pa.schema([(c, pa.string()) for c in codes.columns])
    write_parquet(codes, out / "offence_codes.parquet", s)  # source order kept (by group)

    full = read_prc(data_dir)
    dictionary = (
        full[["ho_code", "description", "offence_group", "prc_subgroup"]]
        .drop_duplicates()
        .sort_values("ho_code")
        .reset_index(drop=True)
    )
    if dictionary["ho_code"].duplicated().any():
        raise SystemExit("PRC: an offence code has two descriptions")
    write_parquet(dictionary, out / "prc_offences.parquet", pa.schema([(c, pa.string()) for c in dictionary.columns]))
    absent = sorted(set(dictionary["ho_code"]) - set(codes["ho_code"]))
    unused = sorted(set(codes["ho_code"]) - set(dictionary["ho_code"]))
    print(f"PRC codes absent from offence_codes: {absent or 'none'}; codes never in PRC: {unused or 'none'}")

    # The homicide line (code 1/4.1/4.10/4.2) comes as four rows per force and quarter
    # in the source (one per component code); summing gives one row per key.
    counts = (
        prc.groupby(["force_id", "quarter", "ho_code"], as_index=False)["offences"]
        .sum()
        .sort_values(["force_id", "quarter", "ho_code"])
        .reset_index(drop=True)
    )
    schema = pa.schema(
        [("force_id", pa.string()), ("quarter", pa.int8()), ("ho_code", pa.string()), ("offences", pa.int32())]
    )
    write_parquet(counts[["force_id", "quarter", "ho_code", "offences"]], out / "prc_force_offence_counts.parquet", schema)
    print(f"PRC counts: {len(counts)} rows, {int((counts['offences'] < 0).sum())} negative adjustments kept")


def build_harm(data_dir: Path, out: Path) -> None:
    harm = pd.read_csv(data_dir / "harm" / "cchi_2026_prc_subgroup_medians.csv")
    harm.columns = [re.sub(r"[^0-9a-z]+", "_", c.strip().lower()).strip("_") for c in harm.columns]
    fields = []
    for c in harm.columns:
        if pd.api.types.is_integer_dtype(harm[c]):
            fields.append((c, pa.int64()))
        elif pd.api.types.is_float_dtype(harm[c]):
            fields.append((c, pa.float64()))
        else:
            fields.append((c, pa.string()))
    write_parquet(harm, out / "harm_by_subgroup.parquet", pa.schema(fields))  # source order


# --------------------------------------------------------------------------- geography


def derive_msoa11cd(groups: pd.DataFrame, msoa_centroids: pd.DataFrame) -> pd.Series:
    """Match each 2011 MSOA name to its 2011 MSOA code.

    No file here pairs MSOA names with codes, so the match is inferred from two facts:
    (1) ONS numbered MSOAs within a local authority in code order (code = number + a
    constant per run of codes), and (2) an MSOA's population-weighted centroid lies near
    the mean of its LSOAs' centroids. Nearest centroids give each authority's offsets;
    candidates that follow an offset are preferred, and a one-to-one assignment
    (Hungarian algorithm) settles the rest. About 130 centroids in msoa_centroids.csv are
    misplaced by 50-400 km (e.g. E02004999, Ashford, sits near Chester), which is why
    plain nearest-centroid matching is not enough.
    """
    from scipy.optimize import linear_sum_assignment

    lat0 = np.deg2rad(52.5)

    def xy(lat, lon):
        return np.c_[np.asarray(lon, float) * np.cos(lat0) * 111.32, np.asarray(lat, float) * 111.32]

    result = pd.Series(index=groups.index, dtype=object)
    for country in ("E", "W"):
        g = groups[groups["country"] == country]
        m = msoa_centroids[msoa_centroids["code"].str[0] == country].reset_index(drop=True)
        a, b = xy(g["lat"], g["lon"]), xy(m["latitude"], m["longitude"])
        dist = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
        nearest = dist.argmin(1)
        code_num = m["code"].str[3:].astype(int).to_numpy()
        la, num = g["la"].to_numpy(), g["num"].to_numpy()
        near = pd.DataFrame({"la": la, "off": code_num[nearest] - num, "d": dist[np.arange(len(g)), nearest]})
        offsets = near[near["d"] < 1.5].groupby("la")["off"].value_counts()
        offsets = offsets[offsets >= 2]
        pos = {v: i for i, v in enumerate(code_num)}
        rule = np.zeros_like(dist, dtype=bool)
        rows_by_la = pd.Series(np.arange(len(g))).groupby(la).apply(list).to_dict()
        for (name, off), _ in offsets.items():
            for r in rows_by_la[name]:
                j = pos.get(num[r] + off)
                if j is not None:
                    rule[r, j] = True
        cost = np.where(rule, np.minimum(dist, 8.0), dist + 3.0)
        cost = np.where(~rule & (dist > 15.0), 1e3, cost)
        r, c = linear_sum_assignment(cost)
        result.loc[g.index[r]] = m["code"].to_numpy()[c]
        print(
            f"MSOA11 codes ({country}): {len(g)} names, {int(rule[r, c].sum())} follow the code order, "
            f"{int((m['code'].to_numpy()[c] != m['code'].to_numpy()[nearest[r]]).sum())} differ from nearest centroid"
        )
    return result


def build_lsoas(data_dir: Path, forces: pd.DataFrame, out: Path) -> pd.DataFrame:
    geo = data_dir / "geography"
    lsoa = pd.read_csv(geo / "lsoa11_ward19_lad19.csv", dtype=str)
    lsoa = lsoa[["LSOA11CD", "LSOA11NM", "LAD19CD", "LAD19NM"]].rename(columns=str.lower)
    lad_pfa = pd.read_csv(geo / "lad19_csp19_pfa19.csv", dtype=str)[["LAD19CD", "PFA19CD"]].drop_duplicates()
    lad_pfa = lad_pfa.rename(columns=str.lower)
    if lad_pfa["lad19cd"].duplicated().any():
        raise SystemExit("a LAD19 lies in two police force areas")
    lsoa = lsoa.merge(lad_pfa, on="lad19cd", how="left", validate="many_to_one")
    lsoa = lsoa.merge(forces[["pfa19cd", "force_id"]], on="pfa19cd", how="left", validate="many_to_one")
    if lsoa["force_id"].isna().any():
        raise SystemExit("LSOAs without a force")

    cent = pd.read_csv(geo / "lsoa_centroids.csv", dtype={"LSOACD": str, "lsoa11cd": str})
    cent = cent[["lsoa11cd", "latitude", "longitude"]].drop_duplicates("lsoa11cd")
    lsoa = lsoa.merge(cent, on="lsoa11cd", how="left", validate="one_to_one")
    if lsoa["latitude"].isna().any():
        raise SystemExit("LSOAs without a centroid")

    if not lsoa["lsoa11nm"].str.match(r"^.+ \d{3}[A-Z]$").all():
        raise SystemExit("an LSOA name does not end in 'NNNL'")
    lsoa["msoa11nm"] = lsoa["lsoa11nm"].str[:-1]

    groups = lsoa.groupby("msoa11nm").agg(
        lat=("latitude", "mean"), lon=("longitude", "mean"), first=("lsoa11cd", "first")
    )
    groups["country"] = groups["first"].str[0]
    groups["la"] = groups.index.str.rsplit(" ", n=1).str[0]
    groups["num"] = groups.index.str.rsplit(" ", n=1).str[1].astype(int)
    mc = pd.read_csv(geo / "msoa_centroids.csv", dtype={"MSOACD": str, "msoa11cd": str})
    prefix, number = mc["MSOACD"].str[:3], pd.to_numeric(mc["MSOACD"].str[3:], errors="coerce")
    keep = ((prefix == "E02") & (number <= MAX_MSOA11_E)) | ((prefix == "W02") & (number <= MAX_MSOA11_W))
    mc = mc[keep].rename(columns={"MSOACD": "code"})[["code", "latitude", "longitude"]]
    if len(mc) != len(groups):
        raise SystemExit(f"{len(groups)} MSOA names but {len(mc)} 2011 MSOA codes")
    groups["msoa11cd"] = derive_msoa11cd(groups, mc)
    validate_msoa_codes(groups, geo / "msoa21_boundaries")
    lsoa["msoa11cd"] = lsoa["msoa11nm"].map(groups["msoa11cd"])

    lsoa["latitude"] = lsoa["latitude"].round(COORD_DECIMALS_CENTROID)
    lsoa["longitude"] = lsoa["longitude"].round(COORD_DECIMALS_CENTROID)
    cols = ["force_id", "lsoa11cd", "lsoa11nm", "msoa11cd", "msoa11nm", "lad19cd", "lad19nm", "latitude", "longitude"]
    lsoa = lsoa[cols].sort_values(["force_id", "lsoa11cd"]).reset_index(drop=True)
    schema = pa.schema([(c, pa.float64() if c in ("latitude", "longitude") else pa.string()) for c in cols])
    write_parquet(lsoa, out / "lsoas.parquet", schema)
    per_force = lsoa.groupby("force_id").size()
    print(f"LSOAs: {len(lsoa)}; per force min {per_force.min()} ({per_force.idxmin()}), max {per_force.max()}")
    return lsoa


def validate_msoa_codes(groups: pd.DataFrame, boundary_dir: Path) -> None:
    """MSOA21 names/codes in the boundary files are ground truth where unchanged since 2011."""
    truth = {}
    for path in sorted(boundary_dir.glob("*.geojson")):
        for feat in json.loads(path.read_text(encoding="utf-8"))["features"]:
            p = feat["properties"]
            if int(p["MSOA21CD"][3:]) <= MAX_MSOA11_E:
                truth[p["MSOA21NM"]] = p["MSOA21CD"]
    common = [n for n in truth if n in groups.index]
    wrong = [n for n in common if groups.at[n, "msoa11cd"] != truth[n]]
    print(f"MSOA11 codes checked against MSOA21 boundary files: {len(common) - len(wrong)}/{len(common)} agree")
    if wrong:
        raise SystemExit(f"derived MSOA codes disagree with boundary files: {wrong[:10]}")


def _round_coords(obj, nd: int):
    if isinstance(obj, float):
        return round(obj, nd)
    if isinstance(obj, list):
        return [_round_coords(x, nd) for x in obj]
    return obj


def build_boundaries(data_dir: Path, out: Path) -> None:
    src = data_dir / "geography" / "msoa21_boundaries"
    dst = out / "msoa21_boundaries"
    dst.mkdir(parents=True, exist_ok=True)
    for old in dst.glob("*.geojson.gz"):
        old.unlink()
    n = 0
    for path in sorted(src.glob("*.geojson")):
        fc = json.loads(path.read_text(encoding="utf-8"))
        for feat in fc["features"]:
            geom = feat.get("geometry")
            if geom and "coordinates" in geom:
                geom["coordinates"] = _round_coords(geom["coordinates"], COORD_DECIMALS_GEOJSON)
        fc["features"].sort(key=lambda f: f["properties"].get("MSOA21CD") or "")
        data = json.dumps(fc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with open(dst / f"{path.stem}.geojson.gz", "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
                gz.write(data)
        n += 1
    print(f"MSOA21 boundaries: {n} local authorities")


# --------------------------------------------------------------------------- police.uk


def _read_police_files(files: list[Path], columns: dict[str, str]) -> pd.DataFrame:
    frames = []
    for f in files:
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if list(df.columns) != list(columns):
            raise SystemExit(f"{f}: unexpected columns {list(df.columns)}")
        frames.append(df.rename(columns=columns))
    return pd.concat(frames, ignore_index=True)


def build_police_uk(data_dir: Path, out: Path) -> dict[str, dict[str, int]]:
    """Street and outcome rows per force, with the 64-hex Crime ID replaced by crime_key.

    crime_key is a small integer shared by the street and outcomes files of one force:
    keys are numbered in order of first appearance (street files month by month, then
    outcome files), so they are stable across rebuilds of the same input. Rows without a
    Crime ID (anti-social behaviour) get a null key. Row order is the source order
    (month, then line in the file).
    """
    root = data_dir / "police_uk"
    counts: dict[str, dict[str, int]] = {}
    str_schema = lambda cols: pa.schema(  # noqa: E731
        [("crime_key", pa.int32())]
        + [(c, pa.float64() if c in ("longitude", "latitude") else pa.string()) for c in cols if c != "crime_id"]
    )
    for force in POLICE_UK_FORCES:
        street_files = sorted(root.glob(f"*/*-{force}-street.csv"))
        outcome_files = sorted(root.glob(f"*/*-{force}-outcomes.csv"))
        street = _read_police_files(street_files, STREET_COLUMNS)
        outcomes = _read_police_files(outcome_files, OUTCOME_COLUMNS)
        ids = pd.concat([street["crime_id"], outcomes["crime_id"]], ignore_index=True)
        ids = ids[ids != ""].drop_duplicates()
        key_of = pd.Series(np.arange(1, len(ids) + 1, dtype="int64"), index=ids.to_numpy())
        if len(ids) >= 2**31:
            raise SystemExit("too many crimes for int32")
        for name, df, cols in (("street", street, STREET_COLUMNS), ("outcomes", outcomes, OUTCOME_COLUMNS)):
            df = df.copy()
            df["crime_key"] = df["crime_id"].map(key_of).astype("Int32")
            for c in cols.values():
                if c == "crime_id":
                    continue
                if c in ("longitude", "latitude"):
                    df[c] = pd.to_numeric(df[c].replace("", np.nan))
                else:
                    df[c] = _str_or_none(df[c])
            out_cols = ["crime_key"] + [c for c in cols.values() if c != "crime_id"]
            write_parquet(df[out_cols], out / f"police_uk_{force}_{name}.parquet", str_schema(list(cols.values())))
            counts.setdefault(force, {})[name] = len(df)
        months = sorted(street["month"].unique())
        counts[force]["months"] = len(months)
        print(
            f"police.uk {force}: {len(street)} street rows, {len(outcomes)} outcome rows, "
            f"{len(ids)} distinct crimes, months {months[0]}..{months[-1]} ({len(months)})"
        )
    return counts


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR)
    args = ap.parse_args(argv)
    data_dir: Path = args.data_dir.resolve()
    out: Path = args.out.resolve()
    if not (data_dir / "SOURCES.md").exists():
        raise SystemExit(f"{data_dir} does not look like the shared data folder (no SOURCES.md)")
    out.mkdir(parents=True, exist_ok=True)

    check_domain_table(data_dir)
    forces, _, prc = build_forces(data_dir)
    schema = pa.schema(
        [
            ("force_id", pa.string()), ("force_name", pa.string()), ("prc_name", pa.string()),
            ("pfa19cd", pa.string()), ("pfa19nm", pa.string()), ("in_region", pa.bool_()),
            ("crimes_per_year", pa.int64()), ("crimes_estimated", pa.bool_()),
            ("population", pa.int64()), ("population_estimated", pa.bool_()),
        ]
    )
    write_parquet(forces, out / "forces.parquet", schema)
    build_offences(data_dir, prc, out)
    build_harm(data_dir, out)
    build_lsoas(data_dir, forces, out)
    build_boundaries(data_dir, out)
    build_police_uk(data_dir, out)

    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({total / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
