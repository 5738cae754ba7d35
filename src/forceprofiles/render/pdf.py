"""HTML to PDF: Jinja2 templates (autoescaped, strict) rendered by WeasyPrint, deterministically.

Why these settings:
- ``autoescape=True``: record text (names, descriptions, addresses) is data, never markup, so
  ``<script>`` or ``<img src=file:///etc/passwd>`` in a record prints as those characters.
- ``StrictUndefined``: a template asking for a figure the context lacks fails the render
  rather than printing an empty cell that reads as "none".
- the :class:`~forceprofiles.render.fetcher.AssetFetcher`: WeasyPrint reads only the
  template assets and this render's own charts.
- PDF/UA-1 (``pdf_variant='pdf/ua-1'``): tagged for screen readers, with title and language;
  the creation and modification dates are fixed to the as-at moment (``dcterms.created``
  meta), so the same inputs give the same bytes; so are the embedded font subsets' own
  timestamps (fontTools stamps each subset with the time it was made unless
  ``SOURCE_DATE_EPOCH`` is set, which made two renders a second apart differ).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from forceprofiles import settings
from forceprofiles.render import narrative
from forceprofiles.render.fetcher import AssetFetcher

PDF_VARIANT = "pdf/ua-1"


def templates_dir() -> Path:
    """``<home>/report_templates`` (templates, CSS and assets)."""
    return settings.project_home() / "report_templates"


@lru_cache(maxsize=4)
def environment(root: str) -> Environment:
    """The Jinja2 environment: autoescaped, strict, with the number filters the templates use."""
    env = Environment(loader=FileSystemLoader(root), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update({"int": narrative.fmt_int, "pct": narrative.fmt_pct, "days": narrative.fmt_days,
                        "num1": lambda v: f"{narrative.num(v):,.1f}",
                        "date": lambda v: str(v)[:10] if v else "–",
                        "dash": lambda v: "–" if v is None or (isinstance(v, str) and not v.strip()) else v,
                        "semis": lambda v: ", ".join(p.strip() for p in str(v or "").split(";") if p.strip()) or "–"})
    return env


@dataclass
class Rendered:
    """A rendered product: the PDF bytes, its page count and what WeasyPrint asked to fetch."""

    pdf: bytes
    pages: int
    fetched: list[str]
    refused: list[str]


def figure_uris(context: dict[str, Any]) -> list[str]:
    """The data: URIs of this render's own charts (the only data: URIs the fetcher will serve)."""
    return [f["uri"] for f in (context.get("figures") or {}).values()]


# The font subsets' timestamp (fontTools reads SOURCE_DATE_EPOCH, the reproducible-builds
# convention): a fixed moment, 2026-11-01 00:00 UTC, as the fixed document dates are one.
FONT_TIMESTAMP_EPOCH = "1793491200"


@contextmanager
def _fixed_font_timestamps() -> Iterator[None]:
    """SOURCE_DATE_EPOCH fixed while WeasyPrint subsets fonts (an existing setting is kept)."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    if previous is None:
        os.environ["SOURCE_DATE_EPOCH"] = FONT_TIMESTAMP_EPOCH
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


def render_html(template: str, context: dict[str, Any], root: Path | None = None) -> str:
    """The product's HTML from its template and context."""
    return environment(str(root or templates_dir())).get_template(template).render(**context)


def render_pdf(template: str, context: dict[str, Any], root: Path | None = None) -> Rendered:
    """Render the product to PDF bytes (deterministic for the same context and assets)."""
    root = Path(root or templates_dir()).resolve()
    html = render_html(template, context, root)
    fetcher = AssetFetcher(root, figure_uris(context))
    from weasyprint import HTML

    with _fixed_font_timestamps():
        document = HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=fetcher).render(
            pdf_variant=PDF_VARIANT, pdf_tags=True)
        pdf = document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True)
    return Rendered(pdf=pdf, pages=len(document.pages), fetched=list(fetcher.calls), refused=list(fetcher.refused))
