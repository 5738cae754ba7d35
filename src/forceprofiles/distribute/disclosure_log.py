"""The append-only disclosure log (Data Protection Act 2018 Part 3, s.62 style).

Section 62 requires logs of collection, alteration, consultation, disclosure (with the
recipients), combination and erasure. This log records:

- every send of a product: when, which product (title, version, month, force), the PDF's
  SHA-256, to whom, through which recipient group, which revision, which run (Airflow run id
  or CLI run id) and the message id. Written in the same SQLite transaction that marks the
  send as done in the ledger (see ``ledger.py``), so the two never disagree;
- an ``unconfirmed`` disclosure when a send was interrupted after it may have reached the
  mail server (a killed worker): the DPO sees that the product may have been disclosed even
  though the ledger then resends it;
- ``collection`` (per force x feed ingested) and ``combination`` (per warehouse build)
  events, through :func:`log_event`, which the pipeline calls.

Where: ``$FORCEPROFILES_DISCLOSURE_LOG`` or ``<home>/var/distribution/disclosures.sqlite``.

Append-only is enforced twice: SQLite triggers abort any UPDATE or DELETE of a row, and each
row carries ``row_hash = sha256(prev_hash + row)``, a hash chain that :func:`verify_chain`
checks, so even an edit that bypasses the triggers (dropping them, editing the file) shows.
Details hold counts, ids and hashes only: no names, dates of birth or addresses of subjects.

Query it with ``forceprofiles disclosures --month 2026-10 [--force F] [--recipient R]
[--kind K] [--format table|csv|json]`` or :func:`query`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forceprofiles import settings

LOG_ENV = "FORCEPROFILES_DISCLOSURE_LOG"
KINDS = ("collection", "alteration", "consultation", "disclosure", "combination", "erasure")
OUTCOMES = ("sent", "unconfirmed", "recorded")
TABLE = "disclosure_log"
# Columns of a row, in hash order (seq and the hashes themselves excluded).
COLUMNS = ("logged_at", "kind", "outcome", "run_id", "month", "force_id", "product", "title", "version",
           "sha256", "recipient", "recipient_group", "revision", "message_id", "details")
GENESIS = "0" * 64


class DisclosureLogError(RuntimeError):
    """The disclosure log refused a write or failed its integrity check."""


def default_log_path() -> Path:
    """``$FORCEPROFILES_DISCLOSURE_LOG`` or ``<home>/var/distribution/disclosures.sqlite``."""
    value = os.environ.get(LOG_ENV, "").strip()
    return Path(value).expanduser() if value else settings.project_home() / "var" / "distribution" / "disclosures.sqlite"


def ensure_schema(conn: sqlite3.Connection, schema: str = "main") -> None:
    """Create the log table and its append-only triggers in ``schema`` (idempotent)."""
    conn.execute(f"""
        create table if not exists {schema}.{TABLE} (
            seq integer primary key autoincrement,
            logged_at text not null,
            kind text not null check (kind in ({', '.join(repr(k) for k in KINDS)})),
            outcome text not null check (outcome in ({', '.join(repr(o) for o in OUTCOMES)})),
            run_id text, month text, force_id text, product text, title text, version text,
            sha256 text, recipient text, recipient_group text, revision integer, message_id text,
            details text not null default '{{}}',
            prev_hash text not null,
            row_hash text not null unique
        )""")
    for action in ("update", "delete"):
        conn.execute(f"""
            create trigger if not exists {schema}.{TABLE}_no_{action} before {action} on {TABLE}
            begin select raise(abort, 'the disclosure log is append-only: {action} refused'); end""")
    conn.execute(f"create index if not exists {schema}.{TABLE}_month on {TABLE} (month, force_id)")


def connect(path: Path | None = None) -> sqlite3.Connection:
    """A connection to the log (created if new), in autocommit mode (explicit transactions)."""
    path = Path(path) if path else default_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.row_factory = sqlite3.Row
    ensure_schema(conn)
    return conn


def _row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    canonical = json.dumps([row.get(c) for c in COLUMNS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def append(conn: sqlite3.Connection, entry: Mapping[str, Any], schema: str = "main") -> int:
    """Append one entry inside the caller's open transaction; returns its sequence number.

    The caller holds a write transaction (``BEGIN IMMEDIATE``), so reading the last hash and
    inserting the next row cannot interleave with another writer.
    """
    if entry.get("kind") not in KINDS:
        raise DisclosureLogError(f"unknown disclosure log kind {entry.get('kind')!r} (kinds: {', '.join(KINDS)})")
    row = {c: entry.get(c) for c in COLUMNS}
    row["logged_at"] = row["logged_at"] or datetime.now(UTC).isoformat(timespec="microseconds")
    row["outcome"] = row["outcome"] or "recorded"
    details = entry.get("details") or {}
    row["details"] = details if isinstance(details, str) else json.dumps(details, sort_keys=True, default=str)
    last = conn.execute(f"select row_hash from {schema}.{TABLE} order by seq desc limit 1").fetchone()
    prev = last[0] if last else GENESIS
    names = ", ".join((*COLUMNS, "prev_hash", "row_hash"))
    marks = ", ".join("?" for _ in range(len(COLUMNS) + 2))
    cursor = conn.execute(f"insert into {schema}.{TABLE} ({names}) values ({marks})",
                          [*(row[c] for c in COLUMNS), prev, _row_hash(prev, row)])
    return int(cursor.lastrowid or 0)


def log_event(kind: str, run_id: str | None, details: Mapping[str, Any], *, path: Path | None = None) -> int:
    """Record a collection / combination / ... event of a run (the pipeline calls this).

    ``details`` is JSON of counts and identifiers only (e.g. ``{"month": "2026-10",
    "force_id": "kent", "feed": "crime", "rows_landed": 120}``); its ``month`` and ``force_id``
    are also stored as columns so the DPO can filter on them.
    """
    conn = connect(path)
    try:
        conn.execute("begin immediate")
        seq = append(conn, {"kind": kind, "run_id": run_id, "month": details.get("month"),
                            "force_id": details.get("force_id"), "details": dict(details)})
        conn.execute("commit")
        return seq
    except BaseException:
        if conn.in_transaction:
            conn.execute("rollback")
        raise
    finally:
        conn.close()


def log_collection(run_id: str | None, partition: Mapping[str, Any], *, path: Path | None = None) -> int:
    """Log the collection of one force x feed x month (a :func:`pipeline.validation_summary` dict).

    Keeps the identifiers, status and row counts only (rows read, landed, quarantined).
    """
    keep = ("month", "force_id", "feed", "status", "delivery", "rows_read", "rows_landed", "rows_quarantined")
    return log_event("collection", run_id, {k: partition[k] for k in keep if partition.get(k) is not None}, path=path)


def log_combination(run_id: str | None, month: str, forces: Iterable[str], details: Mapping[str, Any] | None = None,
                    *, path: Path | None = None) -> int:
    """Log a combination: the warehouse build that linked the forces' records (and the central ones) for ``month``."""
    return log_event("combination", run_id, {"month": month, "forces": sorted(forces), **dict(details or {})},
                     path=path)


def query(*, month: str | None = None, force: str | None = None, recipient: str | None = None,
          kind: str | None = None, path: Path | None = None) -> list[dict[str, Any]]:
    """Rows of the log, oldest first, filtered by month, force, recipient (case-insensitive), kind."""
    path = Path(path) if path else default_log_path()
    if not path.is_file():
        return []
    clauses, params = [], []
    for column, value in (("month", month), ("force_id", force), ("kind", kind)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if recipient:
        clauses.append("lower(recipient) = lower(?)")
        params.append(recipient)
    where = f"where {' and '.join(clauses)}" if clauses else ""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"select * from {TABLE} {where} order by seq", params)]
    finally:
        conn.close()


def verify_chain(path: Path | None = None) -> tuple[bool, int | None]:
    """Recompute the hash chain: ``(True, None)``, or ``(False, seq of the first bad row)``."""
    prev = GENESIS
    for row in query(path=path):
        if row["prev_hash"] != prev or _row_hash(prev, row) != row["row_hash"]:
            return False, int(row["seq"])
        prev = row["row_hash"]
    return True, None


DISPLAY = ("seq", "logged_at", "kind", "outcome", "run_id", "month", "force_id", "product", "revision", "sha256",
           "recipient", "recipient_group")


def render(rows: Iterable[Mapping[str, Any]], fmt: str = "table") -> str:
    """The rows as ``csv``, ``json`` or a plain-text ``table`` (what the CLI prints)."""
    rows = list(rows)
    if fmt == "json":
        return json.dumps([{**r, "details": json.loads(r.get("details") or "{}")} for r in rows], indent=1)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=[*DISPLAY, "version", "title", "message_id", "details",
                                                    "prev_hash", "row_hash"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r} (table, csv, json)")
    table = [[str(r.get(c) if r.get(c) is not None else "-") for c in DISPLAY] for r in rows]
    for r, cells in zip(rows, table, strict=True):
        cells[DISPLAY.index("sha256")] = (r.get("sha256") or "-")[:12]
        cells[DISPLAY.index("logged_at")] = (r.get("logged_at") or "-")[:19]
    widths = [max([len(h), *(len(t[i]) for t in table)]) for i, h in enumerate(DISPLAY)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(DISPLAY, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)) for t in table]
    return "\n".join(lines) + "\n"
