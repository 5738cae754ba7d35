"""The force registry: each force's dialect, delivery route, mandatory feeds and contacts.

The registry lives in ``profiles/forces.yml`` (config over code, DESIGN.md): moving a force to
database delivery or changing its data team's mailbox is a reviewed edit, not a release.
Forces that are not listed (the synthetic world can generate all 43 forces of England and
Wales) get a configuration from the ``defaults:`` block, with a dialect picked by a stable,
documented rule, so every run assigns them the same way.

Loading validates everything at once and names the force and field at fault, so a bad edit
fails when the pipeline starts rather than when the force's extract is due.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from forceprofiles import contract
from forceprofiles.dialects import available_dialects, find_profiles_dir

DELIVERIES = ("file_drop", "postgres")
FORCE_KEYS = ("name", "dialect", "delivery", "postgres", "mandatory_feeds", "email_domains", "contacts")
DEFAULT_KEYS = ("dialect_rule", "dialects", "delivery", "mandatory_feeds", "email_domain", "contacts", "postgres")
DIALECT_RULES = ("sha256_mod",)

_FORCE_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_CONN_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_DOMAIN = re.compile(r"^([a-z0-9-]+\.)+[a-z]{2,}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@([a-z0-9-]+\.)+[a-z]{2,}$")
_SMALL_WORDS = {"and", "of", "the"}


class RegistryError(ValueError):
    """The force registry is malformed; the message names the force and the field."""


@dataclass(frozen=True)
class ForceConfig:
    """How one force takes part: its dialect, delivery route, feeds and contacts.

    ``conn_id`` and ``schema`` are set for ``postgres`` delivery only. ``listed`` says whether
    the force is configured in the registry or was derived from its defaults.
    """

    force_id: str
    name: str
    dialect: str
    delivery: str
    conn_id: str | None
    schema: str | None
    mandatory_feeds: tuple[str, ...]
    email_domains: tuple[str, ...]
    contacts: Mapping[str, str] = field(default_factory=dict, hash=False)
    listed: bool = True

    @property
    def data_team(self) -> str | None:
        """The mailbox told about this force's failed or late extracts."""
        return self.contacts.get("data_team")


@dataclass(frozen=True)
class Registry:
    """Listed forces plus the defaults for any other force."""

    forces: Mapping[str, ForceConfig]
    defaults: Mapping[str, Any]

    def get(self, force_id: str) -> ForceConfig:
        """The force's configuration, from the registry or derived from the defaults."""
        if force_id in self.forces:
            return self.forces[force_id]
        return _default_force(force_id, self.defaults)


def default_registry_path() -> Path:
    """``profiles/forces.yml`` (see :func:`forceprofiles.dialects.find_profiles_dir`)."""
    return find_profiles_dir() / "forces.yml"


def load_registry(path: Path | None = None) -> dict[str, ForceConfig]:
    """The listed forces, by police.uk id, validated."""
    return dict(_load(path or default_registry_path()).forces)


def force_config(force_id: str, path: Path | None = None) -> ForceConfig:
    """One force's configuration; forces not listed fall back to the registry's defaults."""
    return _load(path or default_registry_path()).get(force_id)


def dialect_for_unlisted(force_id: str, dialects: list[str]) -> str:
    """The documented rule for forces not listed: sha256 of the id, first 8 bytes, modulo."""
    digest = hashlib.sha256(force_id.encode("utf-8")).digest()
    return dialects[int.from_bytes(digest[:8], "big") % len(dialects)]


@lru_cache(maxsize=8)
def _load_cached(path: Path, mtime_ns: int) -> Registry:
    return _parse_registry(path)


def _load(path: Path) -> Registry:
    """Parse once per file version: the registry is read for every force and feed."""
    path = Path(path).resolve()
    if not path.is_file():
        raise RegistryError(f"force registry not found: {path}")
    return _load_cached(path, path.stat().st_mtime_ns)


def _parse_registry(path: Path) -> Registry:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("forces"), dict):
        raise RegistryError(f"{path.name}: expected a mapping with a 'forces:' block")
    known = _known_dialects(path)
    defaults = _parse_defaults(raw.get("defaults") or {}, known, path.name)
    forces = {}
    for force_id, spec in raw["forces"].items():
        forces[str(force_id)] = _parse_force(str(force_id), spec, defaults, known, path.name)
    return Registry(MappingProxyType(forces), MappingProxyType(defaults))


def _known_dialects(path: Path) -> list[str]:
    local = path.parent / "dialects"
    return available_dialects(path.parent) if local.is_dir() else available_dialects()


def _error(file: str, force_id: str, key: str, message: str) -> RegistryError:
    return RegistryError(f"{file}: force {force_id!r}: field {key!r}: {message}")


def _parse_defaults(raw: Any, known: list[str], file: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RegistryError(f"{file}: 'defaults' must be a mapping")
    unknown = sorted(set(raw) - set(DEFAULT_KEYS))
    if unknown:
        raise RegistryError(f"{file}: defaults: unknown fields {unknown} (allowed: {', '.join(DEFAULT_KEYS)})")
    defaults = {
        "dialect_rule": raw.get("dialect_rule", "sha256_mod"),
        "dialects": list(raw.get("dialects", known)),
        "delivery": raw.get("delivery", "file_drop"),
        "mandatory_feeds": list(raw.get("mandatory_feeds", contract.FEEDS)),
        "email_domain": raw.get("email_domain", "{force_compact}.police.uk"),
        "contacts": dict(raw.get("contacts", {})),
        "postgres": dict(raw.get("postgres", {})),
    }
    where = "(defaults)"
    if defaults["dialect_rule"] not in DIALECT_RULES:
        raise _error(file, where, "dialect_rule", f"{defaults['dialect_rule']!r} is not one of {', '.join(DIALECT_RULES)}")
    if not defaults["dialects"]:
        raise _error(file, where, "dialects", "needs at least one dialect")
    for name in defaults["dialects"]:
        _check_dialect(name, known, file, where, "dialects")
    _check_delivery(defaults["delivery"], file, where)
    _check_feeds(defaults["mandatory_feeds"], file, where)
    return defaults


def _parse_force(force_id: str, spec: Any, defaults: dict[str, Any], known: list[str], file: str) -> ForceConfig:
    if not _FORCE_ID.match(force_id):
        raise RegistryError(f"{file}: force {force_id!r}: the id must be a police.uk id such as 'west-mercia'")
    if not isinstance(spec, dict):
        raise RegistryError(f"{file}: force {force_id!r}: expected a mapping of fields")
    unknown = sorted(set(spec) - set(FORCE_KEYS))
    if unknown:
        raise _error(file, force_id, unknown[0], f"unknown field (allowed: {', '.join(FORCE_KEYS)})")
    for key in ("name", "dialect"):
        if not spec.get(key):
            raise _error(file, force_id, key, "is required")
    fallback = _default_force(force_id, defaults)
    delivery = spec.get("delivery", defaults["delivery"])
    _check_dialect(spec["dialect"], known, file, force_id, "dialect")
    _check_delivery(delivery, file, force_id)
    conn_id, schema = _postgres_settings(force_id, spec.get("postgres"), delivery, defaults, file)
    feeds = list(spec.get("mandatory_feeds", defaults["mandatory_feeds"]))
    _check_feeds(feeds, file, force_id)
    domains = spec.get("email_domains", list(fallback.email_domains))
    contacts = spec.get("contacts", dict(fallback.contacts))
    _check_contacts(domains, contacts, file, force_id)
    return ForceConfig(
        force_id=force_id, name=str(spec["name"]), dialect=spec["dialect"], delivery=delivery,
        conn_id=conn_id, schema=schema, mandatory_feeds=tuple(feeds), email_domains=tuple(domains),
        contacts=MappingProxyType(dict(contacts)), listed=True,
    )


def _postgres_settings(force_id: str, raw: Any, delivery: str, defaults: dict[str, Any],
                       file: str) -> tuple[str | None, str | None]:
    if delivery != "postgres":
        if raw:
            raise _error(file, force_id, "postgres", "is only allowed with delivery: postgres")
        return None, None
    raw = raw or {}
    if not isinstance(raw, dict):
        raise _error(file, force_id, "postgres", "expected conn_id and schema")
    conn_id = raw.get("conn_id") or _render(defaults["postgres"].get("conn_id", ""), force_id)
    schema = raw.get("schema") or _render(defaults["postgres"].get("schema", ""), force_id)
    if not conn_id or not _CONN_ID.match(conn_id):
        raise _error(file, force_id, "postgres.conn_id", f"{conn_id!r} is not a valid Airflow connection id")
    if not schema or not _SCHEMA.match(schema):
        raise _error(file, force_id, "postgres.schema", f"{schema!r} is not a lower-case SQL identifier")
    return conn_id, schema


def _check_dialect(name: Any, known: list[str], file: str, force_id: str, key: str) -> None:
    if name not in known:
        raise _error(file, force_id, key, f"{name!r} is not a configured dialect ({', '.join(known)})")


def _check_delivery(delivery: Any, file: str, force_id: str) -> None:
    if delivery not in DELIVERIES:
        raise _error(file, force_id, "delivery", f"{delivery!r} is not one of {', '.join(DELIVERIES)}")


def _check_feeds(feeds: list[Any], file: str, force_id: str) -> None:
    unknown = [feed for feed in feeds if feed not in contract.FEEDS]
    if unknown:
        raise _error(file, force_id, "mandatory_feeds", f"unknown feeds {unknown} (feeds: {', '.join(contract.FEEDS)})")


def _check_contacts(domains: Any, contacts: Any, file: str, force_id: str) -> None:
    if not isinstance(domains, list) or not domains or not all(isinstance(d, str) and _DOMAIN.match(d) for d in domains):
        raise _error(file, force_id, "email_domains", f"expected a list of domains such as kent.police.uk, got {domains!r}")
    if not isinstance(contacts, dict):
        raise _error(file, force_id, "contacts", "expected a mapping of role: address")
    for role, address in contacts.items():
        if not isinstance(address, str) or not _EMAIL.match(address):
            raise _error(file, force_id, f"contacts.{role}", f"{address!r} is not an email address")
        if address.split("@", 1)[1] not in domains:
            raise _error(file, force_id, f"contacts.{role}", f"{address} is outside the force's email domains {domains}")


def _render(template: str, force_id: str) -> str:
    return template.format(force_id=force_id, force_compact=force_id.replace("-", ""),
                           force_key=force_id.replace("-", "_"))


def _display_name(force_id: str) -> str:
    """'avon-and-somerset' -> 'Avon and Somerset': a readable name for forces not listed."""
    words = force_id.split("-")
    return " ".join(w if (i and w in _SMALL_WORDS) else w.capitalize() for i, w in enumerate(words))


def _default_force(force_id: str, defaults: Mapping[str, Any]) -> ForceConfig:
    """A force not listed in the registry, configured from the defaults block."""
    if not _FORCE_ID.match(force_id):
        raise RegistryError(f"force {force_id!r}: not a police.uk force id such as 'avon-and-somerset'")
    delivery = defaults["delivery"]
    postgres = defaults["postgres"] if delivery == "postgres" else {}
    return ForceConfig(
        force_id=force_id,
        name=_display_name(force_id),
        dialect=dialect_for_unlisted(force_id, list(defaults["dialects"])),
        delivery=delivery,
        conn_id=_render(postgres["conn_id"], force_id) if postgres.get("conn_id") else None,
        schema=_render(postgres["schema"], force_id) if postgres.get("schema") else None,
        mandatory_feeds=tuple(defaults["mandatory_feeds"]),
        email_domains=(_render(defaults["email_domain"], force_id),),
        contacts=MappingProxyType({role: _render(address, force_id) for role, address in defaults["contacts"].items()}),
        listed=False,
    )
