"""Person resolution inside the warehouse (forceprofiles.warehouse_resolution): the build's hook
gives exactly the persons that comparing every record with :func:`forceprofiles.linkage.resolve`
gives, keyed by each person's anchor record."""

from __future__ import annotations

import zlib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from forceprofiles.linkage import (
    anchored_person_keys,
    cluster_key,
    force_levels,
    load_model,
    prior_for_records,
    resolve,
)
from forceprofiles.linkage_synth import world_persons
from forceprofiles.synth.world import WorldSpec
from forceprofiles.synth.writer import generate_world
from forceprofiles.warehouse_resolution import resolve_persons_in_warehouse

WORLD = WorldSpec(forces=("norfolk", "suffolk", "essex"), start="2024-01", end="2024-03", scale=0.005, seed=7)


@pytest.fixture(scope="module")
def persons(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The world's person records, with identical copies (a person's many records), name-only
    twins (identical, but never one person on a name alone) and a record seen before its copies."""
    out = tmp_path_factory.mktemp("warehouse_resolution_world")
    generate_world(WORLD, out)
    records, _ = world_persons(out)
    copies = records.head(300).assign(record_id=lambda f: f["record_id"].astype(str) + "#copy")
    name_only = pd.DataFrame([{"record_id": f"NAMEONLY{i}", "source": "kent", "forenames": "Jack", "surname": "Smith"}
                              for i in range(3)])
    records = pd.concat([records, copies, name_only], ignore_index=True)
    # first seen: a deterministic month per record, so that anchors are not simply the smallest ids
    records["first_seen"] = [f"2024-0{1 + zlib.crc32(str(r).encode()) % 3}" for r in records["record_id"]]
    return records


def _warehouse_with(persons: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    frame = pd.DataFrame({
        "record_id": persons["record_id"].astype(str),
        "force_id": persons["source"].where(persons["source"] != "central"),
        **{c: persons[c] if c in persons else None for c in ("forenames", "surname", "date_of_birth", "sex",
                                                              "address", "postcode", "pnc_id", "cro_number")},
        "first_source_month": persons["first_seen"],
    })
    conn.register("frame", frame)
    conn.execute("create table main.int_person_records as select * replace (cast(date_of_birth as date) as "
                 "date_of_birth) from frame")
    conn.unregister("frame")
    return conn


def test_hook_gives_the_persons_of_comparing_every_record(persons: pd.DataFrame) -> None:
    model = load_model()
    raw = persons.drop(columns=["first_seen"])
    raw["date_of_birth"] = pd.to_datetime(raw["date_of_birth"]).dt.date
    clusters, _ = resolve(raw, model, collapse=False)
    first_seen = pd.Series(persons["first_seen"].to_numpy(), index=persons["record_id"].astype(str).to_numpy())
    expected = anchored_person_keys(clusters, first_seen).set_index("record_id")

    conn = _warehouse_with(persons)
    resolve_persons_in_warehouse(conn)
    got = conn.execute("select * from main.person_clusters").df().set_index("record_id")

    assert len(got) == len(persons) and got.index.is_unique
    both = expected.merge(got, left_index=True, right_index=True, suffixes=("", "_hook"))
    assert (both["person_key"] == both["person_key_hook"]).all()
    assert ((both["match_probability"] - both["match_probability_hook"]).abs() < 1e-9).all()
    keys = got["person_key"]
    assert keys[persons["record_id"].iloc[0]] == keys[str(persons["record_id"].iloc[0]) + "#copy"]
    assert keys[["NAMEONLY0", "NAMEONLY1", "NAMEONLY2"]].nunique() == 3, "a name alone is not one person"
    # the scratch tables are gone: nothing but person_clusters and the settings used is left
    tables = {r[0] for r in conn.execute("select table_name from duckdb_tables()").fetchall()}
    assert tables == {"int_person_records", "person_clusters", "person_resolution_settings"}
    used = conn.execute("select records, forces, prior, force_same_u, model_version "
                        "from main.person_resolution_settings").df().iloc[0]
    shares = persons.loc[persons["source"] != "central", "source"].value_counts(normalize=True)
    assert used["records"] == len(persons) and used["forces"] == len(shares)
    assert used["force_same_u"] == pytest.approx(min((shares ** 2).sum(), _same_force_m(model)))
    assert used["prior"] == pytest.approx(prior_for_records(model, len(persons)))
    assert used["model_version"] == model["version"]


def test_resolve_persons_in_warehouse_hook() -> None:
    import duckdb


    conn = duckdb.connect()
    conn.execute("""
        create table main.int_person_records as select * from (values
            ('crime.involvements|kent|C1|victim', 'kent', 'Bill', 'Smith', date '1986-05-03', 'M',
             '1 High St', 'ME1 1AA', '2001/0171310W', null, '2026-02'),
            ('custody.records|essex|K9', 'essex', 'William', 'Smith', date '1986-03-05', 'M',
             null, 'CM1 1AA', '2001/0171310W', null, '2026-01'),
            ('central.national_nominals||NAT1', null, 'Ann', 'Lee', date '1970-01-01', 'F',
             null, null, null, null, null)
        ) as t(record_id, force_id, forenames, surname, date_of_birth, sex, address, postcode, pnc_id, cro_number,
               first_source_month)
    """)
    resolve_persons_in_warehouse(conn)
    rows = conn.execute("select record_id, person_key, match_probability from main.person_clusters "
                        "order by record_id").fetchall()
    assert len(rows) == 3 and all(0 <= r[2] <= 1 for r in rows)
    keys = {r[0]: r[1] for r in rows}
    assert keys['crime.involvements|kent|C1|victim'] == keys['custody.records|essex|K9']
    # the person is keyed on their earliest record (January's custody record), not the smallest id
    assert keys['custody.records|essex|K9'] == cluster_key(['custody.records|essex|K9'])
    # keys depend on the month's records only: a stale table from another build changes nothing
    conn.execute("update main.person_clusters set person_key = 'STALE-' || person_key")
    resolve_persons_in_warehouse(conn)
    assert dict(conn.execute("select record_id, person_key from main.person_clusters").fetchall()) == keys
    # as at January (the February record not there yet) the person has the same key
    conn.execute("delete from main.int_person_records where first_source_month = '2026-02'")
    resolve_persons_in_warehouse(conn)
    january = dict(conn.execute("select record_id, person_key from main.person_clusters").fetchall())
    assert january == {k: v for k, v in keys.items() if k != 'crime.involvements|kent|C1|victim'}
    # an empty month still writes the table with its columns
    conn.execute("delete from main.int_person_records")
    conn.execute("drop table main.person_clusters")
    resolve_persons_in_warehouse(conn)
    assert [r[0] for r in conn.execute("describe main.person_clusters").fetchall()] == [
        "record_id", "person_key", "match_probability"]


def _same_force_m(model: dict) -> float:
    return force_levels(model["splink_settings"])[0]["m_probability"]
