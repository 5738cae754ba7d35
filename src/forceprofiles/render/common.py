"""What every product carries whatever its kind: identity, reference, data-quality caveats and
the methodology appendix (scoring stated exactly, linkage thresholds, fairness figures).

Why shared: the methodology and caveats must say the same thing in all four products of a
month; computing them in one place makes that true by construction.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
from functools import lru_cache
from typing import Any

import duckdb

from forceprofiles import reference, settings
from forceprofiles.render import data, narrative
from forceprofiles.render.products import Product
from forceprofiles.scoring_config import load_scoring_config

SECTION_TITLES = {
    "summary": "Summary", "trend": "Trend", "offence_mix": "Offence mix: harm as well as count",
    "places": "Where harm concentrates", "victims": "Victims", "cross_force": "Offending across force borders",
    "comparison": "How the force compares", "police_uk": "The public picture (police.uk)",
    "data_quality": "Data quality caveats", "methodology": "Methodology", "ranked_list": "The ranked list",
    "subjects": "Subjects: score cards, reasons and options", "risk": "Risk grades",
    "exploitation": "Exploitation indicators", "children": "Children at greatest risk",
    "persons_of_concern": "Persons of concern", "locations": "Locations of concern",
    "ocg_candidates": "Networks and OCG candidates",
}
FEED_LABELS = {"crime": "crime", "intelligence": "intelligence", "custody": "custody", "missing": "missing persons",
               "visor": "ViSOR"}


@lru_cache(maxsize=64)
def force_name(force_id: str) -> str:
    """The force's display name: the registry's, else police.uk's, else the id."""
    try:
        from forceprofiles.registry import force_config

        return force_config(force_id).name
    except Exception:  # noqa: BLE001 - an unknown force still gets a readable label
        found = reference.forces().query("force_id == @force_id")
        return str(found["force_name"].iloc[0]) if len(found) else force_id


def force_population(force_id: str) -> float | None:
    """Resident population (mid-2019, DOMAIN.md) for rates per 1,000."""
    found = reference.forces().query("force_id == @force_id")
    return float(found["population"].iloc[0]) if len(found) else None


def header(product: Product, month: str, force_id: str) -> dict[str, Any]:
    """Title, reference, marking and caveat: the running header and footer of every page."""
    name = force_name(force_id)
    return {
        "product": {"id": product.id, "title": product.title, "version": product.version, "kind": product.kind,
                    "profile": product.profile, "marking": product.marking, "language": product.language,
                    "handling_caveat": product.handling_caveat, "originator": product.originator,
                    "sections": [{"id": s, "title": SECTION_TITLES.get(s, s.replace("_", " ").capitalize())}
                                 for s in product.sections]},
        "force": {"id": force_id, "name": name},
        "month": month,
        "month_label": narrative.month_label(month),
        "reference": f"{name} / {product.id} / {month} / v{product.version}",
        "document_title": f"{product.title}: {name}, {narrative.month_label(month)}",
        "created": created_timestamp(month),
    }


def title_trend_section(ctx: dict[str, Any], months: list[str]) -> None:
    """Name the trend section after the span it charts ("Trend over 14 months").

    The span is only known once the trend is read: it starts at the first month the warehouse
    holds (data.since_first_loaded), so a new lake's product must not promise 36 months."""
    title = f"Trend over {len(months)} month{'s' if len(months) != 1 else ''}" if months else "Trend"
    for section in ctx["product"]["sections"]:
        if section["id"] == "trend":
            section["title"] = title


def created_timestamp(month: str) -> str:
    """The PDF's fixed creation date: the first instant after the report month (UTC).

    Why fixed: the same inputs must give the same bytes; the as-at moment is the honest date
    of the content, whenever the render happens to run.
    """
    year, mon = (int(p) for p in month.split("-"))
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return f"{year:04d}-{mon:02d}-01T00:00:00Z"


def data_quality(con: duckdb.DuckDBPyConnection, month: str, force_id: str) -> dict[str, Any]:
    """Held forces and this force's quarantined or failed partitions, as caveat sentences."""
    held = data.held_elsewhere(con, month)
    rows = data.feed_caveats(con, month, force_id)
    sentences: list[str] = []
    if held:
        names = ", ".join(force_name(h["force_id"]) for h in held)
        sentences.append(f"Held this month (their records are not in the cross-force figures): {names}.")
    quarantined = sum(int(r["rows_quarantined"] or 0) for r in rows)
    read = sum(int(r["rows_read"] or 0) for r in rows)
    if quarantined:
        feeds = sorted({FEED_LABELS.get(r["feed"], r["feed"]) for r in rows if (r["rows_quarantined"] or 0) > 0})
        sentences.append(f"{narrative.fmt_int(quarantined)} of {narrative.fmt_int(read)} rows in the affected "
                         f"deliveries were quarantined in the last 12 months ({', '.join(feeds)}); figures "
                         f"exclude them until the force resubmits.")
    failed = [r for r in rows if not str(r["validation_status"] or "").startswith("passed")]
    if failed:
        sentences.append(f"{narrative.plural(len(failed), 'delivery', 'deliveries')} failed validation or "
                         "did not arrive in the last 12 months (listed below).")
    if not sentences:
        sentences.append("Every delivery of the last 12 months arrived, passed validation and was loaded in full.")
    return {"sentences": sentences, "rows": rows, "held": held}


def flatten(config: Any, prefix: str = "") -> list[dict[str, str]]:
    """A nested scoring config as (setting, value) rows: the methodology states it exactly."""
    out: list[dict[str, str]] = []
    if isinstance(config, dict):
        for key, value in config.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], dict)):
                out.extend(flatten(value, path))
            else:
                out.append({"setting": path, "value": _value(value)})
    elif isinstance(config, list):
        for i, value in enumerate(config):
            out.extend(flatten(value, f"{prefix}[{i}]"))
    else:
        out.append({"setting": prefix, "value": _value(config)})
    return out


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@lru_cache(maxsize=1)
def _person_model() -> tuple[dict[str, Any], float]:
    """The person-resolution model artefact and the warehouse's match threshold (read once)."""
    from forceprofiles import linkage, warehouse_resolution

    path = settings.project_home() / "profiles" / linkage.MODEL_FILE
    model = json.loads(path.read_text(encoding="utf-8"))
    threshold = inspect.signature(warehouse_resolution.resolve_persons_in_warehouse).parameters["threshold"].default
    return model, threshold


def linkage_method(con: duckdb.DuckDBPyConnection | None = None) -> dict[str, Any]:
    """The person-resolution model's version, match threshold and evidence weights.

    With a warehouse whose build recorded its settings (``main.person_resolution_settings``),
    ``build`` holds this month's table: its records, prior and forces, and the "same force"
    level's u and weight are this table's, not the training table's."""
    from forceprofiles.linkage import force_levels

    model, threshold = _person_model()
    build = _resolution_settings(con) if con is not None else {}
    splink_settings = model["splink_settings"]
    if build.get("force_same_u") is not None:  # the u the build used (linkage.settings_for_table)
        splink_settings = copy.deepcopy(splink_settings)
        same, other = force_levels(splink_settings)
        same["u_probability"], other["u_probability"] = build["force_same_u"], 1.0 - build["force_same_u"]
    levels = []
    for comparison in splink_settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            levels.append({"field": comparison["output_column_name"], "level": level["label_for_charts"],
                           "m": m, "u": u, "weight": weight})
    return {"version": model.get("version"), "threshold": threshold,
            "prior": model["splink_settings"].get("probability_two_random_records_match"),
            "prior_records": model["training"]["records"],
            "blocking": len(model["splink_settings"].get("blocking_rules_to_generate_predictions", [])),
            "training": model.get("training", {}).get("data", ""), "levels": levels, "build": build}


def _resolution_settings(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """This build's row of ``main.person_resolution_settings`` ({} when the build did not write one)."""
    if "person_resolution_settings" not in data.tables(con):
        return {}
    return data.one(con, "select records, forces, prior, force_same_u from main.person_resolution_settings")


def methodology(con: duckdb.DuckDBPyConnection, product: Product, month: str, force_id: str) -> dict[str, Any]:
    """The appendix: scoring settings (from profiles/), linkage thresholds, fairness table."""
    scoring = load_scoring_config(product.profile)
    extra = load_scoring_config("networks") if product.profile == "missing_persons" else None
    if product.profile == "vawg":
        fairness_table, fairness_order = "fct_vawg_fairness", "dimension, group_value"
    else:
        # two lists (children at risk, persons of concern): one block per list, not interleaved
        fairness_table, fairness_order = "fct_missing_fairness", "subject_type, dimension, group_value"
    fairness = data.for_force(con, fairness_table, month, force_id, fairness_order)
    return {
        "scoring_file": f"profiles/{product.profile}.yml",
        "scoring_version": str(scoring.get("version")),
        "scoring": [r for r in flatten(scoring) if r["setting"] != "version"],
        "networks_version": str(extra.get("version")) if extra else None,
        "networks": [r for r in flatten(extra) if r["setting"] != "version"] if extra else [],
        "linkage": linkage_method(con),
        "fairness": fairness,
        "fairness_table": fairness_table,
    }
