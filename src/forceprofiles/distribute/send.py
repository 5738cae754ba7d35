"""Send the month's products: one force x product (a mapped task), a whole month, the run summary.

Input contract (the render stage): ``<out>/<YYYY-MM>/<force>/<product>.pdf`` with a sidecar
``<product>.json`` (month, force_id, product, profile, kind, title, version, path relative
to the out root, sha256, pages, bytes, inputs, changes) and ``<out>/<YYYY-MM>/manifest.json``
(``{"month", "products": [sidecars], "skipped": [...]}``).

Before anything is sent for a product: the recipients file is validated, the PDF's sha256 is
checked against its sidecar, every receiving group's password is found and every address is
checked against the need-to-know rules. Then each recipient gets their own message through
the ledger (claim, SMTP, sent + disclosure), so a retry, rerun or backfill sends only what has
not been sent, and a corrected product goes out as a marked revision.

An SMTP failure raises :class:`~forceprofiles.distribute.mail.SmtpUnavailableError` at once
(the Airflow task retries with back-off); nothing unconfirmed is recorded as sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from forceprofiles import settings
from forceprofiles.distribute import crypto, mail, recipients
from forceprofiles.distribute.disclosure_log import append as append_disclosure
from forceprofiles.distribute.ledger import DISCLOSURE_SCHEMA, Claim, DeliveryKey, Ledger

log = logging.getLogger(__name__)

SIDECAR_KEYS = ("month", "force_id", "product", "sha256", "path")
RUN_SUMMARY_FORCE = "_all"


class ProductIntegrityError(RuntimeError):
    """The PDF on disk is not the one its sidecar describes (re-render the month): nothing sent."""


def new_run_id() -> str:
    """A run id for CLI runs (Airflow passes its own dag run id)."""
    return f"cli-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"


def load_sidecar(sidecar: Mapping[str, Any] | Path | str) -> dict[str, Any]:
    """A sidecar as a dict (from a mapping or a ``.json`` path), with its required keys checked."""
    data = dict(sidecar) if isinstance(sidecar, Mapping) else json.loads(Path(sidecar).read_text(encoding="utf-8"))
    missing = [key for key in SIDECAR_KEYS if not data.get(key)]
    if missing:
        raise ProductIntegrityError(f"sidecar of {data.get('force_id', '?')} {data.get('product', '?')} lacks "
                                    f"{', '.join(missing)}")
    return data


def _force_name(force_id: str) -> str:
    try:
        from forceprofiles.registry import force_config

        return force_config(force_id).name
    except Exception:  # an unlisted or odd id: the id itself is still a clear name
        return force_id


class _LazyTransport:
    """Open the SMTP connection only when a message actually needs sending."""

    def __init__(self, factory: Callable[[], mail.Transport]) -> None:
        self._factory = factory
        self._open: mail.Transport | None = None

    def __enter__(self) -> _LazyTransport:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._open is not None:
            self._open.__exit__(kind, error, trace)
            self._open = None

    def send(self, message: Any) -> None:
        if self._open is None:
            self._open = self._factory().__enter__()
        self._open.send(message)


def distribute_product(sidecar: Mapping[str, Any] | Path | str, out_root: Path, *, run_id: str,
                       config: recipients.RecipientConfig | None = None, ledger: Ledger | None = None,
                       secrets: crypto.SecretStore | None = None,
                       transport: Callable[[], mail.Transport] | None = None) -> dict[str, Any]:
    """Email one force's product to every recipient group that receives it; idempotent.

    Returns counts (no addresses): ``{"month", "force_id", "product", "sha256", "revision",
    "groups", "recipients", "sent", "resent", "already_sent", "status"}``. Raises
    :class:`~forceprofiles.distribute.recipients.RecipientConfigError`,
    :class:`~forceprofiles.distribute.crypto.MissingSecretError` or
    :class:`ProductIntegrityError` before sending anything, and
    :class:`~forceprofiles.distribute.mail.SmtpUnavailableError` (retriable) on a mail outage.
    """
    product = load_sidecar(sidecar)
    config = config or recipients.load_recipients()
    month, force_id, product_id, sha = product["month"], product["force_id"], product["product"], product["sha256"]
    result: dict[str, Any] = {"month": month, "force_id": force_id, "product": product_id, "sha256": sha,
                              "revision": None, "groups": [], "recipients": 0, "sent": 0, "resent": 0,
                              "already_sent": 0, "status": "no_recipients"}
    if product_id not in config.product_kinds:
        raise recipients.RecipientConfigError(f"{config.path.name}: force {force_id!r}: unknown product {product_id!r}")
    groups = config.groups_for(force_id, product_id)
    if not groups:
        log.warning("%s %s %s: no recipient group receives this product; nothing sent", month, force_id, product_id)
        return result
    expected = f"{month}/{force_id}/{product_id}.pdf"
    if Path(product["path"]).as_posix() != expected:  # a sidecar never sends another force's or month's PDF
        raise ProductIntegrityError(f"sidecar of {force_id} {product_id} {month} points at {product['path']!r}, "
                                    f"not {expected!r}; nothing was sent")
    pdf_path = Path(out_root) / expected
    pdf = pdf_path.read_bytes()
    if hashlib.sha256(pdf).hexdigest() != sha:
        raise ProductIntegrityError(f"{pdf_path}: sha256 differs from its sidecar (the product changed after "
                                    f"rendering); re-render {month} for {force_id}. Nothing was sent.")
    secrets = secrets or crypto.SecretStore()
    passwords = {group.name: secrets.get(group.secret) for group in groups}  # all found, or nothing is sent
    for group in groups:
        for address in group.addresses:
            recipients.check_route(config, force_id, product_id, address)
    ledger = ledger or Ledger()
    caveat = product.get("handling_caveat") or recipients.handling_caveat(product_id)
    force_name = _force_name(force_id)
    domain = config.sender.rsplit("@", 1)[1]
    base = f"{force_id}-{product_id}-{month}"
    disclosure = {"run_id": run_id, "month": month, "force_id": force_id, "product": product_id,
                  "title": product.get("title"), "version": product.get("version"), "sha256": sha}

    def interrupted(conn: sqlite3.Connection, row: Mapping[str, Any]) -> None:
        append_disclosure(conn, {**disclosure, "kind": "disclosure", "outcome": "unconfirmed", "run_id": row["run_id"],
                                 "recipient": row["recipient"], "recipient_group": row["recipient_group"],
                                 "revision": row["revision"], "message_id": row["message_id"],
                                 "details": {"attempt": row["attempts"], "claimed_at": row["claimed_at"],
                                             "note": "attempt interrupted after sending began; it may have been "
                                                     "delivered; the ledger resends it with the same Message-ID"}},
                          schema=DISCLOSURE_SCHEMA)

    with _LazyTransport(transport or mail.transport_from_environment) as smtp:
        for group in groups:
            archive: bytes | None = None
            result["groups"].append(group.name)
            for address in group.addresses:
                result["recipients"] += 1
                key = DeliveryKey(month, force_id, product_id, address, sha)
                message_id = key.message_id(domain)
                claim = ledger.claim(key, group=group.name, run_id=run_id, message_id=message_id,
                                     on_interrupted=interrupted)
                result["revision"] = claim.revision
                if not claim.should_send:
                    result["already_sent"] += 1
                    continue
                try:
                    if archive is None:
                        archive = crypto.encrypt_pdf(pdf, f"{base}.pdf", passwords[group.name])
                    suffix = f"-rev{claim.revision}" if claim.revision > 1 else ""
                    message = mail.compose_product_mail(
                        product, sender=config.sender, recipient=address, group=group.name, force_name=force_name,
                        revision=claim.revision, caveat=caveat, message_id=message_id,
                        attachment_name=f"{base}{suffix}.zip", attachment=archive)
                    smtp.send(message)
                except Exception as error:
                    ledger.mark_failed(claim, f"{type(error).__name__}: {error}")
                    raise
                _record_sent(ledger, claim, disclosure, address, group.name, message_id, product, config)
                result["resent" if claim.status == "resend" else "sent"] += 1
    result["status"] = "sent" if result["sent"] + result["resent"] else "already_sent"
    log.info("%s %s %s: revision %s, %d group(s), %d recipient(s): %d sent, %d resent, %d already sent",
             month, force_id, product_id, result["revision"], len(result["groups"]), result["recipients"],
             result["sent"], result["resent"], result["already_sent"])
    return result


def _record_sent(ledger: Ledger, claim: Claim, disclosure: Mapping[str, Any], address: str, group: str,
                 message_id: str, product: Mapping[str, Any], config: recipients.RecipientConfig) -> None:
    ledger.mark_sent(claim, disclosure={
        **disclosure, "recipient": address, "recipient_group": group, "revision": claim.revision,
        "message_id": message_id,
        "details": {"attempt": claim.attempt, "claim": claim.status, "kind": product.get("kind"),
                    "pages": product.get("pages"), "bytes": product.get("bytes"),
                    "recipients_version": config.version, "encryption": "zip AES-256"}})


def month_sidecars(out_root: Path, month: str) -> tuple[list[dict[str, Any]], list[Any]]:
    """The month's products and skipped entries: ``manifest.json``, else every sidecar on disk."""
    folder = Path(out_root) / month
    manifest = folder / "manifest.json"
    if manifest.is_file():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return [dict(p) for p in data.get("products", [])], list(data.get("skipped", []))
    sidecars = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*/*.json"))]
    return [s for s in sidecars if s.get("product")], []


def distribute_month(out_root: Path, month: str, *, run_id: str, forces: Iterable[str] | None = None,
                     config: recipients.RecipientConfig | None = None, ledger: Ledger | None = None,
                     secrets: crypto.SecretStore | None = None,
                     transport: Callable[[], mail.Transport] | None = None,
                     on_product: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Distribute every product of ``month`` (optionally only ``forces``); idempotent.

    A product that cannot be sent for a reason of its own (no password, integrity, routing)
    is reported in ``errors`` and the others go; a mail outage stops the month at once and
    raises :class:`~forceprofiles.distribute.mail.SmtpUnavailableError`.
    """
    config = config or recipients.load_recipients()
    ledger = ledger or Ledger()
    secrets = secrets or crypto.SecretStore()
    wanted = set(forces) if forces else None
    products, skipped = month_sidecars(out_root, month)
    products = [p for p in products if (wanted is None or p.get("force_id") in wanted) and p.get("month") == month]
    results: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for sidecar in products:
        try:
            results.append(distribute_product(sidecar, out_root, run_id=run_id, config=config, ledger=ledger,
                                              secrets=secrets, transport=transport))
        except mail.SmtpUnavailableError:
            raise
        except (recipients.RecipientConfigError, crypto.MissingSecretError, ProductIntegrityError,
                FileNotFoundError) as error:
            log.error("%s %s %s: not sent: %s", month, sidecar.get("force_id"), sidecar.get("product"), error)
            errors.append({"force_id": str(sidecar.get("force_id")), "product": str(sidecar.get("product")),
                           "error": f"{type(error).__name__}: {error}"})
        if on_product:
            on_product(sidecar)
    return {"month": month, "run_id": run_id, "products": results, "errors": errors,
            "skipped": [s for s in skipped if wanted is None or not isinstance(s, Mapping)
                        or s.get("force_id") in wanted],
            "sent": sum(r["sent"] + r["resent"] for r in results),
            "already_sent": sum(r["already_sent"] for r in results)}


def run_summary_text(month: str, *, run_id: str, out_root: Path, lake_root: Path, ledger: Ledger) -> str:
    """The data team's summary of a monthly run (counts only): deterministic for a given state."""
    from forceprofiles.pipeline import manifest_path

    lines = [f"Force Profiles monthly run for {mail.month_name(month)} ({month}), run {run_id}.", ""]
    path = manifest_path(lake_root, month)
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    decisions: dict[str, str] = manifest.get("decisions") or {}
    held = sorted(f for f, d in decisions.items() if d != "proceed")
    if manifest:
        lines.append(f"Forces: {len(decisions) - len(held)} processed, {len(held)} held.")
        lines += [f"  held: {force}: {decisions[force]}" for force in held]
        totals = manifest.get("totals") or {}
        lines.append(f"Rows: {totals.get('rows_read', 0):,} read, {totals.get('rows_landed', 0):,} landed, "
                     f"{totals.get('rows_quarantined', 0):,} quarantined.")
        quarantined: dict[str, int] = {}
        for entry in manifest.get("results", []):
            rows = entry.get("rows_quarantined") or {}
            count = sum(rows.values()) if isinstance(rows, Mapping) else int(rows or 0)
            if count:
                key = f"{entry.get('force_id')} {entry.get('feed')}"
                quarantined[key] = quarantined.get(key, 0) + count
        lines += [f"  quarantined: {key}: {count:,} row(s)" for key, count in sorted(quarantined.items())]
        if manifest.get("errors"):
            lines.append(f"Crashes recorded in the manifest: {len(manifest['errors'])}.")
    else:
        lines.append(f"No run manifest at {path}.")
    products, skipped = month_sidecars(out_root, month)
    lines.append(f"Products rendered: {len(products)}; skipped: {len(skipped)}.")
    for entry in skipped:
        if isinstance(entry, Mapping):
            lines.append(f"  skipped: {entry.get('force_id', '?')} {entry.get('product', '?')}: "
                         f"{entry.get('reason', '')}".rstrip(": "))
        else:
            lines.append(f"  skipped: {entry}")
    rows = [r for r in ledger.rows(month) if r["force_id"] != RUN_SUMMARY_FORCE]
    by_state: dict[str, int] = {}
    for row in rows:
        by_state[row["state"]] = by_state.get(row["state"], 0) + 1
    lines.append(f"Emails: {by_state.get('sent', 0)} sent, {by_state.get('failed', 0)} failed, "
                 f"{by_state.get('sending', 0)} unconfirmed (will be resent on retry).")
    per_product: dict[tuple[str, str], tuple[int, int]] = {}
    for row in rows:
        if row["state"] == "sent":
            sent, revision = per_product.get((row["force_id"], row["product"]), (0, 0))
            per_product[(row["force_id"], row["product"])] = (sent + 1, max(revision, int(row["revision"])))
    for (force_id, product_id), (sent, revision) in sorted(per_product.items()):
        lines.append(f"  {force_id} {product_id}: {sent} recipient(s)"
                     + (f", latest revision {revision}" if revision > 1 else ""))
    missing = sorted({(p.get("force_id"), p.get("product")) for p in products} - set(per_product))
    lines += [f"  not yet sent: {force_id} {product_id}" for force_id, product_id in missing]
    return "\n".join(lines) + "\n"


def send_run_summary(month: str, *, run_id: str, out_root: Path | None = None, lake_root: Path | None = None,
                     ledger: Ledger | None = None, transport: Callable[[], mail.Transport] | None = None,
                     to: str | None = None, sender: str | None = None) -> dict[str, Any]:
    """Email the run summary to the data team, once per run and content (a retry does not repeat it)."""
    ledger = ledger or Ledger()
    to = to or settings.data_team_email()
    sender = sender or settings.alert_from_email()
    text = run_summary_text(month, run_id=run_id, out_root=Path(out_root or settings.output_root()),
                            lake_root=Path(lake_root or settings.lake_root()), ledger=ledger)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    key = DeliveryKey(month, RUN_SUMMARY_FORCE, f"run-summary:{run_id}", to, sha)
    message_id = key.message_id(sender.rsplit("@", 1)[1])
    claim = ledger.claim(key, group="data-team", run_id=run_id, message_id=message_id)
    if not claim.should_send:
        return {"month": month, "status": "already_sent", "sha256": sha}
    message = mail.compose_plain_mail(sender=sender, recipient=to, subject=f"Force Profiles run summary: {month}",
                                      text=text, headers={"Message-ID": message_id})
    try:
        with (transport or mail.transport_from_environment)() as smtp:
            smtp.send(message)
    except Exception as error:
        ledger.mark_failed(claim, f"{type(error).__name__}: {error}")
        raise
    ledger.mark_sent(claim, disclosure={"run_id": run_id, "month": month, "force_id": RUN_SUMMARY_FORCE,
                                        "product": "run-summary", "sha256": sha, "recipient": to,
                                        "recipient_group": "data-team", "revision": claim.revision,
                                        "message_id": message_id, "details": {"content": "counts only"}})
    log.info("run summary for %s sent to the data team", month)
    return {"month": month, "status": "sent", "sha256": sha}
