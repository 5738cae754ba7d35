"""Proportionate options: which configured rules fire for a subject, place or group.

Why config: the options open to a local team (DOMAIN.md: Clare's Law, DVPN/DAPO, SPO,
SRO/SHPO, MOSOVO, CAWN, return-interview follow-up, MATAC) are a matter of local policy, so
the rules live in ``profiles/products.yml`` and this module only evaluates them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from forceprofiles.render.products import OptionRule


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    return isinstance(value, str) and not value.strip()


def _as_list(value: Any) -> list[str]:
    if _missing(value):
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return [str(v) for v in value]


def condition_holds(record: Mapping[str, Any], condition: Mapping[str, Any]) -> bool:
    """One ``{field, op, value}`` condition against one record; a missing field never matches
    a comparison (so an absent column cannot silently offer an option)."""
    op = condition["op"]
    value = record.get(condition["field"])
    target = condition.get("value")
    if op == "not_null":
        return not _missing(value)
    if op == "is_null":
        return _missing(value)
    if op == "is_true":
        return value is True or value == 1
    if op == "is_false":
        return value is False or value == 0
    if _missing(value):
        return False
    if op == "contains_any":
        return bool(set(_as_list(value)) & {str(t) for t in target})
    if op == "in":
        return value in target
    if op == "eq":
        return value == target
    if op == "ne":
        return value != target
    comparisons = {"gt": value > target, "gte": value >= target, "lt": value < target, "lte": value <= target}
    return bool(comparisons[op])


def options_for(record: Mapping[str, Any], rules: Iterable[OptionRule], applies_to: str) -> list[dict[str, str]]:
    """The options whose every condition holds for ``record``, in configured order."""
    return [{"id": rule.id, "label": rule.label, "why": rule.why}
            for rule in rules
            if rule.applies_to == applies_to and all(condition_holds(record, c) for c in rule.when)]
