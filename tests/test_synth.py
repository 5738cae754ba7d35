"""The synthetic world behaves like the real one: volumes, mix, places, people, dialects, truth."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forceprofiles import reference
from forceprofiles.cli import main as cli_main
from forceprofiles.dialects import load_dialect, read_extract
from forceprofiles.identifiers import is_valid_pnc
from forceprofiles.registry import force_config
from forceprofiles.synth import calibration as cal
from forceprofiles.synth.names import NICKNAMES, ORIGINS
from forceprofiles.synth.world import WorldSpec
from forceprofiles.synth.writer import generate_world

from conftest import YEAR_WORLD

VAWG_SUBGROUPS = {"Rape offences", "Other sexual offences", "Stalking and harassment"}


@lru_cache(maxsize=None)
def _entity(world: Path, force: str, feed: str, entity: str) -> pd.DataFrame:
    dialect = load_dialect(force_config(force).dialect)
    frames = []
    for month_dir in sorted((world / "landing" / force / feed).iterdir()):
        frame = read_extract(month_dir, feed, dialect).frames[entity]
        frames.append(frame.assign(extract_month=month_dir.name))
    return pd.concat(frames, ignore_index=True)


def _new_crimes(world: Path, force: str) -> pd.DataFrame:
    """Occurrences as first recorded (later outcome updates appear again in later months)."""
    occurrences = _entity(world, force, "crime", "occurrences")
    first = occurrences.sort_values("updated_at").drop_duplicates("crime_ref", keep="first")
    return first[first["record_type"] == "crime"]


@pytest.mark.parametrize("force", reference.NINE_FORCES)
def test_yearly_crime_volume_matches_the_real_figure_times_scale(year_world: Path, force: str) -> None:
    expected = reference.forces().set_index("force_id").loc[force, "crimes_per_year"] * YEAR_WORLD.scale
    generated = len(_new_crimes(year_world, force))
    assert abs(generated - expected) / expected < 0.05, (generated, expected)


def test_monthly_volumes_have_a_seasonal_shape_not_a_flat_line(year_world: Path) -> None:
    crimes = _new_crimes(year_world, "kent")
    per_month = crimes.groupby("extract_month").size()
    assert per_month.max() > per_month.min() * 1.03


def test_offence_mix_follows_the_force_real_mix(year_world: Path) -> None:
    crimes = _new_crimes(year_world, "essex")
    generated = crimes["ho_code"].value_counts(normalize=True)
    mix = cal.offence_mix("essex")
    real = pd.Series(mix.probabilities, index=mix.codes)
    distance = 0.5 * (generated.reindex(real.index, fill_value=0) - real).abs().sum()
    assert distance < 0.12, distance
    assert {"8N", "105A", "19C", "8L"} <= set(generated.index)


def test_vawg_share_is_near_the_published_fifth(year_world: Path) -> None:
    subgroup = reference.prc_offences().drop_duplicates("ho_code").set_index("ho_code")["prc_subgroup"]
    shares = []
    for force in reference.NINE_FORCES:
        crimes = _new_crimes(year_world, force)
        in_scope = crimes["ho_code"].map(subgroup).isin(VAWG_SUBGROUPS) | crimes["ho_code"].eq("8U") | crimes[
            "flag_domestic_abuse"].astype(bool)
        shares.append(in_scope.mean())
    assert 0.15 < float(np.mean(shares)) < 0.27, shares


def test_events_sit_at_real_lsoas_of_the_force_with_concentration(year_world: Path) -> None:
    crimes = _new_crimes(year_world, "hertfordshire")
    lsoas = reference.force_lsoas("hertfordshire").set_index("lsoa11cd")
    assert crimes["lsoa11cd"].isin(lsoas.index).all()
    centroid = lsoas.loc[crimes["lsoa11cd"], ["latitude", "longitude"]].to_numpy()
    jitter = np.abs(crimes[["latitude", "longitude"]].to_numpy(dtype=float) - centroid)
    assert (jitter < 0.03).all()
    per_lsoa = crimes["lsoa11cd"].value_counts()
    top_decile = per_lsoa.head(max(1, len(lsoas) // 10)).sum()
    assert top_decile / len(crimes) > 0.2, "crime should concentrate in a few places"


def test_missing_custody_and_visor_volumes_follow_the_published_rates(year_world: Path) -> None:
    force = "norfolk"
    population = cal.force_population(force) * YEAR_WORLD.scale
    episodes = _entity(year_world, force, "missing", "episodes").drop_duplicates("episode_ref")
    expected_episodes = population * cal.MISSING_EPISODES_PER_1000_PEOPLE_PER_YEAR / 1000
    assert abs(len(episodes) - expected_episodes) / expected_episodes < 0.1
    custody = _entity(year_world, force, "custody", "records")
    expected_arrests = population * cal.ARRESTS_PER_1000_PEOPLE_PER_YEAR / 1000
    assert 0.5 < len(custody) / expected_arrests < 1.5, (len(custody), expected_arrests)
    visor = _entity(year_world, force, "visor", "nominals").drop_duplicates("visor_ref")
    # The published rate is of offenders managed at the world's start (registered before it);
    # the turnover registers more month by month.
    registered = pd.to_datetime(visor["registered_on"], errors="coerce")
    rso = visor[(visor["category"] == "RSO") & (registered < pd.Timestamp(YEAR_WORLD.start + "-01"))]
    assert abs(len(rso) - cal.rso_count(force, YEAR_WORLD.scale)) / cal.rso_count(force, YEAR_WORLD.scale) < 0.25


def test_people_have_names_of_several_origins_and_records_vary(year_world: Path) -> None:
    people = pd.concat([_entity(year_world, f, "crime", "involvements") for f in ("bedfordshire", "essex")])
    surnames = set(people["surname"].dropna())
    origins_seen = sum(1 for origin in ORIGINS if surnames & set(origin.surnames))
    assert origins_seen >= 5
    assert people["sex"].isin(["M", "F", "U"]).all()
    assert people["ethnicity_self"].notna().mean() > 0.9
    assert people["ethnicity_officer"].str.startswith("IC").mean() > 0.9
    nicknames = {n for values in NICKNAMES.values() for n in values}
    assert people["forenames"].isin(nicknames).any()


def test_the_same_person_is_recorded_differently_across_records(year_world: Path) -> None:
    truth = pd.concat(pd.read_parquet(p) for p in (year_world / "truth" / "records").rglob("*.parquet"))
    people = []
    for force in reference.NINE_FORCES:
        custody = _entity(year_world, force, "custody", "records")
        people.append(custody[["force_id", "custody_ref", "person_ref", "forenames", "surname", "date_of_birth"]]
                      .rename(columns={"custody_ref": "record_ref"}))
    records = pd.concat(people).merge(truth[truth["feed"] == "custody"], on=["force_id", "record_ref", "person_ref"])
    by_person = records.groupby("person_id").agg(refs=("person_ref", "nunique"), forenames=("forenames", "nunique"),
                                                 dobs=("date_of_birth", "nunique"))
    assert (by_person["refs"] > 1).any(), "duplicate nominals and cross-force records should exist"
    assert (by_person["forenames"] > 1).any() or (by_person["dobs"] > 1).any()


def test_pnc_ids_carry_real_check_letters_with_a_few_mistyped(year_world: Path) -> None:
    custody = pd.concat(_entity(year_world, f, "custody", "records") for f in reference.NINE_FORCES)
    pncs = custody["pnc_id"].dropna()
    valid = pncs.map(is_valid_pnc)
    assert len(pncs) > 100
    assert valid.mean() > 0.93
    assert (~valid).sum() >= 1
    central = pd.read_parquet(year_world / "central" / "national_nominals.parquet")
    assert central["pnc_id"].map(is_valid_pnc).all()


def test_dialects_really_differ_on_disk(year_world: Path) -> None:
    samples = {}
    for force in ("norfolk", "bedfordshire", "warwickshire"):
        month_dir = year_world / "landing" / force / "crime" / "2025-06"
        samples[force_config(force).dialect] = sorted(p.name for p in month_dir.iterdir())
    assert len({tuple(v) for v in samples.values()}) == 3, samples
    assert len(set(samples)) == 3


def test_updated_records_appear_again_in_a_later_month(year_world: Path) -> None:
    occurrences = _entity(year_world, "kent", "crime", "occurrences")
    versions = occurrences.groupby("crime_ref")["extract_month"].nunique()
    assert (versions > 1).sum() > 10
    later = occurrences[occurrences["crime_ref"].isin(versions[versions > 1].index)]
    assert set(later["outcome"]) - {"pending"}, "a later version carries the final outcome"
    episodes = _entity(year_world, "kent", "missing", "episodes")
    reopened = episodes.groupby("episode_ref").filter(lambda g: len(g) > 1)
    assert reopened.empty or reopened["returned_at"].notna().any()


def test_every_planted_offence_is_in_the_extracts_with_the_planted_people(year_world: Path) -> None:
    planted = pd.concat(pd.read_parquet(p) for p in (year_world / "truth" / "planted_crimes").rglob("*.parquet"))
    nominals = pd.concat(pd.read_parquet(p) for p in (year_world / "truth" / "nominals").rglob("*.parquet"))
    serial = pd.read_parquet(year_world / "truth" / "serial_perpetrators.parquet")
    assert len(serial) >= 5 * len(reference.NINE_FORCES)
    checked = 0
    for force, rows in planted.groupby("force_id"):
        involvements = _entity(year_world, force, "crime", "involvements").merge(
            nominals, on=["force_id", "person_ref"], how="left")
        for row in rows.itertuples():
            crime_people = involvements[involvements["crime_ref"] == row.crime_ref]
            suspects = set(crime_people.loc[crime_people["role"] == "suspect", "person_id"])
            assert {int(x) for x in row.suspect_ids.split(";")} <= suspects, row
            if row.victim_ids:
                victims = set(crime_people.loc[crime_people["role"] == "victim", "person_id"])
                assert {int(x) for x in row.victim_ids.split(";")} <= victims, row
            checked += 1
    assert checked > 100
    serial_crimes = planted[planted["tag"].str.startswith("serial:")]
    per_perp = serial_crimes.groupby("suspect_ids")["victim_ids"].nunique()
    assert (per_perp >= 2).mean() > 0.9, "serial perpetrators have two or more victims"
    assert serial["cross_border"].any()
    networks = pd.read_parquet(year_world / "truth" / "exploitation_networks.parquet")
    assert networks.groupby("network_id")["force_id"].nunique().max() > 1, "some networks span forces"
    groups = pd.read_parquet(year_world / "truth" / "groups.parquet")
    assert groups["registered"].any() and (~groups["registered"]).any()
    register = pd.read_parquet(year_world / "central" / "ocg_members.parquet")
    assert set(register["ocg_ref"]) <= set(groups["ocg_ref"].dropna())
    crossings = pd.read_parquet(year_world / "truth" / "visor_crossings.parquet")
    assert (crossings["visor_force"] != crossings["appears_in_force"]).all() and len(crossings) > 0


def test_same_arguments_give_byte_identical_output(tmp_path: Path) -> None:
    spec = WorldSpec(forces=("bedfordshire", "warwickshire", "suffolk"), start="2026-01", end="2026-03", scale=0.01,
                     seed=3)
    generate_world(spec, tmp_path / "a")
    generate_world(spec, tmp_path / "b")

    def digests(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert first == second and len(first) > 30
    generate_world(WorldSpec(**{**spec.__dict__, "seed": 4}), tmp_path / "c")
    assert digests(tmp_path / "c") != first


@pytest.mark.postgres
def test_database_forces_are_loaded_into_postgres(tmp_path: Path, postgres_database: str) -> None:
    import psycopg

    spec = WorldSpec(forces=("kent", "essex"), start="2026-01", end="2026-02", scale=0.005, seed=5)
    summary = generate_world(spec, tmp_path, postgres_dsn=postgres_database)
    assert force_config("kent").delivery == "postgres" and force_config("essex").delivery == "file_drop"
    assert not (tmp_path / "landing" / "kent").exists()
    assert (tmp_path / "landing" / "essex" / "crime" / "2026-01").is_dir()
    expected = sum(e["rows"] for e in summary["extracts"] if e["force_id"] == "kent" and e["feed"] == "custody")
    from forceprofiles.dialects import read_extract_postgres

    dialect = load_dialect(force_config("kent").dialect)
    got = sum(len(read_extract_postgres(postgres_database, force_config("kent").schema, "custody", dialect, m)
                  .frames["records"]) for m in ("2026-01", "2026-02"))
    assert got == expected > 0
    with psycopg.connect(postgres_database) as conn:
        schemas = {r[0] for r in conn.execute("select schema_name from information_schema.schemata")}
    assert force_config("kent").schema in schemas


def test_cli_help_and_synth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["synth", "--help"])
    assert exit_info.value.code == 0
    assert "--scale" in capsys.readouterr().out
    assert cli_main(["synth", "--out", str(tmp_path), "--forces", "bedfordshire", "--start", "2026-01",
                     "--end", "2026-01", "--scale", "0.005", "--quiet"]) == 0
    summary = json.loads((tmp_path / "world.json").read_text())
    assert summary["spec"]["forces"] == ["bedfordshire"]
    with pytest.raises(SystemExit):
        cli_main(["synth", "--out", str(tmp_path), "--forces", "gotham"])


@pytest.mark.parametrize("feed,entity", [("crime", "occurrences"), ("crime", "involvements"),
                                         ("intelligence", "reports"), ("custody", "records"),
                                         ("missing", "episodes"), ("visor", "nominals")])
def test_every_record_is_in_the_extract_of_the_month_it_was_updated(year_world: Path, feed: str, entity: str) -> None:
    for force in ("hertfordshire", "west-mercia", "suffolk"):
        frame = _entity(year_world, force, feed, entity)
        if frame.empty:
            continue
        assert (frame["updated_at"].dt.strftime("%Y-%m") == frame["extract_month"]).all(), (force, feed, entity)
        assert frame["_decode_errors"].isna().all(), frame["_decode_errors"].dropna().head().tolist()


def test_a_national_world_covers_all_43_forces(tmp_path: Path) -> None:
    forces = tuple(reference.forces()["force_id"])
    spec = WorldSpec(forces=forces, start="2026-10", end="2026-10", scale=0.001, seed=11)
    summary = generate_world(spec, tmp_path)
    written = {e["force_id"] for e in summary["extracts"] if e["feed"] == "crime" and e["rows"] > 0}
    assert len(forces) == 43 and written == set(forces)
    city = _new_crimes(tmp_path, "city-of-london")
    assert city["lsoa11cd"].isin(reference.force_lsoas("city-of-london")["lsoa11cd"]).all()


def test_record_keys_are_unique_within_each_extract(year_world: Path) -> None:
    from forceprofiles.contract import RECORD_KEYS

    for force in ("kent", "bedfordshire", "warwickshire"):
        for (feed, entity), key in RECORD_KEYS.items():
            frame = _entity(year_world, force, feed, entity)
            columns = [*key, "extract_month"]
            assert not frame.duplicated(subset=columns).any(), (force, feed, entity)


def test_planted_courses_escalate_in_harm_and_keep_offending_now() -> None:
    """A planted serial course is what the tactical list exists for: harm rising over its last
    three offences (equal harm is not escalation, by the harm days the pipeline's seeds give), one
    offence a month so the records' dates keep the course's order, the latest in the world's last
    two months."""
    from forceprofiles.synth.plants import (PALETTE_HARM_DAYS, SERIAL_PALETTES, active_course_months,
                                            escalating_course)

    seeds = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
    harm = pd.read_csv(seeds / "harm_values.csv", dtype={"ho_code": str}).set_index("ho_code")["cchi_days"].to_dict()
    overrides = pd.read_csv(seeds / "harm_overrides.csv", dtype={"ho_code": str})
    harm.update(overrides[overrides["is_enabled"].astype(str).str.lower() == "true"].set_index("ho_code")["cchi_days"])
    assert PALETTE_HARM_DAYS == {code: float(harm[code]) for code in PALETTE_HARM_DAYS}

    rng = np.random.default_rng(7)
    months = [f"{year}-{month:02d}" for year in (2024, 2025, 2026) for month in range(1, 13)]
    for tier, palette in SERIAL_PALETTES.items():
        harms = [PALETTE_HARM_DAYS[code] for code, _ in palette]
        assert harms == sorted(harms), f"{tier} palette is not in escalation order"
        for n in range(3, 15):
            course = [PALETTE_HARM_DAYS[code] for code in escalating_course(rng, palette, n)]
            assert len(course) == n and course == sorted(course)
            assert course[-1] > course[-3], f"{tier} course of {n} does not end on a rise: {course}"
    for n in (1, 8, 14, 40):
        course_months = active_course_months(rng, months, n, recent_bias=2.0, last_within=2)
        assert course_months == sorted(set(course_months)) and len(course_months) == min(n, len(months))
        assert course_months[-1] in months[-2:]


def test_ocg_references_are_unique_across_every_force() -> None:
    """A national world's register: every force's groups get references no other force shares
    (three-letter prefixes made West Mercia, West Midlands and West Yorkshire collide)."""
    from forceprofiles.reference import forces
    from forceprofiles.synth.world import ocg_ref

    ids = forces()["force_id"].tolist()
    assert len(ids) == 43
    refs = [ocg_ref(force, k) for force in ids for k in range(1, 4)]
    assert len(set(refs)) == len(refs)


def test_prebuilt_choices_draw_what_numpy_choice_draws() -> None:
    """The world's speed-ups must not change the world a seed gives: a Choice takes the same
    draw from the generator as ``rng.choice`` does, weighted or not, and leaves it in the same
    state for the next draw."""
    from forceprofiles.synth.world import Choice

    weighted = (("charged", "caution", "no_further_action"), (0.2, 0.3, 0.5))
    plain = (1, 1, 1, 2, 3)
    fast, slow = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(2_000):
        assert Choice(*weighted).draw(fast) == str(slow.choice(weighted[0], p=weighted[1]))
        assert Choice(plain).draw(fast) == int(slow.choice(plain))
    assert fast.random() == slow.random()


def test_record_times_are_pandas_arithmetic_to_the_minute() -> None:
    """_random_time and the committed-at offset do in integers what pandas' Timedelta and floor
    did, including draws a few nanoseconds either side of a minute."""
    from forceprofiles.synth.world import _days_ns, _floor_minute, _random_time

    start = pd.Timestamp("2026-03-01")
    fast, slow = np.random.default_rng(11), np.random.default_rng(11)
    for _ in range(5_000):
        expected = (start + pd.Timedelta(seconds=float(slow.uniform(0, 31 * 86400 - 60)))).floor("min")
        assert _random_time(fast, start, 31) == expected
    for days in [*np.random.default_rng(3).exponential(120.0, 2_000), 1e-12, 59.9999999 / 86400]:
        reported = pd.Timestamp("2026-03-05 10:17")
        expected = (reported - pd.Timedelta(days=float(days))).floor("min")
        assert _floor_minute(reported.value - _days_ns(float(days))) == expected
