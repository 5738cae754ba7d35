"""The force registry: nine forces as configured, defaults for the rest, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forceprofiles import contract
from forceprofiles.dialects import find_profiles_dir, load_dialect
from forceprofiles.registry import (
    RegistryError,
    default_registry_path,
    dialect_for_unlisted,
    force_config,
    load_registry,
)

NINE = ("norfolk", "suffolk", "essex", "kent", "hertfordshire", "bedfordshire", "cambridgeshire",
        "warwickshire", "west-mercia")
ALL_43 = (
    "avon-and-somerset", "bedfordshire", "cambridgeshire", "cheshire", "city-of-london", "cleveland", "cumbria",
    "derbyshire", "devon-and-cornwall", "dorset", "durham", "dyfed-powys", "essex", "gloucestershire",
    "greater-manchester", "gwent", "hampshire", "hertfordshire", "humberside", "kent", "lancashire",
    "leicestershire", "lincolnshire", "merseyside", "metropolitan", "norfolk", "north-wales", "north-yorkshire",
    "northamptonshire", "northumbria", "nottinghamshire", "south-wales", "south-yorkshire", "staffordshire",
    "suffolk", "surrey", "sussex", "thames-valley", "warwickshire", "west-mercia", "west-midlands",
    "west-yorkshire", "wiltshire",
)


def test_nine_forces_load() -> None:
    registry = load_registry()
    assert sorted(registry) == sorted(NINE)
    for force_id, config in registry.items():
        assert config.force_id == force_id and config.listed
        assert config.mandatory_feeds == contract.FEEDS
        assert config.data_team is not None and config.data_team.split("@")[1] in config.email_domains
        load_dialect(config.dialect)  # every assigned dialect exists and is valid


def test_dialect_and_delivery_assignments() -> None:
    registry = load_registry()
    by_dialect = {name: sorted(f for f, c in registry.items() if c.dialect == name) for name in ("athena", "niche", "connect")}
    assert by_dialect == {
        "athena": ["essex", "kent", "norfolk", "suffolk"],
        "niche": ["bedfordshire", "cambridgeshire", "hertfordshire"],
        "connect": ["warwickshire", "west-mercia"],
    }
    assert sorted(f for f, c in registry.items() if c.delivery == "postgres") == ["kent", "west-mercia"]
    kent = registry["kent"]
    assert (kent.conn_id, kent.schema, kent.data_team) == ("fp_force_kent", "force_kent", "data-team@kent.police.uk")
    assert registry["west-mercia"].schema == "force_west_mercia"
    assert all(c.conn_id is None and c.schema is None for c in registry.values() if c.delivery == "file_drop")


def test_unlisted_force_falls_back_to_defaults() -> None:
    config = force_config("avon-and-somerset")
    assert not config.listed
    assert config.name == "Avon and Somerset"
    assert config.delivery == "file_drop" and config.conn_id is None
    assert config.dialect == dialect_for_unlisted("avon-and-somerset", ["athena", "niche", "connect"])
    assert config.email_domains == ("avonandsomerset.police.uk",)
    assert config.data_team == "data-team@avonandsomerset.police.uk"
    assert force_config("kent").listed


def test_every_force_of_england_and_wales_gets_a_stable_dialect() -> None:
    first = {force: force_config(force).dialect for force in ALL_43}
    assert first == {force: force_config(force).dialect for force in ALL_43}
    assert set(first.values()) == {"athena", "niche", "connect"}  # the rule spreads them out
    assert first["metropolitan"] == dialect_for_unlisted("metropolitan", ["athena", "niche", "connect"])


def test_not_a_force_id() -> None:
    with pytest.raises(RegistryError, match="not a police.uk force id"):
        force_config("Kent Police")


def _registry_copy(tmp_path: Path) -> Path:
    profiles = tmp_path / "profiles"
    shutil.copytree(find_profiles_dir() / "dialects", profiles / "dialects")
    shutil.copy(default_registry_path(), profiles / "forces.yml")
    return profiles / "forces.yml"


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("old, new, message", [
    ("    dialect: niche\n", "    dialect: nitch\n", r"force 'hertfordshire': field 'dialect': 'nitch' is not a configured dialect"),
    ("    delivery: postgres\n", "    delivery: sftp\n", r"force 'kent': field 'delivery': 'sftp' is not one of file_drop, postgres"),
    ("      schema: force_kent\n", "      schema: Force-Kent\n", r"force 'kent': field 'postgres.schema': 'Force-Kent' is not a lower-case SQL identifier"),
    ("      data_team: data-team@essex.police.uk\n", "      data_team: someone@gmail.com\n",
     r"force 'essex': field 'contacts.data_team': someone@gmail.com is outside the force's email domains"),
    ("  suffolk:\n    name: Suffolk Constabulary\n", "  suffolk:\n    name: Suffolk Constabulary\n    mandatory_feeds: [crime, stop_search]\n",
     r"force 'suffolk': field 'mandatory_feeds': unknown feeds \['stop_search'\]"),
    ("  norfolk:\n    name: Norfolk Constabulary\n", "  norfolk:\n    name: Norfolk Constabulary\n    delivry: file_drop\n",
     r"force 'norfolk': field 'delivry': unknown field"),
    ("    name: Bedfordshire Police\n", "", r"force 'bedfordshire': field 'name': is required"),
    ("  dialects: [athena, niche, connect]\n", "  dialects: [athena, mystery]\n",
     r"force '\(defaults\)': field 'dialects': 'mystery' is not a configured dialect"),
])
def test_bad_config_names_force_and_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _registry_copy(tmp_path)
    _replace(path, old, new)
    with pytest.raises(RegistryError, match=message):
        load_registry(path)


def test_postgres_delivery_without_settings_uses_default_names(tmp_path: Path) -> None:
    path = _registry_copy(tmp_path)
    _replace(path, "    dialect: athena\n    delivery: file_drop\n    email_domains: [essex.police.uk]",
             "    dialect: athena\n    delivery: postgres\n    email_domains: [essex.police.uk]")
    essex = load_registry(path)["essex"]
    assert (essex.conn_id, essex.schema) == ("fp_force_essex", "force_essex")
