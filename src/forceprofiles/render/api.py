"""``render_product`` and ``render_month``: the render stage as plain functions.

Why plain functions: the Airflow DAG maps ``render_product`` over (force, product) pairs, the
CLI loops over them, and tests call them directly; all three get the same files. Both are
idempotent: rendering the same warehouse again rewrites identical bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from forceprofiles.render import context_missing, context_vawg, data, manifest, narrative
from forceprofiles.render.pdf import render_pdf
from forceprofiles.render.products import PRODUCT_IDS, Product, load_product

log = logging.getLogger(__name__)

BUILDERS: dict[tuple[str, str], Callable[..., dict[str, Any]]] = {
    ("vawg", "strategic"): context_vawg.strategic,
    ("vawg", "tactical"): context_vawg.tactical,
    ("missing_persons", "strategic"): context_missing.strategic,
    ("missing_persons", "tactical"): context_missing.tactical,
}


class ForceHeldError(RuntimeError):
    """The force is held this month (a mandatory feed late, unreadable or failed): no products."""


def build_context(con: Any, product: Product, month: str, force_id: str) -> dict[str, Any]:
    """The template context of one product from an open read-only connection."""
    data.require_marts(con, product.marts)
    return BUILDERS[(product.profile, product.kind)](con, product, month, force_id)


def changes_sentence(product: Product, context: dict[str, Any]) -> str:
    """One sentence on what changed since last month (for the sidecar and the covering email)."""
    if product.id == "vawg-tactical":
        return narrative.rank_movement(context["movement"], context["left"])
    if product.kind == "tactical":
        return context["key_points"][0]
    return context["key_points"][1]


def render_product(warehouse: Path, month: str, force_id: str, product: str, out_root: Path) -> dict[str, Any]:
    """Render one product for one force and month; write the PDF and its sidecar; return the sidecar.

    Raises :class:`ForceHeldError` when the force is held that month, and
    :class:`~forceprofiles.render.data.MissingMartError` when the warehouse lacks a mart.
    """
    definition = load_product(product)
    with data.connect(Path(warehouse)) as con:
        data.require_marts(con, definition.marts)
        held = data.held_forces(con, month)
        if force_id in held:
            raise ForceHeldError(f"{force_id} is held for {month}: {held[force_id]}")
        context = build_context(con, definition, month, force_id)
        inputs = data.input_counts(con, definition.marts, month, force_id)
    rendered = render_pdf(definition.template, context)
    pdf_path, sidecar_path = manifest.product_paths(Path(out_root), month, force_id, product)
    manifest.write_atomic(pdf_path, rendered.pdf)
    sidecar = {
        "month": month, "force_id": force_id, "product": product, "profile": definition.profile,
        "kind": definition.kind, "title": context["document_title"], "version": definition.version,
        "path": pdf_path.relative_to(Path(out_root)).as_posix(), "sha256": manifest.sha256(rendered.pdf),
        "pages": rendered.pages, "bytes": len(rendered.pdf),
        "inputs": {"warehouse": Path(warehouse).name, "marts": inputs,
                   "scoring_version": context["methodology"]["scoring_version"],
                   "linkage_model_version": context["methodology"]["linkage"]["version"]},
        "changes": changes_sentence(definition, context),
    }
    manifest.write_json(sidecar_path, sidecar)
    log.info("render: %s %s %s: %d pages", month, force_id, product, rendered.pages)
    return sidecar


def render_month(warehouse: Path, month: str, forces: Iterable[str], products: Iterable[str] | None,
                 out_root: Path, on_done: Callable[[str, str], None] | None = None) -> dict[str, Any]:
    """Render every (force, product) of a month, skip held forces with the reason, write the manifest."""
    wanted = list(products or PRODUCT_IDS)
    forces = list(forces)
    with data.connect(Path(warehouse)) as con:
        held = data.held_forces(con, month)
    skipped: list[dict[str, str]] = []
    for force_id in forces:
        for product in wanted:
            if force_id in held:
                skipped.append({"force_id": force_id, "product": product, "reason": f"force held: {held[force_id]}"})
                for stale in manifest.product_paths(Path(out_root), month, force_id, product):
                    stale.unlink(missing_ok=True)  # a rerun replaces the month: no product from before the hold
            else:
                render_product(warehouse, month, force_id, product, out_root)
            if on_done:
                on_done(force_id, product)
    return manifest.month_manifest(Path(out_root), month, skipped)
