"""Stage 4, render: the monthly PDF products (VAWG and missing persons, strategic and tactical).

One module per job: ``products`` (the product definitions in ``profiles/products.yml``),
``data`` (read-only warehouse queries), ``narrative`` (sentences computed from the data),
``options`` (the proportionate-options rules), ``charts`` and ``maps`` (deterministic SVG),
``context`` (assembling a template's context), ``fetcher`` (the only door WeasyPrint gets to
files and URLs), ``pdf`` (Jinja2 + WeasyPrint), ``manifest`` (sidecars and the month manifest)
and ``api`` (``render_product`` / ``render_month``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ForceHeldError", "render_month", "render_product"]


def __getattr__(name: str) -> Any:
    """Import the API lazily, so importing the package does not load WeasyPrint."""
    if name in __all__:
        from forceprofiles.render import api

        return getattr(api, name)
    raise AttributeError(name)
