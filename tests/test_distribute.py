"""Stage 5, distribute: need-to-know email through a REAL SMTP server on loopback (aiosmtpd).

Products are real PDFs (WeasyPrint) with sidecars in the render stage's shape; recipients are
the shipped ``profiles/recipients.yml`` (or a broken copy, for validation); passwords come
from the environment as in production outside Airflow; the ledger and disclosure log are
real SQLite files. The kill test kills a sending process with SIGKILL while the server holds
its reply, and checks that the rerun converges.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from forceprofiles.distribute import crypto, disclosure_log, recipients, send
from forceprofiles.distribute.ledger import Ledger
from forceprofiles.distribute.mail import SmtpUnavailableError
from forceprofiles.distribute.sink import Received, SinkHandler, start_sink

MONTH = "2026-10"
FORCES = ("kent", "essex")
PRODUCTS = {"vawg-strategic": ("vawg", "strategic", "VAWG strategic threat profile"),
            "vawg-tactical": ("vawg", "tactical", "VAWG tactical profile"),
            "missing-strategic": ("missing", "strategic", "Missing persons strategic threat profile"),
            "missing-tactical": ("missing", "tactical", "Missing persons tactical profile")}
# A fake subject printed in the PDFs: it must never reach a log line or an email body.
SUBJECT_NAME = "Jolene Testperson"
SUBJECT_DOB = "14/03/1991"
# Messages per force with the shipped recipients file: vawg-strategic 4, vawg-tactical 2,
# missing-strategic 3, missing-tactical 1.
PER_FORCE = 10

_PDF_CACHE: dict[str, bytes] = {}


def _pdf(text: str) -> bytes:
    if text not in _PDF_CACHE:
        from weasyprint import HTML

        _PDF_CACHE[text] = HTML(string=f"<h1>OFFICIAL-SENSITIVE</h1><p>{text}</p>"
                                       f"<p>{SUBJECT_NAME}, born {SUBJECT_DOB}</p>").write_pdf()
    return _PDF_CACHE[text]


def write_product(out: Path, force_id: str, product: str, text: str | None = None,
                  changes: str = "Three new subjects entered the list; two left it.") -> dict[str, Any]:
    """A rendered product: the PDF and its sidecar, as the render stage writes them."""
    pdf = _pdf(text or f"{force_id} {product}")
    folder = out / MONTH / force_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{product}.pdf").write_bytes(pdf)
    profile, kind, title = PRODUCTS[product]
    sidecar = {"month": MONTH, "force_id": force_id, "product": product, "profile": profile, "kind": kind,
               "title": title, "version": "1.0.0", "path": f"{MONTH}/{force_id}/{product}.pdf",
               "sha256": hashlib.sha256(pdf).hexdigest(), "pages": 1, "bytes": len(pdf), "inputs": {},
               "changes": changes}
    (folder / f"{product}.json").write_text(json.dumps(sidecar))
    return sidecar


def write_month(out: Path, forces: tuple[str, ...] = FORCES) -> list[dict[str, Any]]:
    sidecars = [write_product(out, f, p) for f in forces for p in PRODUCTS]
    (out / MONTH / "manifest.json").write_text(json.dumps({"month": MONTH, "products": sidecars, "skipped": [
        {"force_id": "suffolk", "product": "vawg-tactical", "reason": "force held"}]}))
    return sidecars


def password(secret: str) -> str:
    return f"pw-{secret}-Xq7r2"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Env-configured ledger, disclosure log and passwords; a sink on an ephemeral port; products."""
    monkeypatch.setenv("FORCEPROFILES_LEDGER", str(tmp_path / "ledger.sqlite"))
    monkeypatch.setenv("FORCEPROFILES_DISCLOSURE_LOG", str(tmp_path / "disclosures.sqlite"))
    monkeypatch.delenv("FORCEPROFILES_SMTP_CONN_ID", raising=False)
    monkeypatch.delenv("AIRFLOW_CTX_DAG_ID", raising=False)
    config = recipients.load_recipients()
    for group in config.all_groups():
        monkeypatch.setenv(crypto.env_name(group.secret), password(group.secret))
    controller, handler = start_sink()
    monkeypatch.setenv("FORCEPROFILES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FORCEPROFILES_SMTP_PORT", str(controller.port))
    out = tmp_path / "out"
    sidecars = write_month(out)
    state = {"out": out, "config": config, "controller": controller, "handler": handler, "sidecars": sidecars,
             "tmp": tmp_path}
    yield state
    state["controller"].stop()


def deliveries(messages: list[Received]) -> list[tuple[str, str, str, str]]:
    """(recipient, force, product, revision) of every message the server accepted."""
    rows = []
    for received in messages:
        message = received.message()
        assert len(received.rcpt_tos) == 1 and received.rcpt_tos[0] == message["To"]
        rows.append((received.rcpt_tos[0], message["X-Force-Profiles-Force"], message["X-Force-Profiles-Product"],
                     message["X-Force-Profiles-Revision"]))
    return rows


def attachment(received: Received) -> tuple[str, bytes]:
    parts = list(received.message().iter_attachments())
    assert len(parts) == 1
    return parts[0].get_filename(), parts[0].get_content()


def test_shipped_recipients_keep_tactical_products_inside_their_force() -> None:
    config = recipients.load_recipients()
    assert set(config.groups) >= {"norfolk", "suffolk", "essex", "kent", "hertfordshire", "bedfordshire",
                                  "cambridgeshire", "warwickshire", "west-mercia"}
    for force_id, groups in config.groups.items():
        own = config.force_domains[force_id]
        for group in groups:
            assert not any(s in group.secret for s in ("pw", "password")) or group.secret.endswith("_team")
            for product in group.products:
                for address in group.addresses:
                    domain = address.split("@")[1]
                    if config.product_kinds[product] == "tactical":
                        assert domain in own, (force_id, group.name, address)
                    else:
                        assert domain in own or domain in config.regional_domains


def test_each_force_product_reaches_exactly_its_groups(world: dict[str, Any]) -> None:
    summary = send.distribute_month(world["out"], MONTH, run_id="run-1")
    assert summary["errors"] == [] and summary["sent"] == PER_FORCE * len(FORCES)
    got = Counter((r, f, p) for r, f, p, _ in deliveries(world["handler"].messages))
    assert set(got.values()) == {1}
    kent = {p: {r for r, f, q in got if f == "kent" and q == p} for p in PRODUCTS}
    assert kent["vawg-tactical"] == {"vawg-team@kent.police.example", "vawg-analyst@kent.police.example"}
    assert kent["missing-tactical"] == {"missing-team@kent.police.example"}
    assert kent["vawg-strategic"] == {"vawg-team@kent.police.example", "vawg-analyst@kent.police.example",
                                      "strategic-lead@kent.police.example", "analysts@eastern-region.police.example"}
    assert kent["missing-strategic"] == {"missing-team@kent.police.example", "strategic-lead@kent.police.example",
                                         "analysts@eastern-region.police.example"}
    for recipient, force_id, product in got:  # no product of one force reaches another force's people
        assert recipient.endswith(f"@{force_id}.police.example") or (
            recipient.endswith("@eastern-region.police.example") and product.endswith("strategic"))
    subjects = {m.message()["Subject"].strip() for m in world["handler"].messages}
    assert "OFFICIAL-SENSITIVE: VAWG tactical profile, Kent Police, October 2026" in subjects
    render_style = write_product(world["out"], "kent", "vawg-tactical", text="kent vawg-tactical v2")
    render_style["title"] = "VAWG tactical profile: Kent Police, October 2026"  # the render stage's titles
    send.distribute_product(render_style, world["out"], run_id="run-2")
    assert world["handler"].messages[-1].message()["Subject"].strip() == (
        "OFFICIAL-SENSITIVE: VAWG tactical profile: Kent Police, October 2026 (Revision 2)")
    body = world["handler"].messages[0].message().get_body(("plain",)).get_content()
    assert "Three new subjects entered the list" in body and "Handling: OFFICIAL-SENSITIVE" in body


def test_attachments_decrypt_with_their_group_password_only(world: dict[str, Any]) -> None:
    send.distribute_month(world["out"], MONTH, run_id="run-1")
    originals = {(s["force_id"], s["product"]): (world["out"] / s["path"]).read_bytes() for s in world["sidecars"]}
    config = world["config"]
    checked = 0
    for received in world["handler"].messages:
        message = received.message()
        force_id, product = message["X-Force-Profiles-Force"], message["X-Force-Profiles-Product"]
        group = next(g for g in config.groups_for(force_id, product) if received.rcpt_tos[0] in g.addresses)
        name, data = attachment(received)
        assert name == f"{force_id}-{product}-{MONTH}.zip"
        members = crypto.decrypt_zip(data, password(group.secret))
        assert members == {f"{force_id}-{product}-{MONTH}.pdf": originals[(force_id, product)]}
        other = next(g for g in config.groups[force_id] if g.secret != group.secret)
        with pytest.raises(RuntimeError, match="[Bb]ad password"):
            crypto.decrypt_zip(data, password(other.secret))
        assert password(group.secret).encode() not in received.data  # the password never travels
        assert SUBJECT_NAME.encode() not in received.data  # the PDF's text is not readable in transit
        checked += 1
    assert checked == PER_FORCE * len(FORCES)


def test_logs_carry_no_password_address_or_personal_data(world: dict[str, Any],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="forceprofiles")
    send.distribute_month(world["out"], MONTH, run_id="run-1")
    send.distribute_month(world["out"], MONTH, run_id="run-2")
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("forceprofiles")]
    assert any("sent" in text for _, text in lines)  # the test sees our log lines at all
    secrets = [password(g.secret) for g in world["config"].all_groups()]
    for level, text in lines:
        assert not any(s in text for s in secrets)
        assert SUBJECT_NAME not in text and SUBJECT_DOB not in text
        if level >= logging.INFO:
            assert "@" not in text, text


def test_rerun_sends_nothing_new(world: dict[str, Any]) -> None:
    first = send.distribute_month(world["out"], MONTH, run_id="run-1")
    again = send.distribute_month(world["out"], MONTH, run_id="run-2")
    assert first["sent"] == PER_FORCE * len(FORCES)
    assert again["sent"] == 0 and again["already_sent"] == PER_FORCE * len(FORCES)
    assert len(world["handler"].messages) == PER_FORCE * len(FORCES)
    assert {r["status"] for r in again["products"]} == {"already_sent"}
    one = send.distribute_product(world["out"] / MONTH / "kent" / "vawg-tactical.json", world["out"], run_id="retry")
    assert one["sent"] == 0 and one["already_sent"] == 2


def test_changed_product_goes_out_as_a_marked_revision(world: dict[str, Any]) -> None:
    send.distribute_month(world["out"], MONTH, run_id="run-1")
    before = len(world["handler"].messages)
    write_product(world["out"], "kent", "vawg-tactical", text="kent vawg-tactical corrected",
                  changes="A data correction removed one subject.")
    result = send.distribute_product(world["out"] / MONTH / "kent" / "vawg-tactical.json", world["out"],
                                     run_id="run-correction")
    assert result["revision"] == 2 and result["sent"] == 2
    new = world["handler"].messages[before:]
    assert sorted(r for r, *_ in deliveries(new)) == ["vawg-analyst@kent.police.example",
                                                       "vawg-team@kent.police.example"]
    for received in new:
        message = received.message()
        assert message["Subject"].strip().endswith("(Revision 2)")
        assert "Revision 2: this corrected product replaces" in message.get_body(("plain",)).get_content()
        assert attachment(received)[0] == f"kent-vawg-tactical-{MONTH}-rev2.zip"
    # the month rerun sends nothing else: unchanged products stay sent, the revision is done
    assert send.distribute_month(world["out"], MONTH, run_id="run-3")["sent"] == 0
    logged = disclosure_log.query(month=MONTH, force="kent", kind="disclosure")
    assert sorted(r["revision"] for r in logged if r["product"] == "vawg-tactical") == [1, 1, 2, 2]


BROKEN_CASES = {
    "outside the force's domains": (
        ("kent", "vawg-team", "addresses"), ["vawg-team@kent.police.example", "someone@gmail.example"],
        "address someone@gmail.example: is outside the force's email domains"),
    "tactical to another force": (
        ("kent", "vawg-team", "addresses"), ["vawg-team@kent.police.example", "vawg-team@essex.police.example"],
        "address vawg-team@essex.police.example: is on force 'essex'"),
    "tactical to the regional unit": (
        ("kent", "missing-team", "addresses"), ["analysts@eastern-region.police.example"],
        "address analysts@eastern-region.police.example: is a regional address, but tactical products"),
    "unknown product": (("kent", "vawg-team", "products"), ["vawg-strategic", "vawg-operational"],
                        "unknown product 'vawg-operational'"),
    "unknown kind": (("kent", "strategic-readers", "kinds"), ["strategic", "secret"], "unknown kind 'secret'"),
    "duplicate address": (("kent", "missing-team", "addresses"),
                          ["missing-team@kent.police.example", "missing-team@kent.police.example"],
                          "address missing-team@kent.police.example: is listed twice"),
    "same product twice": (("kent", "strategic-readers", "addresses"), ["vawg-team@kent.police.example"],
                           "address vawg-team@kent.police.example: duplicate: also receives vawg-strategic through group"),
    "a password instead of a secret name": (("kent", "vawg-team", "secret"), "Tr0ub4dor&3",
                                            "secret 'Tr0ub4dor&3' must be the NAME of a secret"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_CASES))
def test_recipient_config_errors_name_file_force_group_and_address(case: str, tmp_path: Path) -> None:
    (force_id, group, field), value, expected = BROKEN_CASES[case]
    raw = yaml.safe_load(recipients.default_recipients_path().read_text())
    raw["forces"][force_id]["groups"][group][field] = value
    path = tmp_path / "recipients.yml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(recipients.RecipientConfigError) as error:
        recipients.load_recipients(path)
    message = str(error.value)
    assert f"recipients.yml: force {force_id!r}: group " in message and f"group {group!r}" in message
    assert expected in message
    if field == "secret":
        assert "Tr0ub4dor&3" in message  # named so it can be found and removed; it was never a secret name


def test_unknown_force_and_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    text = recipients.default_recipients_path().read_text()
    path = tmp_path / "recipients.yml"
    path.write_text(text.replace("\n  kent:\n", "\n  kentt:\n"))
    with pytest.raises(recipients.RecipientConfigError, match="force 'kentt': unknown force"):
        recipients.load_recipients(path)
    path.write_text(text.replace("      missing-team:\n", "      vawg-team:\n", 1))
    with pytest.raises(recipients.RecipientConfigError, match="duplicate key 'vawg-team'"):
        recipients.load_recipients(path)


def test_send_time_guard_refuses_a_tactical_product_outside_its_force(world: dict[str, Any]) -> None:
    config = world["config"]
    leaky = recipients.Group(force_id="kent", name="vawg-team", products=frozenset({"vawg-tactical"}),
                             secret="kent_vawg_team", addresses=("vawg-team@essex.police.example",))
    bypassed = recipients.RecipientConfig(path=config.path, version="x", sender=config.sender,
                                          regional_domains=config.regional_domains,
                                          force_domains=config.force_domains, groups={"kent": (leaky,)},
                                          product_kinds=config.product_kinds)
    with pytest.raises(recipients.RecipientConfigError, match="vawg-team@essex.police.example: may not receive"):
        send.distribute_product(world["out"] / MONTH / "kent" / "vawg-tactical.json", world["out"], run_id="r",
                                config=bypassed)
    assert world["handler"].messages == [] and Ledger().rows() == []


def test_missing_secret_sends_nothing_of_that_product(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCEPROFILES_SECRET_KENT_STRATEGIC_READERS")
    summary = send.distribute_month(world["out"], MONTH, run_id="run-1")
    failed = {(e["force_id"], e["product"]) for e in summary["errors"]}
    assert failed == {("kent", "vawg-strategic"), ("kent", "missing-strategic")}
    assert all("FORCEPROFILES_SECRET_KENT_STRATEGIC_READERS" in e["error"] for e in summary["errors"])
    sent = {(f, p) for _, f, p, _ in deliveries(world["handler"].messages)}
    assert not sent & failed  # not even the groups that had a password got it
    assert not [r for r in Ledger().rows() if (r["force_id"], r["product"]) in failed]
    assert summary["sent"] == PER_FORCE * len(FORCES) - 7


class FlakyHandler(SinkHandler):
    """Accepts ``accept`` messages, then answers 451 (a temporary failure) to everything."""

    def __init__(self, accept: int) -> None:
        super().__init__()
        self.accept = accept

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if len(self.messages) >= self.accept:
            return "451 4.3.0 Temporary local problem, try later"
        return await super().handle_DATA(server, session, envelope)


def test_smtp_outage_raises_records_nothing_and_recovers_without_duplicates(world: dict[str, Any]) -> None:
    from aiosmtpd.controller import Controller

    port = world["controller"].port
    world["controller"].stop()  # the mail server is down
    with pytest.raises(SmtpUnavailableError, match="did not accept"):
        send.distribute_month(world["out"], MONTH, run_id="try-1")
    assert Ledger().state_counts(MONTH)["sent"] == 0 and disclosure_log.query(month=MONTH) == []

    flaky = FlakyHandler(accept=3)  # back, but failing part-way through
    world["controller"] = Controller(flaky, hostname="127.0.0.1", port=port)
    world["controller"].start()
    with pytest.raises(SmtpUnavailableError, match="451"):
        send.distribute_month(world["out"], MONTH, run_id="try-2")
    counts = Ledger().state_counts(MONTH)
    assert counts == {"sending": 0, "sent": 3, "failed": 1}
    assert len(disclosure_log.query(month=MONTH)) == 3

    flaky.accept = 10_000  # fully back: the retry completes the month
    done = send.distribute_month(world["out"], MONTH, run_id="try-3")
    assert done["sent"] == PER_FORCE * len(FORCES) - 3 and done["already_sent"] == 3
    got = Counter((r, f, p) for r, f, p, _ in deliveries(flaky.messages))
    assert len(got) == PER_FORCE * len(FORCES) and set(got.values()) == {1}
    assert Ledger().state_counts(MONTH) == {"sending": 0, "sent": PER_FORCE * len(FORCES), "failed": 0}


def test_disclosure_log_is_append_only_and_tamper_evident(world: dict[str, Any]) -> None:
    send.distribute_month(world["out"], MONTH, run_id="run-1")
    disclosure_log.log_event("collection", "run-1", {"month": MONTH, "force_id": "kent", "feed": "crime",
                                                     "rows_landed": 120, "rows_quarantined": 2})
    disclosure_log.log_collection("run-1", {"month": MONTH, "force_id": "essex", "feed": "custody", "status": "passed",
                                            "rows_read": {"records": 16}, "rows_landed": {"records": 16}})
    disclosure_log.log_combination("run-1", MONTH, FORCES, {"warehouse": "x.duckdb", "person_resolution": "splink"})
    events = disclosure_log.query(month=MONTH, kind="combination") + disclosure_log.query(force="essex", kind="collection")
    assert [json.loads(e["details"])["rows_landed"] if e["kind"] == "collection" else json.loads(e["details"])["forces"]
            for e in events] == [sorted(FORCES), {"records": 16}]
    path = disclosure_log.default_log_path()
    assert disclosure_log.verify_chain(path) == (True, None)
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only: update refused"):
        conn.execute("update disclosure_log set recipient = 'x@y.example' where seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only: delete refused"):
        conn.execute("delete from disclosure_log where seq = 2")
    conn.execute("drop trigger disclosure_log_no_update")  # someone with file access bypasses the triggers
    conn.execute("update disclosure_log set recipient = 'x@y.example' where seq = 5")
    conn.commit()
    conn.close()
    assert disclosure_log.verify_chain(path) == (False, 5)
    assert len(disclosure_log.query()) == PER_FORCE * len(FORCES) + 3  # nothing was deleted


def test_dpo_queries_the_log_from_the_command_line(world: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from forceprofiles.cli import main

    send.distribute_month(world["out"], MONTH, run_id="run-1")
    disclosure_log.log_event("collection", "run-1", {"month": MONTH, "force_id": "kent", "feed": "crime",
                                                     "rows_landed": 120})
    assert main(["disclosures", "--month", MONTH, "--recipient", "ANALYSTS@eastern-region.police.example",
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r["force_id"], r["product"]) for r in rows} == {(f, p) for f in FORCES
                                                            for p in ("vawg-strategic", "missing-strategic")}
    assert all(r["outcome"] == "sent" and r["run_id"] == "run-1" and len(r["sha256"]) == 64 for r in rows)
    assert main(["disclosures", "--month", MONTH, "--force", "kent", "--format", "csv", "--verify"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert lines[0].startswith("seq,logged_at,kind") and len(lines) == 1 + PER_FORCE + 1  # + the collection
    assert "hash chain intact" in captured.err
    assert main(["disclosures", "--month", MONTH, "--kind", "collection"]) == 0
    assert "collection" in capsys.readouterr().out


def test_run_summary_reaches_the_data_team_once(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    lake = world["tmp"] / "lake"
    manifest = lake / "manifests" / MONTH / "run.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({
        "month": MONTH, "decisions": {"kent": "proceed", "essex": "proceed",
                                      "suffolk": "hold: mandatory feed crime missing"},
        "totals": {"rows_read": 1000, "rows_landed": 997, "rows_quarantined": 3},
        "results": [{"force_id": "essex", "feed": "crime", "rows_quarantined": {"occurrences": 2, "involvements": 1}},
                    {"force_id": "kent", "feed": "crime", "rows_quarantined": {"occurrences": 0}}],
        "errors": []}))
    monkeypatch.setenv("FORCEPROFILES_DATA_TEAM", "data-team@force-profiles.example")
    send.distribute_month(world["out"], MONTH, run_id="run-1")
    before = len(world["handler"].messages)
    first = send.send_run_summary(MONTH, run_id="run-1", out_root=world["out"], lake_root=lake)
    again = send.send_run_summary(MONTH, run_id="run-1", out_root=world["out"], lake_root=lake)
    assert (first["status"], again["status"]) == ("sent", "already_sent")
    summaries = world["handler"].messages[before:]
    assert len(summaries) == 1 and summaries[0].rcpt_tos == ("data-team@force-profiles.example",)
    text = summaries[0].message().get_content()
    assert "Forces: 2 processed, 1 held." in text and "held: suffolk: hold: mandatory feed crime missing" in text
    assert "quarantined: essex crime: 3 row(s)" in text and "kent crime" not in text
    assert "Products rendered: 8; skipped: 1." in text and "skipped: suffolk vawg-tactical: force held" in text
    assert f"Emails: {PER_FORCE * len(FORCES)} sent, 0 failed" in text
    assert "kent vawg-strategic: 4 recipient(s)" in text


def test_airflow_smtp_connection_and_variable(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Under Airflow: the SMTP provider's hook on a connection, passwords from Variables."""
    port = world["controller"].port
    monkeypatch.setenv("AIRFLOW_CONN_FP_TEST_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True, "retry_limit": 0, "timeout": 10}}))
    monkeypatch.setenv("FORCEPROFILES_SMTP_CONN_ID", "fp_test_smtp")
    monkeypatch.setenv("FORCEPROFILES_SMTP_PORT", "1")  # the plain-SMTP route would fail
    monkeypatch.setenv("AIRFLOW_VAR_FP_SECRET_KENT_MISSING_TEAM", "from-an-airflow-variable-123")
    result = send.distribute_product(world["out"] / MONTH / "kent" / "missing-tactical.json", world["out"],
                                     run_id="manual__2026-11-02", secrets=crypto.SecretStore(use_airflow=True))
    assert result["sent"] == 1
    (received,) = world["handler"].messages
    assert received.rcpt_tos == ("missing-team@kent.police.example",)
    message = received.message()
    assert message["Subject"].strip() == "OFFICIAL-SENSITIVE: Missing persons tactical profile, Kent Police, October 2026"
    name, data = attachment(received)
    assert name == f"kent-missing-tactical-{MONTH}.zip"
    assert crypto.decrypt_zip(data, "from-an-airflow-variable-123")  # the Variable won over the environment


def test_dev_secrets_file_fills_only_missing_passwords(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCEPROFILES_SECRET_KENT_VAWG_TEAM", "set-in-the-environment-1")
    monkeypatch.delenv("FORCEPROFILES_SECRET_KENT_MISSING_TEAM", raising=False)
    path = crypto.ensure_dev_secrets(["kent_vawg_team", "kent_missing_team"], tmp_path / "var" / "dev.env")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    values = crypto.read_env_file(path)
    assert list(values) == ["FORCEPROFILES_SECRET_KENT_MISSING_TEAM"] and len(values[next(iter(values))]) >= 20
    assert crypto.ensure_dev_secrets(["kent_missing_team"], path) and crypto.read_env_file(path) == values  # kept
    store = crypto.SecretStore(dev_file=path, use_airflow=False)
    assert store.get("kent_missing_team") == values["FORCEPROFILES_SECRET_KENT_MISSING_TEAM"]
    with pytest.raises(crypto.MissingSecretError, match="FORCEPROFILES_SECRET_KENT_OTHER"):
        store.get("kent_other")


KILL_SCRIPT = textwrap.dedent("""
    from pathlib import Path
    from forceprofiles.distribute import send
    send.distribute_month(Path({out!r}), {month!r}, run_id="killed-run")
""")


def test_killed_sender_rerun_converges_with_at_most_the_in_flight_message_repeated(world: dict[str, Any]) -> None:
    """SIGKILL while the server holds its reply to a message, then rerun.

    The design is exactly-once except for the one message in flight at the kill (the server
    had it, the ledger could not know): that one is resent, with the same Message-ID, and the
    disclosure log shows the interrupted attempt as 'unconfirmed'.
    """
    world["handler"].reply_delay = 0.6  # the server queues a message, then takes its time to say 250
    process = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT.format(out=str(world["out"]), month=MONTH)],
                               env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(world["handler"].messages) < 5:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline, "the sender never got going"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    counts = Ledger().state_counts(MONTH)
    assert counts["sending"] == 1 and counts["sent"] >= 4  # the in-flight message is unconfirmed

    world["handler"].reply_delay = 0.0
    rerun = send.distribute_month(world["out"], MONTH, run_id="rerun")
    assert rerun["errors"] == []
    assert sum(r["resent"] for r in rerun["products"]) == 1
    assert Ledger().state_counts(MONTH) == {"sending": 0, "sent": PER_FORCE * len(FORCES), "failed": 0}

    got = Counter((r, f, p) for r, f, p, _ in deliveries(world["handler"].messages))
    assert len(got) == PER_FORCE * len(FORCES)  # everybody got everything
    repeated = {key for key, n in got.items() if n > 1}
    unconfirmed = disclosure_log.query(month=MONTH, kind="disclosure")
    interrupted = [r for r in unconfirmed if r["outcome"] == "unconfirmed"]
    assert len(interrupted) == 1
    in_flight = (interrupted[0]["recipient"], interrupted[0]["force_id"], interrupted[0]["product"])
    assert repeated <= {in_flight} and max(got.values()) <= 2
    ids = [m.message()["Message-ID"].strip() for m in world["handler"].messages
           if (m.rcpt_tos[0], m.message()["X-Force-Profiles-Force"], m.message()["X-Force-Profiles-Product"]) == in_flight]
    assert len(set(ids)) == 1 and ids[0] == interrupted[0]["message_id"]  # a relay or client can de-duplicate
    assert len([r for r in unconfirmed if r["outcome"] == "sent"]) == PER_FORCE * len(FORCES)

    again = send.distribute_month(world["out"], MONTH, run_id="rerun-2")
    assert again["sent"] == 0 and len(world["handler"].messages) == sum(got.values())


def test_a_sidecar_cannot_point_at_another_forces_pdf(world: dict[str, Any]) -> None:
    sidecar = json.loads((world["out"] / MONTH / "kent" / "vawg-tactical.json").read_text())
    essex = json.loads((world["out"] / MONTH / "essex" / "vawg-tactical.json").read_text())
    forged = {**sidecar, "path": essex["path"], "sha256": essex["sha256"]}
    with pytest.raises(send.ProductIntegrityError, match="points at"):
        send.distribute_product(forged, world["out"], run_id="r")
    (world["out"] / MONTH / "kent" / "vawg-tactical.pdf").write_bytes(_pdf("edited after rendering"))
    with pytest.raises(send.ProductIntegrityError, match="sha256 differs"):
        send.distribute_product(sidecar, world["out"], run_id="r")
    assert world["handler"].messages == []
