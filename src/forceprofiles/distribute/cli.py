"""``forceprofiles send``, ``forceprofiles disclosures`` and ``forceprofiles mailsink``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

SEND_EPILOG = """\
Recipients: profiles/recipients.yml (validated before anything is sent). Group passwords:
Airflow Variable fp_secret_<name> under Airflow, else FORCEPROFILES_SECRET_<NAME>; with
--dev-secrets, missing ones are generated into var/distribution/dev-secrets.env (development
only). Mail: FORCEPROFILES_SMTP_HOST / _PORT (default localhost:1025; start a sink with
`forceprofiles mailsink`), or the Airflow connection FORCEPROFILES_SMTP_CONN_ID.
Ledger: FORCEPROFILES_LEDGER (default var/distribution/ledger.sqlite); a rerun sends only what
has not been sent, and a changed product as a marked revision.
Exit code: 0 all sent (or already sent), 1 some product not sent (see the table), 75 the mail
server is unavailable (retry later).
"""


def add_distribute_parsers(commands: Any) -> None:
    """Add ``send``, ``disclosures`` and ``mailsink`` to the ``forceprofiles`` subcommands."""
    from forceprofiles.cli import _month

    send = commands.add_parser("send", help="email the month's products to their recipients (exactly once)",
                               description="Stage 5: email every rendered product of the month, encrypted, to "
                                           "the recipient groups of profiles/recipients.yml, exactly once per "
                                           "recipient and content, and log each disclosure.",
                               epilog=SEND_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    send.add_argument("--month", type=_month, required=True, help="YYYY-MM")
    send.add_argument("--forces", default=None, help="comma-separated force ids (default: every force rendered)")
    send.add_argument("--out", type=Path, default=None, help="the products folder (default $FORCEPROFILES_OUT)")
    send.add_argument("--lake", type=Path, default=None, help="the lake, for the run summary (default $FORCEPROFILES_LAKE)")
    send.add_argument("--run-id", default=None, help="run id recorded in the ledger and disclosure log")
    send.add_argument("--dev-secrets", action="store_true",
                      help="generate missing group passwords into var/distribution/dev-secrets.env (development)")
    send.add_argument("--no-summary", action="store_true", help="do not email the run summary to the data team")
    send.add_argument("--quiet", action="store_true", help="no progress bar")
    send.set_defaults(handler=_run_send)

    disclosures = commands.add_parser("disclosures", help="query the disclosure log (DPA 2018 s.62)",
                                      description="Who received what, when, by which run: the append-only "
                                                  "disclosure log, plus collection and combination events.")
    disclosures.add_argument("--month", type=_month, default=None, help="YYYY-MM")
    disclosures.add_argument("--force", default=None, help="force id")
    disclosures.add_argument("--recipient", default=None, help="an email address")
    disclosures.add_argument("--kind", default=None, help="disclosure, collection, combination, ...")
    disclosures.add_argument("--format", choices=("table", "csv", "json"), default="table")
    disclosures.add_argument("--log", type=Path, default=None,
                             help="the log file (default $FORCEPROFILES_DISCLOSURE_LOG or var/distribution/...)")
    disclosures.add_argument("--verify", action="store_true", help="also check the log's hash chain")
    disclosures.set_defaults(handler=_run_disclosures)

    sink = commands.add_parser("mailsink", help="a local SMTP sink that writes every message as a .eml file",
                               description="Development mail server on loopback: every message it accepts is "
                                           "written to --dir as an .eml file that any mail client opens.")
    sink.add_argument("--dir", type=Path, default=Path("var/mail"), help="where messages go (default var/mail)")
    sink.add_argument("--port", type=int, default=1025, help="port (default 1025)")
    sink.set_defaults(handler=_run_mailsink)


def _run_send(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from forceprofiles import settings
    from forceprofiles.distribute import crypto, recipients, send
    from forceprofiles.distribute.ledger import InFlightError, Ledger
    from forceprofiles.distribute.mail import SmtpUnavailableError
    from forceprofiles.progress import progress_bar

    started = time.perf_counter()
    out = args.out or settings.output_root()
    run_id = args.run_id or send.new_run_id()
    forces = [f.strip() for f in args.forces.split(",") if f.strip()] if args.forces else None
    config = recipients.load_recipients()
    dev_file = None
    if args.dev_secrets:
        dev_file = crypto.ensure_dev_secrets([g.secret for g in config.all_groups()])
        print(f"send: development passwords in {dev_file}", file=sys.stderr)
    secrets = crypto.SecretStore(dev_file=dev_file)
    ledger = Ledger()
    products, _ = send.month_sidecars(out, args.month)
    total = len([p for p in products if not forces or p.get("force_id") in forces])
    console = Console()
    try:
        with progress_bar("send", total=total, enabled=not args.quiet) as advance:
            summary = send.distribute_month(out, args.month, run_id=run_id, forces=forces, config=config,
                                            ledger=ledger, secrets=secrets, on_product=lambda _: advance())
    except (SmtpUnavailableError, InFlightError) as error:
        console.print(f"send {args.month}: {error}; nothing unconfirmed is recorded as sent; run again later",
                      markup=False)
        return 75
    table = Table(title=f"send {args.month} (run {run_id})")
    for column in ("force", "product", "revision", "groups", "recipients", "sent", "already sent", "status"):
        table.add_column(column)
    for r in summary["products"]:
        table.add_row(r["force_id"], r["product"], str(r["revision"] or "-"), ", ".join(r["groups"]) or "-",
                      str(r["recipients"]), str(r["sent"] + r["resent"]), str(r["already_sent"]), r["status"])
    for e in summary["errors"]:
        table.add_row(e["force_id"], e["product"], "-", "-", "-", "0", "-", "NOT SENT")
    console.print(table)
    for e in summary["errors"]:
        console.print(f"not sent: {e['force_id']} {e['product']}: {e['error']}", markup=False, highlight=False)
    if not args.no_summary:
        try:
            done = send.send_run_summary(args.month, run_id=run_id, out_root=out, lake_root=args.lake, ledger=ledger)
            console.print(f"run summary to {settings.data_team_email()}: {done['status']}", markup=False)
        except SmtpUnavailableError as error:
            console.print(f"run summary not sent: {error}", markup=False)
            return 75
    console.print(f"send {args.month}: {summary['sent']} message(s) sent, {summary['already_sent']} already sent, "
                  f"{len(summary['errors'])} product(s) not sent, {len(summary['skipped'])} skipped at render "
                  f"({time.perf_counter() - started:.1f} s)", markup=False)
    return 1 if summary["errors"] else 0


def _run_disclosures(args: argparse.Namespace) -> int:
    from forceprofiles.distribute import disclosure_log

    rows = disclosure_log.query(month=args.month, force=args.force, recipient=args.recipient, kind=args.kind,
                                path=args.log)
    sys.stdout.write(disclosure_log.render(rows, args.format))
    if args.verify:
        ok, bad = disclosure_log.verify_chain(args.log)
        print(("hash chain intact" if ok else f"HASH CHAIN BROKEN at entry {bad}"), file=sys.stderr)
        return 0 if ok else 2
    return 0


def _run_mailsink(args: argparse.Namespace) -> int:
    from forceprofiles.distribute.sink import serve

    serve(args.dir, port=args.port or int(os.environ.get("FORCEPROFILES_SMTP_PORT", "1025")))
    return 0
