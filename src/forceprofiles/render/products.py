"""The product definitions (``profiles/products.yml``): loaded once, validated as a whole.

Why: a force tunes a product (sections, list size, caveat, options rules) by editing YAML, so a
bad edit must fail before any PDF is rendered, with the product and field named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from forceprofiles import settings

PRODUCT_IDS: tuple[str, ...] = ("vawg-strategic", "vawg-tactical", "missing-strategic", "missing-tactical")
KINDS = ("strategic", "tactical")
PROFILES = ("vawg", "missing_persons")
OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains_any", "not_null", "is_null", "is_true", "is_false")
_REQUIRED = ("title", "profile", "kind", "template", "version", "marts", "sections")


class ProductConfigError(ValueError):
    """``profiles/products.yml`` is malformed; the message names the product and field."""


@dataclass(frozen=True)
class OptionRule:
    """A proportionate option offered when every condition holds (a prompt, not an instruction)."""

    id: str
    applies_to: str
    label: str
    why: str
    when: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Product:
    """One product: what it is, what it reads and how it is laid out."""

    id: str
    title: str
    profile: str
    kind: str
    template: str
    version: str
    marts: tuple[str, ...]
    sections: tuple[str, ...]
    handling_caveat: str
    marking: str
    language: str
    originator: str
    list_size: int | None = None
    options: tuple[OptionRule, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, hash=False)

    def setting(self, name: str, default: Any) -> Any:
        """A product-specific number such as ``top_places`` (default when not configured)."""
        return self.extra.get(name, default)


def products_path() -> Path:
    """``<home>/profiles/products.yml``."""
    return settings.project_home() / "profiles" / "products.yml"


def load_products(path: Path | None = None) -> dict[str, Product]:
    """Every product in the file, by id, validated; raises :class:`ProductConfigError`."""
    path = Path(path or products_path())
    if not path.is_file():
        raise ProductConfigError(f"{path}: product definitions not found")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("products"), dict):
        raise ProductConfigError(f"{path}: expected a mapping with 'products'")
    defaults = raw.get("defaults") or {}
    out: dict[str, Product] = {}
    for pid, spec in raw["products"].items():
        out[pid] = _product(path, pid, spec or {}, defaults)
    missing = [p for p in PRODUCT_IDS if p not in out]
    if missing:
        raise ProductConfigError(f"{path}: products missing: {', '.join(missing)}")
    return out


def load_product(product_id: str, path: Path | None = None) -> Product:
    """One product by id (``vawg-strategic`` ...); unknown ids fail loudly."""
    products = load_products(path)
    if product_id not in products:
        raise ProductConfigError(f"unknown product {product_id!r}; expected one of {', '.join(products)}")
    return products[product_id]


def _product(path: Path, pid: str, spec: dict[str, Any], defaults: dict[str, Any]) -> Product:
    where = f"{path}: product {pid!r}"
    for key in _REQUIRED:
        if key not in spec:
            raise ProductConfigError(f"{where}: missing {key!r}")
    if spec["kind"] not in KINDS:
        raise ProductConfigError(f"{where}: kind must be one of {KINDS}")
    if spec["profile"] not in PROFILES:
        raise ProductConfigError(f"{where}: profile must be one of {PROFILES}")
    if not spec["marts"] or not all(isinstance(m, str) and m.isidentifier() for m in spec["marts"]):
        raise ProductConfigError(f"{where}: marts must be a non-empty list of table names")
    list_size = spec.get("list_size")
    if spec["kind"] == "tactical" and (not isinstance(list_size, int) or not 1 <= list_size <= 500):
        raise ProductConfigError(f"{where}: a tactical product needs list_size between 1 and 500")
    caveat = spec.get("handling_caveat", defaults.get("handling_caveat"))
    if not caveat:
        raise ProductConfigError(f"{where}: no handling_caveat (and none in defaults)")
    rules = tuple(_rule(where, i, r) for i, r in enumerate(spec.get("options") or []))
    known = set(_REQUIRED) | {"list_size", "options", "handling_caveat"}
    return Product(
        id=pid, title=str(spec["title"]), profile=spec["profile"], kind=spec["kind"],
        template=str(spec["template"]), version=str(spec["version"]), marts=tuple(spec["marts"]),
        sections=tuple(spec["sections"]), handling_caveat=" ".join(str(caveat).split()),
        marking=str(spec.get("marking", defaults.get("marking", "OFFICIAL-SENSITIVE"))),
        language=str(spec.get("language", defaults.get("language", "en-GB"))),
        originator=str(spec.get("originator", defaults.get("originator", ""))),
        list_size=list_size, options=rules, extra={k: v for k, v in spec.items() if k not in known},
    )


def _rule(where: str, index: int, raw: dict[str, Any]) -> OptionRule:
    for key in ("id", "applies_to", "label", "when"):
        if key not in raw:
            raise ProductConfigError(f"{where}: options[{index}] missing {key!r}")
    conditions = raw["when"]
    if not isinstance(conditions, list) or not conditions:
        raise ProductConfigError(f"{where}: options[{index}] ({raw['id']}): 'when' must be a non-empty list")
    for cond in conditions:
        if not isinstance(cond, dict) or "field" not in cond or cond.get("op") not in OPS:
            raise ProductConfigError(f"{where}: options[{index}] ({raw['id']}): each condition needs "
                                     f"'field' and 'op' in {OPS}")
        if cond["op"] not in ("not_null", "is_null", "is_true", "is_false") and "value" not in cond:
            raise ProductConfigError(f"{where}: options[{index}] ({raw['id']}): op {cond['op']} needs a value")
    return OptionRule(id=str(raw["id"]), applies_to=str(raw["applies_to"]), label=str(raw["label"]),
                      why=str(raw.get("why", "")), when=tuple(conditions))
