"""The only door WeasyPrint gets to files and URLs.

Why: a product is built from records that anyone can type into a police system. Autoescaping
makes hostile text inert, and this fetcher is the second wall: it serves only the project's
own assets (files under ``report_templates/``) and the data: URIs of charts this render made,
and refuses everything else (file:// elsewhere, http(s)://, ftp://, unknown data: URIs). A
refusal raises an ordinary exception, which WeasyPrint turns into a warning and a missing
image: it never crashes the render and never touches the network.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2",
          ".woff": "font/woff", ".ttf": "font/ttf", ".otf": "font/otf"}


class RefusedURL(ValueError):
    """The fetcher refused a URL (outside the assets, or a data: URI it did not make)."""


class AssetFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves the template assets and registered data: URIs only.

    ``calls`` records every URL WeasyPrint asked for and ``refused`` the ones it refused, so
    tests (and an auditor) can see exactly what a render tried to read.
    """

    def __init__(self, assets_root: Path, data_uris: Iterable[str] = ()) -> None:
        super().__init__(allowed_protocols=("file", "data"), fail_on_errors=False)
        self.assets_root = Path(assets_root).resolve()
        self._data_uris = set(data_uris)
        self.calls: list[str] = []
        self.refused: list[str] = []

    def allow_data_uri(self, uri: str) -> None:
        """Register a data: URI this render produced (a chart or a map)."""
        self._data_uris.add(uri)

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:  # noqa: D102 - see class
        self.calls.append(url)
        if url.startswith("data:"):
            if url not in self._data_uris:
                return self._refuse(url, "a data: URI this render did not make")
            return self._data(url)
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return self._refuse(url, "not a local asset")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.assets_root) or not path.is_file():
            return self._refuse(url, "outside report_templates/")
        mime = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers_out = {"Content-Type": mime}
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), headers_out)

    def _data(self, url: str) -> URLFetcherResponse:
        header, _, payload = url[5:].partition(",")
        mime = header.split(";")[0] or "text/plain"
        body = base64.b64decode(payload) if header.endswith(";base64") else unquote(payload).encode("utf-8")
        return URLFetcherResponse(url, body, {"Content-Type": mime})

    def _refuse(self, url: str, reason: str) -> URLFetcherResponse:
        self.refused.append(url)
        # Only the scheme and length: a hostile URL may carry record content.
        log.warning("render: refused a %s URL (%d chars): %s", urlsplit(url).scheme or "relative", len(url), reason)
        raise RefusedURL(f"refused ({reason})")
