"""Who receives which product: ``profiles/recipients.yml``, validated before anything is sent.

Need-to-know (DESIGN.md): recipients are configured per force, product and kind, and a
tactical product of one force never goes to another force's people. This module turns the
YAML into :class:`RecipientConfig` and refuses, with a :class:`RecipientConfigError` that names
the file, force, group and address, any configuration that could disclose a product to the
wrong people:

- an address outside its force's ``email_domains`` (strategic products may also go to the
  ``regional_domains`` of the regional unit; tactical products never);
- an address on another force's domain, whatever the group receives;
- an unknown force, product or kind, a group receiving nothing, a duplicate address in a
  group, the same address receiving the same product through two groups, a duplicate YAML key
  (which plain YAML would silently overwrite), a domain claimed by two forces;
- a missing or malformed secret name (the password itself never lives in this file).

All problems are collected and reported together, so one edit can fix them all.
:func:`check_route` repeats the tactical rule at send time, so even a configuration object
built without this loader cannot send a tactical product outside its force.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from forceprofiles.dialects import find_profiles_dir

KINDS = ("strategic", "tactical")
# The products of profiles/products.yml; used when that file is absent (tests, a bare package).
DEFAULT_PRODUCTS: dict[str, str] = {
    "vawg-strategic": "strategic", "vawg-tactical": "tactical",
    "missing-strategic": "strategic", "missing-tactical": "tactical",
}
TOP_KEYS = ("version", "sender", "regional_domains", "forces")
FORCE_KEYS = ("email_domains", "groups")
GROUP_KEYS = ("products", "kinds", "secret", "addresses")

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@(?P<domain>([a-z0-9-]+\.)+[a-z]{2,})$")
_DOMAIN = re.compile(r"^([a-z0-9-]+\.)+[a-z]{2,}$")
_SECRET = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
_GROUP = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


class RecipientConfigError(ValueError):
    """The recipients file would send a product to the wrong people (or is malformed)."""


@dataclass(frozen=True)
class Group:
    """One recipient group of a force: who, what they receive, and their password's name."""

    force_id: str
    name: str
    products: frozenset[str]
    secret: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class RecipientConfig:
    """The validated recipients file."""

    path: Path
    version: str
    sender: str
    regional_domains: tuple[str, ...]
    force_domains: Mapping[str, tuple[str, ...]]
    groups: Mapping[str, tuple[Group, ...]]
    product_kinds: Mapping[str, str]

    def groups_for(self, force_id: str, product: str) -> list[Group]:
        """The groups of ``force_id`` that receive ``product`` (empty if none or unknown force)."""
        return [g for g in self.groups.get(force_id, ()) if product in g.products]

    def all_groups(self) -> list[Group]:
        """Every group of every force (for checking that each one has a secret)."""
        return [g for groups in self.groups.values() for g in groups]


def default_recipients_path() -> Path:
    """``profiles/recipients.yml`` (``FORCEPROFILES_HOME`` honoured)."""
    return find_profiles_dir() / "recipients.yml"


@lru_cache(maxsize=4)
def _products_yaml(path: Path, mtime_ns: int) -> Any:
    """``profiles/products.yml`` parsed once per file version (it is read for every product sent)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def _products_file(profiles_dir: Path | None) -> Any:
    path = ((profiles_dir or find_profiles_dir()) / "products.yml").resolve()
    try:
        return _products_yaml(path, path.stat().st_mtime_ns)
    except (FileNotFoundError, OSError):
        return None


def product_kinds(profiles_dir: Path | None = None) -> dict[str, str]:
    """Product id -> kind, from ``profiles/products.yml`` (else the four standard products)."""
    raw = _products_file(profiles_dir)
    products = raw.get("products") if isinstance(raw, dict) else None
    if isinstance(products, dict) and products:
        return {str(pid): str(spec.get("kind")) for pid, spec in products.items() if isinstance(spec, dict)}
    return dict(DEFAULT_PRODUCTS)


def handling_caveat(product: str, profiles_dir: Path | None = None) -> str | None:
    """The product's handling caveat from ``profiles/products.yml`` (None if not configured)."""
    raw = _products_file(profiles_dir)
    if not isinstance(raw, dict):
        return None
    spec = (raw.get("products") or {}).get(product) or {}
    caveat = spec.get("handling_caveat") or (raw.get("defaults") or {}).get("handling_caveat")
    return " ".join(str(caveat).split()) if caveat else None


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that rejects duplicate keys (plain YAML keeps the last one silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise RecipientConfigError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_recipients(path: Path | None = None, *, known_forces: Iterable[str] | None = None,
                    products: Mapping[str, str] | None = None) -> RecipientConfig:
    """Load and validate the recipients file; raise :class:`RecipientConfigError` listing every problem.

    ``known_forces`` defaults to the 43 police.uk force ids of the reference data and
    ``products`` (id -> kind) to ``profiles/products.yml``.
    """
    path = Path(path) if path else default_recipients_path()
    if not path.is_file():
        raise RecipientConfigError(f"{path}: recipients file not found")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except RecipientConfigError as error:
        raise RecipientConfigError(f"{path.name}: {error}") from None
    except yaml.YAMLError as error:
        raise RecipientConfigError(f"{path.name}: not valid YAML: {error}") from None
    if known_forces is None:
        from forceprofiles import reference

        known_forces = reference.forces()["force_id"]
    return parse_recipients(raw, path=path, known_forces=set(known_forces), products=products or product_kinds())


def parse_recipients(raw: Any, *, path: Path, known_forces: set[str], products: Mapping[str, str]) -> RecipientConfig:
    """Validate an already-parsed recipients mapping (see :func:`load_recipients`)."""
    problems: list[str] = []
    file = path.name

    def problem(where: str, message: str) -> None:
        problems.append(f"{file}: {where}: {message}")

    if not isinstance(raw, dict) or not isinstance(raw.get("forces"), dict):
        raise RecipientConfigError(f"{file}: expected a mapping with a 'forces:' block")
    for key in sorted(set(raw) - set(TOP_KEYS)):
        problem("top level", f"unknown field {key!r} (allowed: {', '.join(TOP_KEYS)})")
    version = str(raw.get("version") or "")
    if not version:
        problem("top level", "'version' is required")
    sender = str(raw.get("sender") or "")
    if not _EMAIL.match(sender):
        problem("top level", f"sender {sender!r} is not an email address")
    regional = _domains(raw.get("regional_domains", []), "regional_domains", problem)

    force_domains: dict[str, tuple[str, ...]] = {}
    for force_id, spec in raw["forces"].items():
        where = f"force {force_id!r}"
        if force_id not in known_forces:
            problem(where, "unknown force (not a police.uk force id)")
        if not isinstance(spec, dict):
            problem(where, "expected email_domains and groups")
            continue
        force_domains[str(force_id)] = _domains(spec.get("email_domains"), f"{where}: email_domains", problem,
                                                required=True)
    owner: dict[str, str] = {}
    for force_id, domains in force_domains.items():
        for domain in domains:
            if domain in owner:
                problem(f"force {force_id!r}", f"email domain {domain} is also a domain of force {owner[domain]!r}")
            elif domain in regional:
                problem(f"force {force_id!r}", f"email domain {domain} is also a regional domain")
            owner.setdefault(domain, force_id)

    groups: dict[str, tuple[Group, ...]] = {}
    for force_id, spec in raw["forces"].items():
        if not isinstance(spec, dict):
            continue
        for key in sorted(set(spec) - set(FORCE_KEYS)):
            problem(f"force {force_id!r}", f"unknown field {key!r} (allowed: {', '.join(FORCE_KEYS)})")
        raw_groups = spec.get("groups")
        if not isinstance(raw_groups, dict) or not raw_groups:
            problem(f"force {force_id!r}", "needs at least one group under 'groups'")
            continue
        parsed = [_group(str(force_id), str(name), g, products, force_domains.get(str(force_id), ()), regional,
                         owner, problem) for name, g in raw_groups.items()]
        groups[str(force_id)] = tuple(g for g in parsed if g is not None)
        _check_duplicate_routes(str(force_id), groups[str(force_id)], problem)

    if problems:
        raise RecipientConfigError("recipients configuration refused (nothing was sent):\n  "
                                   + "\n  ".join(problems))
    return RecipientConfig(path=path, version=version, sender=sender, regional_domains=regional,
                           force_domains=force_domains, groups=groups, product_kinds=dict(products))


def _domains(raw: Any, where: str, problem: Any, required: bool = False) -> tuple[str, ...]:
    if raw is None or raw == []:
        if required:
            problem(where, "at least one domain is required")
        return ()
    if not isinstance(raw, list):
        problem(where, f"expected a list of domains, got {raw!r}")
        return ()
    bad = [d for d in raw if not isinstance(d, str) or not _DOMAIN.match(d)]
    for domain in bad:
        problem(where, f"{domain!r} is not a lower-case mail domain")
    return tuple(d for d in raw if d not in bad)


def _group(force_id: str, name: str, spec: Any, products: Mapping[str, str], own: tuple[str, ...],
           regional: tuple[str, ...], owner: Mapping[str, str], problem: Any) -> Group | None:
    where = f"force {force_id!r}: group {name!r}"
    if not _GROUP.match(name):
        problem(where, "a group name is lower case letters, digits and hyphens")
    if not isinstance(spec, dict):
        problem(where, "expected products/kinds, secret and addresses")
        return None
    for key in sorted(set(spec) - set(GROUP_KEYS)):
        problem(where, f"unknown field {key!r} (allowed: {', '.join(GROUP_KEYS)})")
    wanted: set[str] = set()
    for product in _list(spec.get("products"), f"{where}: products", problem):
        if product in products:
            wanted.add(product)
        else:
            problem(where, f"unknown product {product!r} (products: {', '.join(sorted(products))})")
    for kind in _list(spec.get("kinds"), f"{where}: kinds", problem):
        if kind in KINDS:
            wanted |= {p for p, k in products.items() if k == kind}
        else:
            problem(where, f"unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
    if not wanted:
        problem(where, "receives no product (give 'products' or 'kinds')")
    secret = spec.get("secret")
    if not isinstance(secret, str) or not _SECRET.match(secret):
        problem(where, f"secret {secret!r} must be the NAME of a secret (lower case, digits, underscores), "
                       "never the password")
    addresses = _list(spec.get("addresses"), f"{where}: addresses", problem)
    if not addresses:
        problem(where, "has no addresses")
    tactical = sorted(p for p in wanted if products.get(p) == "tactical")
    seen: set[str] = set()
    for address in addresses:
        at = f"{where}: address {address}"
        match = _EMAIL.match(address)
        if not match:
            problem(at, "is not an email address")
            continue
        if address.lower() in seen:
            problem(at, "is listed twice in the group")
        seen.add(address.lower())
        domain = match.group("domain")
        if domain in own:
            continue
        if domain in owner:
            problem(at, f"is on force {owner[domain]!r}'s domain {domain}: a product of {force_id!r} "
                        f"never goes to another force's people")
        elif domain in regional:
            if tactical:
                problem(at, f"is a regional address, but tactical products ({', '.join(tactical)}) only go to "
                            f"the force's own domains {list(own)}")
        else:
            problem(at, f"is outside the force's email domains {list(own)}"
                        + (f" and the regional domains {list(regional)}" if regional else ""))
    return Group(force_id=force_id, name=name, products=frozenset(wanted), secret=str(secret),
                 addresses=tuple(addresses))


def _list(raw: Any, where: str, problem: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        problem(where, f"expected a list of strings, got {raw!r}")
        return []
    return list(raw)


def _check_duplicate_routes(force_id: str, groups: tuple[Group, ...], problem: Any) -> None:
    """The same address receiving the same product through two groups would get it twice."""
    first: dict[tuple[str, str], str] = {}
    for group in groups:
        for address in group.addresses:
            for product in sorted(group.products):
                key = (address.lower(), product)
                if key in first and first[key] != group.name:
                    problem(f"force {force_id!r}: group {group.name!r}: address {address}",
                            f"duplicate: also receives {product} through group {first[key]!r}")
                first.setdefault(key, group.name)


def check_route(config: RecipientConfig, force_id: str, product: str, address: str) -> None:
    """Refuse, at send time, any address that may not receive this force's product.

    Repeats the loader's rules for one (force, product, address) so that a tactical product
    can never leave its force, even if the configuration object was built some other way.
    """
    domain = address.rsplit("@", 1)[-1].lower()
    own = config.force_domains.get(force_id, ())
    kind = config.product_kinds.get(product)
    if kind is None:
        raise RecipientConfigError(f"{config.path.name}: force {force_id!r}: unknown product {product!r}")
    if domain in own:
        return
    if kind == "strategic" and domain in config.regional_domains:
        return
    raise RecipientConfigError(f"{config.path.name}: force {force_id!r}: address {address}: may not receive "
                               f"{kind} product {product} (domain {domain} is not one of the force's "
                               f"{list(own)}{' or the regional domains' if kind == 'strategic' else ''})")
