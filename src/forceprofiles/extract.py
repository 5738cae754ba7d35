"""Stage 1, extract: one force's feed for one month, from its delivery into the canonical contract.

A force delivers either by file drop (a folder per feed and month) or from its records
system's PostgreSQL database. Extraction keeps an immutable, checksummed copy of what was
delivered (``lake/landing``), undoes the force's dialect, and writes canonical frames to
``lake/staging/<feed>/force=<id>/month=<YYYY-MM>/<entity>.parquet`` for validation. A delivery
that cannot be read at all (wrong encoding, missing columns, a file for another force or
month, an empty or truncated file) is quarantined whole, with a message a data engineer can
act on, and the other forces carry on. Re-running replaces exactly that partition.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from forceprofiles import contract
from forceprofiles.dialects import DecodedExtract, ExtractFileError, load_dialect, read_extract, read_extract_postgres
from forceprofiles.registry import ForceConfig, force_config

log = logging.getLogger(__name__)

WRONG_PARTITION_TOLERANCE = 0.5  # more than half the rows for another force/month: the file is misdelivered


@dataclass
class ExtractResult:
    """What extraction did for one force, feed and month (JSON-serialisable)."""

    force_id: str
    feed: str
    month: str
    status: str  # extracted | missing | failed
    delivery: str
    rows_read: dict[str, int] = field(default_factory=dict)
    files: list[dict[str, object]] = field(default_factory=list)
    file_errors: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def partition(lake_root: Path, zone: str, feed: str, force_id: str, month: str) -> Path:
    """The lake folder of one zone (staging, raw, quarantine) for a force, feed and month."""
    return lake_root / zone / feed / f"force={force_id}" / f"month={month}"


def extract(
    force_id: str,
    feed: str,
    month: str,
    *,
    landing_root: Path,
    lake_root: Path,
    postgres_dsn: str | None = None,
) -> ExtractResult:
    """Extract one force's feed for one month into the staging zone; idempotent."""
    config = force_config(force_id)
    staging = partition(lake_root, "staging", feed, force_id, month)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    result = ExtractResult(force_id, feed, month, "extracted", config.delivery)
    try:
        decoded = _read_delivery(config, feed, month, landing_root, postgres_dsn)
        if decoded is None:
            result.status = "missing"
        else:
            result.rows_read = {entity: len(frame) for entity, frame in decoded.frames.items()}
            misdelivery = _misdelivery(decoded, force_id, feed, month)
            if misdelivery is not None:
                raise misdelivery
            _keep_landing_copy(decoded, lake_root, force_id, feed, month)
            result.files = [asdict(f) for f in decoded.files]
            for entity, frame in decoded.frames.items():
                frame.to_parquet(staging / f"{entity}.parquet", index=False, compression="zstd")
    except ExtractFileError as error:
        # The rows decoded before the problem was found (a misdelivered file) stay counted as
        # read: validation accounts for them as quarantined with the file.
        result.status = "failed"
        result.file_errors.append({"path": str(error.path), "message": error.message})
        _quarantine_file(error, lake_root, force_id, feed, month)
        log.warning("extract %s/%s/%s: delivery quarantined: %s", force_id, feed, month, error.message)
    (staging / "_extract.json").write_text(json.dumps(result.to_json(), indent=1, sort_keys=True, default=str))
    log.info("extract %s/%s/%s: %s %s", force_id, feed, month, result.status, result.rows_read)
    return result


def _read_delivery(config: ForceConfig, feed: str, month: str, landing_root: Path,
                   postgres_dsn: str | None) -> DecodedExtract | None:
    dialect = load_dialect(config.dialect)
    if config.delivery == "postgres" and postgres_dsn:
        return read_extract_postgres(postgres_dsn, config.schema, feed, dialect, month)
    folder = landing_root / config.force_id / feed / month
    if not folder.is_dir() or not any(folder.iterdir()):
        return None
    return read_extract(folder, feed, dialect)


def _misdelivery(decoded: DecodedExtract, force_id: str, feed: str, month: str) -> ExtractFileError | None:
    """The error for a delivery that belongs to another force or month (misfiled or stale), if any."""
    frame = decoded.frames[contract.entities(feed)[0]]
    if frame.empty:
        return None
    name = str(frame["_source_file"].iloc[0])
    source = next((f.path for f in decoded.files if Path(f.path).name == name), name)
    forces = frame["force_id"].astype(str)
    if (forces != force_id).mean() > WRONG_PARTITION_TOLERANCE:
        return ExtractFileError(source, f"this extract is for force '{forces.mode().iloc[0]}', not '{force_id}': "
                                        f"it was delivered to the wrong folder; ask the force to re-send")
    updated = pd.to_datetime(frame["updated_at"], errors="coerce").dt.strftime("%Y-%m")
    if (updated != month).mean() > WRONG_PARTITION_TOLERANCE:
        found = updated.mode()
        label = found.iloc[0] if len(found) else "unknown"
        return ExtractFileError(source, f"this extract's records were updated in {label}, not {month}: "
                                        f"it is the wrong month's file; ask the force for the {month} extract")
    return None


def _keep_landing_copy(decoded: DecodedExtract, lake_root: Path, force_id: str, feed: str, month: str) -> None:
    """Keep an immutable, checksummed copy of each delivered file (never overwritten)."""
    target = partition(lake_root, "landing", feed, force_id, month)
    target.mkdir(parents=True, exist_ok=True)
    for source in decoded.files:
        path = Path(source.path)
        if not path.is_file():  # a database delivery has no file to keep
            continue
        copy = target / f"{source.sha256[:16]}__{path.name}"
        if not copy.exists():
            shutil.copyfile(path, copy)


def _quarantine_file(error: ExtractFileError, lake_root: Path, force_id: str, feed: str, month: str) -> None:
    target = partition(lake_root, "quarantine", feed, force_id, month) / "files"
    target.mkdir(parents=True, exist_ok=True)
    path = Path(error.path)
    if path.is_file():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        shutil.copyfile(path, target / f"{digest[:16]}__{path.name}")
    (target / f"{path.name}.reason.txt").write_text(error.message + "\n")
