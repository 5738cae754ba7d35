"""Tests of the packaged reference data (forceprofiles.reference).

The expected counts below were measured on the shared data folder when the package data
was built (scripts/build_reference_data.py); they are constants because the project must
work without that folder.
"""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from forceprofiles import reference as ref

# DOMAIN.md, "Volumes for the nine forces": crimes 2024/25 and population mid-2019.
DOMAIN_CRIMES = {
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
DOMAIN_POPULATION = {
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

# Data rows (header excluded) of the source police.uk CSVs, summed over all months.
POLICE_UK_ROWS = {
    ("bedfordshire", "street"): 182_113,
    ("bedfordshire", "outcomes"): 150_417,
    ("hertfordshire", "street"): 108_465,
    ("hertfordshire", "outcomes"): 85_099,
}
# Street rows with an empty Crime ID (anti-social behaviour) in the source.
POLICE_UK_STREET_WITHOUT_ID = {"bedfordshire": 34_017, "hertfordshire": 27_858}
# Distinct Crime IDs over a force's street and outcomes files together.
POLICE_UK_DISTINCT_CRIMES = {"bedfordshire": 153_078, "hertfordshire": 92_224}
POLICE_UK_MONTHS = {
    "bedfordshire": ("2021-05", "2024-04", 36),
    "hertfordshire": ("2021-01", "2022-01", 13),
}

WELSH_FORCES = {"dyfed-powys", "gwent", "north-wales", "south-wales"}
TOTAL_LSOAS_2011 = 34_753  # England 32,844 + Wales 1,909
# England and Wales, generously (Isles of Scilly to Berwick, Pembrokeshire to Lowestoft).
LAT_RANGE = (49.8, 55.9)
LON_RANGE = (-6.5, 1.8)


# --------------------------------------------------------------------------- forces


def test_forty_three_territorial_forces():
    f = ref.forces()
    assert len(f) == 43
    assert f["force_id"].is_unique
    assert list(f.columns) == [
        "force_id", "force_name", "prc_name", "pfa19cd", "pfa19nm", "in_region",
        "crimes_per_year", "crimes_estimated", "population", "population_estimated",
    ]
    ids = set(f["force_id"])
    assert {"metropolitan", "city-of-london", "west-mercia", "dyfed-powys"} <= ids
    assert "btp" not in ids
    assert not f["prc_name"].isin(
        ["British Transport Police", "Action Fraud", "CIFAS", "UK Finance", "Financial Fraud Action UK"]
    ).any()
    assert f[["prc_name", "pfa19cd", "pfa19nm", "force_name"]].notna().all().all()
    assert f["pfa19cd"].str.match(r"^(E23|W15)\d{6}$").all()
    assert f.loc[f["force_id"] == "city-of-london", "prc_name"].item() == "London, City of"


def test_nine_forces_have_domain_figures():
    f = ref.forces().set_index("force_id")
    assert set(ref.NINE_FORCES) == set(f.index[f["in_region"]])
    assert len(ref.NINE_FORCES) == 9
    nine = f.loc[list(ref.NINE_FORCES)]
    assert nine["crimes_per_year"].to_dict() == DOMAIN_CRIMES
    assert nine["population"].to_dict() == DOMAIN_POPULATION
    assert not nine["crimes_estimated"].any() and not nine["population_estimated"].any()
    assert nine["crimes_per_year"].sum() == 732_960


def test_other_forces_are_estimated_and_plausible():
    f = ref.forces()
    others = f[~f["in_region"]]
    assert len(others) == 34
    assert others["crimes_estimated"].all() and others["population_estimated"].all()
    assert (others["crimes_per_year"] > 0).all() and (others["population"] > 0).all()
    assert pd.api.types.is_integer_dtype(f["crimes_per_year"])
    assert pd.api.types.is_integer_dtype(f["population"])
    met = f.set_index("force_id").loc["metropolitan", "crimes_per_year"]
    assert met == f["crimes_per_year"].max()
    # E&W is about 5.2 million crimes a year excluding fraud (DOMAIN.md)
    assert 4.0e6 < f["crimes_per_year"].sum() < 6.5e6


# --------------------------------------------------------------------------- geography


def test_every_force_has_lsoas_with_centroids_in_england_and_wales():
    seen = []
    for force_id in ref.forces()["force_id"]:
        lsoas = ref.force_lsoas(force_id)
        assert list(lsoas.columns) == [
            "lsoa11cd", "lsoa11nm", "msoa11nm", "msoa11cd", "lad19cd", "lad19nm", "latitude", "longitude",
        ]
        # City of London is a square mile: 6 LSOAs. Every other force has hundreds.
        assert len(lsoas) >= (6 if force_id == "city-of-london" else 100), force_id
        assert lsoas.notna().all().all(), force_id
        assert lsoas["latitude"].between(*LAT_RANGE).all(), force_id
        assert lsoas["longitude"].between(*LON_RANGE).all(), force_id
        prefix = "W01" if force_id in WELSH_FORCES else "E01"
        assert lsoas["lsoa11cd"].str.startswith(prefix).all(), force_id
        assert (lsoas["msoa11nm"] == lsoas["lsoa11nm"].str[:-1]).all()
        assert lsoas["msoa11cd"].str.match(r"^[EW]02\d{6}$").all()
        seen.append(lsoas)
    everything = pd.concat(seen)
    assert len(everything) == TOTAL_LSOAS_2011
    assert everything["lsoa11cd"].is_unique
    # one code per MSOA name and one name per code (7,201 MSOAs in 2011)
    pairs = everything[["msoa11nm", "msoa11cd"]].drop_duplicates()
    assert len(pairs) == 7_201
    assert pairs["msoa11nm"].is_unique and pairs["msoa11cd"].is_unique


def test_bedfordshire_lsoas_and_msoa_codes():
    lsoas = ref.force_lsoas("bedfordshire")
    assert set(lsoas["lad19nm"]) == {"Bedford", "Central Bedfordshire", "Luton"}
    row = lsoas.set_index("lsoa11nm").loc["Bedford 001A"]
    assert row["msoa11nm"] == "Bedford 001"
    assert row["msoa11cd"] == "E02003616"  # ONS code of Bedford 001
    bedford = lsoas[lsoas["msoa11nm"] == "Central Bedfordshire 033"]
    assert set(bedford["msoa11cd"]) == {"E02003651"}


def test_west_mercia_and_welsh_force_areas():
    wm = set(ref.force_lsoas("west-mercia")["lad19nm"])
    assert {"Herefordshire, County of", "Shropshire", "Telford and Wrekin", "Worcester"} <= wm
    assert "Warwick" not in wm
    assert set(ref.force_lsoas("warwickshire")["lad19nm"]) >= {"Warwick", "Rugby"}


def test_unknown_force_raises():
    with pytest.raises(ValueError):
        ref.force_lsoas("atlantis")
    with pytest.raises(ValueError):
        ref.police_uk_street("btp")


# --------------------------------------------------------------------------- offences


def test_offence_codes():
    codes = ref.offence_codes()
    assert list(codes.columns) == ["ho_code", "description", "offence_group", "prc_subgroup", "policeuk_category"]
    assert len(codes) == 132 and codes["ho_code"].is_unique
    by_code = codes.set_index("ho_code")
    for code in ("8N", "19C", "105A", "8Q", "8L", "5D", "92A"):
        assert code in by_code.index, code
    assert by_code.loc["19C", "prc_subgroup"] == "Rape offences"
    assert by_code.loc["8Q", "description"] == "Stalking"
    assert "8U" not in by_code.index  # controlling or coercive behaviour is not in this list


def test_prc_counts():
    prc = ref.prc_offences()
    assert list(prc.columns) == ["ho_code", "description", "offence_group", "prc_subgroup"]
    assert set(prc["ho_code"]) <= set(ref.offence_codes()["ho_code"])
    fraud_codes = set(prc.loc[prc["offence_group"] == "Fraud offences", "ho_code"])
    assert {"AF", "CIFAS"} <= fraud_codes
    for force_id in ref.forces()["force_id"]:
        counts = ref.force_offence_counts(force_id)
        assert list(counts.columns) == ["ho_code", "quarter", "offences"]
        assert set(counts["quarter"]) == {1, 2, 3, 4}
        assert not counts[["ho_code", "quarter"]].duplicated().any()
        assert not set(counts["ho_code"]) & fraud_codes
        assert set(counts["ho_code"]) <= set(prc["ho_code"])
        assert pd.api.types.is_integer_dtype(counts["offences"])
    beds = ref.force_offence_counts("bedfordshire")
    assert beds["offences"].sum() == 47_153  # PRC 2017/18 total, Bedfordshire
    assert beds.loc[beds["ho_code"] == "8N", "offences"].sum() > 0


def test_harm_by_subgroup():
    harm = ref.harm_by_subgroup()
    assert list(harm.columns) == [
        "policeuk_category", "prc_subgroup", "cchi_days_median", "cchi_days_min",
        "cchi_days_max", "cchi_rows", "national_count_2024_25",
    ]
    h = harm.set_index("prc_subgroup")["cchi_days_median"]
    assert h["Rape offences"] == 2555
    assert h["Homicide"] == 5475
    assert h["Other sexual offences"] == 182.25


# --------------------------------------------------------------------------- police.uk


@pytest.mark.parametrize("force_id,kind", sorted(POLICE_UK_ROWS))
def test_police_uk_row_counts_match_source(force_id, kind):
    load = ref.police_uk_street if kind == "street" else ref.police_uk_outcomes
    df = load(force_id)
    assert len(df) == POLICE_UK_ROWS[(force_id, kind)]
    assert df["crime_key"].dtype == "Int32"
    assert df["month"].str.match(r"^\d{4}-\d{2}$").all()
    assert df["longitude"].dropna().between(*LON_RANGE).all()
    if kind == "street":
        assert df["crime_key"].isna().sum() == POLICE_UK_STREET_WITHOUT_ID[force_id]
        assert df["crime_type"].notna().all()
        assert "Violence and sexual offences" in set(df["crime_type"])
    else:
        assert df["crime_key"].notna().all()
        assert df["outcome_type"].notna().all()


@pytest.mark.parametrize("force_id", ["bedfordshire", "hertfordshire"])
def test_police_uk_keys_link_street_and_outcomes(force_id):
    street, outcomes = ref.police_uk_street(force_id), ref.police_uk_outcomes(force_id)
    keys = set(street["crime_key"].dropna()) | set(outcomes["crime_key"].dropna())
    assert len(keys) == POLICE_UK_DISTINCT_CRIMES[force_id]
    linked = outcomes["crime_key"].isin(set(street["crime_key"].dropna())).mean()
    assert linked > 0.5
    first, last, n = POLICE_UK_MONTHS[force_id]
    months = ref.police_uk_months(force_id)
    assert (months[0], months[-1], len(months)) == (first, last, n)
    assert set(street["month"]) == set(months)


def test_police_uk_other_forces_are_empty_with_columns():
    street = ref.police_uk_street("norfolk")
    outcomes = ref.police_uk_outcomes("norfolk")
    assert street.empty and outcomes.empty
    assert list(street.columns) == list(ref.police_uk_street("bedfordshire").columns)
    assert list(outcomes.columns) == list(ref.police_uk_outcomes("bedfordshire").columns)
    assert "outcome_type" in outcomes.columns and "crime_type" in street.columns
    assert ref.police_uk_months("norfolk") == []


# --------------------------------------------------------------------------- boundaries


def test_msoa21_boundaries():
    lads = ref.msoa21_boundary_lads()
    assert len(lads) == 72
    assert {"E06000055", "E06000056", "E06000032"} <= set(lads)  # Bedford, Central Beds, Luton
    fc = ref.msoa21_boundaries("E06000055")
    assert fc["type"] == "FeatureCollection"
    assert len(fc["features"]) == 21
    names = {f["properties"]["MSOA21NM"] for f in fc["features"]}
    assert "Bedford 001" in names
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    while isinstance(ring[0][0], list):  # MultiPolygon
        ring = ring[0]
    lon, lat = ring[0]
    assert LON_RANGE[0] < lon < LON_RANGE[1] and LAT_RANGE[0] < lat < LAT_RANGE[1]
    assert round(lon, 5) == lon and round(lat, 5) == lat
    with pytest.raises(ValueError):
        ref.msoa21_boundaries("E09000001")


def test_every_boundary_file_loads():
    for lad in ref.msoa21_boundary_lads():
        path = ref.reference_data_dir() / "msoa21_boundaries" / f"{lad}.geojson.gz"
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            fc = json.load(fh)
        assert fc["features"], lad
        assert {f["properties"]["LADCD_ACTIVE"] for f in fc["features"]} == {lad}


# --------------------------------------------------------------------------- packaging


def test_loaders_return_copies():
    f = ref.forces()
    f.loc[:, "population"] = 0
    assert (ref.forces()["population"] > 0).all()
    fc = ref.msoa21_boundaries("E06000055")
    fc["features"].clear()
    assert ref.msoa21_boundaries("E06000055")["features"]


def test_reference_data_is_small_and_attributed():
    folder = ref.reference_data_dir()
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert total < 25_000_000
    sources = (folder / "SOURCES.md").read_text(encoding="utf-8")
    for needle in ("Open Government Licence", "data.police.uk", "ODC-PDDL", "Cambridge Crime Harm Index"):
        assert needle in sources
