"""The scoring configuration a force tunes: ``profiles/vawg.yml``, ``profiles/missing_persons.yml``
and ``profiles/networks.yml``.

Each file is passed whole to dbt as a var of the same name (``var('vawg')``, ...), so every weight,
band and window the marts use is read from configuration, never written into SQL. The files carry
a ``version``: the products' methodology appendix quotes it, and a change of scoring is a change
of version that a reader can see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from forceprofiles import settings

SCORING_PROFILES: tuple[str, ...] = ("vawg", "missing_persons", "networks")


class ScoringConfigError(ValueError):
    """A scoring file is missing, unreadable or lacks its version."""


def scoring_config_path(name: str, profiles_dir: Path | None = None) -> Path:
    """Where the scoring file ``name`` lives (``<home>/profiles/<name>.yml``)."""
    if name not in SCORING_PROFILES:
        raise ScoringConfigError(f"unknown scoring profile {name!r}; expected one of {', '.join(SCORING_PROFILES)}")
    base = profiles_dir if profiles_dir is not None else settings.project_home() / "profiles"
    return Path(base) / f"{name}.yml"


def load_scoring_config(name: str, profiles_dir: Path | None = None) -> dict[str, Any]:
    """The parsed scoring file ``name``; raises :class:`ScoringConfigError` with the file named."""
    path = scoring_config_path(name, profiles_dir)
    if not path.is_file():
        raise ScoringConfigError(f"{path}: scoring profile {name!r} is missing")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ScoringConfigError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(data, dict) or "version" not in data:
        raise ScoringConfigError(f"{path}: expected a mapping with a 'version' key")
    return data


def scoring_vars(profiles_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every scoring profile that exists, keyed by name: the dbt vars of a build."""
    found: dict[str, dict[str, Any]] = {}
    for name in SCORING_PROFILES:
        if scoring_config_path(name, profiles_dir).is_file():
            found[name] = load_scoring_config(name, profiles_dir)
    return found
