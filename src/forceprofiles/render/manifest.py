"""The output contract read by the distribution stage: PDFs, sidecars and the month manifest.

Layout: ``out/<YYYY-MM>/<force>/<product>.pdf`` with ``<product>.json`` beside it, and
``out/<YYYY-MM>/manifest.json`` assembled from the sidecars. Every file is written to a
temporary name in the same folder and moved into place with ``os.replace``, so a reader (or
a retried task) never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def product_paths(out_root: Path, month: str, force_id: str, product: str) -> tuple[Path, Path]:
    """(pdf, sidecar) paths of one product."""
    folder = Path(out_root) / month / force_id
    return folder / f"{product}.pdf", folder / f"{product}.json"


def write_atomic(path: Path, content: bytes) -> None:
    """Write bytes via a temporary file in the same folder, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Stable JSON (sorted keys, UTF-8) written atomically."""
    write_atomic(path, (json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")
                 .encode("utf-8"))


def sha256(content: bytes) -> str:
    """Hex digest of the PDF bytes (the recipient can verify what they got)."""
    return hashlib.sha256(content).hexdigest()


def month_manifest(out_root: Path, month: str, skipped: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Assemble ``out/<month>/manifest.json`` from every sidecar on disk (sorted) and write it."""
    folder = Path(out_root) / month
    sidecars = []
    for path in sorted(folder.glob("*/*.json")):
        sidecars.append(json.loads(path.read_text(encoding="utf-8")))
    sidecars.sort(key=lambda s: (s["force_id"], s["product"]))
    manifest: dict[str, Any] = {"month": month, "products": sidecars, "skipped": sorted(
        skipped or [], key=lambda s: (s.get("force_id", ""), s.get("product", "")))}
    write_json(folder / "manifest.json", manifest)
    return manifest
