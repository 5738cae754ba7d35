"""The exactly-once ledger: each (month, force, product, recipient, content sha256) is sent once.

A task retry, a rerun or a backfill asks the ledger before every message. The ledger is a
SQLite file (``$FORCEPROFILES_LEDGER`` or ``<home>/var/distribution/ledger.sqlite``); the
disclosure log is ATTACHed to the same connection so that "sent" and its disclosure entry are
committed in one transaction (SQLite commits attached databases atomically in its default
rollback-journal mode, which is why neither file uses WAL).

State machine of one delivery (one row per key)::

    (none) --claim--> sending --SMTP accepted--> sent            (final: never sent again)
                         |  \\--SMTP error------> failed --claim--> sending   (retry)
                         \\--process died / lease expired --claim--> sending  (resend)

- ``claim`` (in a ``BEGIN IMMEDIATE`` transaction) records ``sending`` with the claimer's
  host, pid and time *before* the message goes to SMTP. It returns ``already_sent`` for a
  ``sent`` row, and raises :class:`InFlightError` (retriable) for a ``sending`` row whose
  owner may still be working: another live process on this host, or any process elsewhere
  within the lease (``$FORCEPROFILES_SEND_LEASE_SECONDS``, default 900 s).
- ``mark_sent`` after the server's 250 reply sets ``sent`` and appends the disclosure.
- ``mark_failed`` after an SMTP error releases the claim: the server did not confirm the
  message (refused, unreachable, or the connection dropped), so the next attempt sends it.

The trade-off: a crash *between* the server accepting a message and the ledger commit (a few
milliseconds; or a worker killed, or the connection dropped, after the final dot but before the
server's reply) cannot be told apart
from a crash before sending, because SMTP has no way to ask "did you get message X?". We
choose **at-least-once for that single in-flight message**: the next claim finds a stale
``sending`` row (its process is dead, or its lease expired) and sends it again. Recipients are
already cleared for that very content, so a duplicate is a nuisance, whereas a product that
silently never arrives is an operational failure. The resend carries the same
``Message-ID`` (derived from the key), so mail clients and relays that de-duplicate on it
show one message, and the disclosure log records the interrupted attempt as an
``unconfirmed`` disclosure, so the DPO's record is complete either way. Every other message
is exactly once.

Revisions: a different sha256 for the same (month, force, product) is a new revision of the
product, numbered in the order it is first claimed (1, 2, ...), shared by every recipient.
A version identical to an earlier one is not resent to a recipient who already has it.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forceprofiles import settings
from forceprofiles.distribute import disclosure_log

LEDGER_ENV = "FORCEPROFILES_LEDGER"
LEASE_ENV = "FORCEPROFILES_SEND_LEASE_SECONDS"
DEFAULT_LEASE_SECONDS = 900
STATES = ("sending", "sent", "failed")
DISCLOSURE_SCHEMA = "disclosure"


class InFlightError(RuntimeError):
    """Another live worker is sending this message right now: retry later (retriable)."""


@dataclass(frozen=True)
class DeliveryKey:
    """What is sent once: this content of this product of this month and force, to this address."""

    month: str
    force_id: str
    product: str
    recipient: str
    sha256: str

    def message_id(self, domain: str) -> str:
        """A Message-ID derived from the key: a resend of the same delivery carries the same id."""
        digest = hashlib.sha256("|".join((self.month, self.force_id, self.product, self.recipient.lower(),
                                          self.sha256)).encode("utf-8")).hexdigest()
        return f"<fp.{digest[:40]}@{domain}>"


@dataclass(frozen=True)
class Claim:
    """The outcome of :meth:`Ledger.claim`.

    ``status``: ``new`` (first attempt), ``retry`` (an earlier attempt failed cleanly),
    ``resend`` (an earlier attempt was interrupted and may have been delivered) or
    ``already_sent`` (nothing to do).
    """

    key: DeliveryKey
    status: str
    revision: int
    attempt: int
    token: str
    previous_revision_sent_at: str | None = None

    @property
    def should_send(self) -> bool:
        """False only when the ledger says this delivery is done."""
        return self.status != "already_sent"


def default_ledger_path() -> Path:
    """``$FORCEPROFILES_LEDGER`` or ``<home>/var/distribution/ledger.sqlite``."""
    value = os.environ.get(LEDGER_ENV, "").strip()
    return Path(value).expanduser() if value else settings.project_home() / "var" / "distribution" / "ledger.sqlite"


def lease_seconds() -> int:
    """How long a ``sending`` claim of a process we cannot see (another host) is respected."""
    value = os.environ.get(LEASE_ENV, "").strip()
    return int(value) if value else DEFAULT_LEASE_SECONDS


def _now() -> datetime:
    return datetime.now(UTC)


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class Ledger:
    """The delivery ledger, with the disclosure log attached for atomic 'sent + disclosed'."""

    def __init__(self, path: Path | None = None, *, disclosure_path: Path | None = None,
                 lease: int | None = None) -> None:
        self.path = Path(path) if path else default_ledger_path()
        self.disclosure_path = Path(disclosure_path) if disclosure_path else disclosure_log.default_log_path()
        self.lease = lease_seconds() if lease is None else lease
        self.host = socket.gethostname()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.disclosure_path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            self._ensure_schema(conn)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("attach database ? as " + DISCLOSURE_SCHEMA, (str(self.disclosure_path),))
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("begin immediate")
            try:
                yield conn
            except BaseException:
                conn.execute("rollback")
                raise
            conn.execute("commit")

    @staticmethod
    def _ensure_schema(conn: sqlite3.Connection) -> None:
        conn.execute("begin immediate")
        conn.execute(f"""
            create table if not exists deliveries (
                month text not null, force_id text not null, product text not null,
                recipient text not null, sha256 text not null,
                revision integer not null, recipient_group text not null,
                state text not null check (state in ({', '.join(repr(s) for s in STATES)})),
                attempts integer not null, claim_token text not null,
                claimed_at text not null, claimed_host text not null, claimed_pid integer not null,
                run_id text, message_id text, sent_at text, last_error text,
                primary key (month, force_id, product, recipient, sha256))""")
        conn.execute("""
            create table if not exists revisions (
                month text not null, force_id text not null, product text not null,
                sha256 text not null, revision integer not null, first_claimed_at text not null,
                primary key (month, force_id, product, sha256),
                unique (month, force_id, product, revision))""")
        disclosure_log.ensure_schema(conn, DISCLOSURE_SCHEMA)
        conn.execute("commit")

    def _revision(self, conn: sqlite3.Connection, key: DeliveryKey, now: str) -> int:
        row = conn.execute("select revision from revisions where month=? and force_id=? and product=? and sha256=?",
                           (key.month, key.force_id, key.product, key.sha256)).fetchone()
        if row:
            return int(row[0])
        top = conn.execute("select coalesce(max(revision), 0) from revisions where month=? and force_id=? "
                           "and product=?", (key.month, key.force_id, key.product)).fetchone()[0]
        conn.execute("insert into revisions values (?, ?, ?, ?, ?, ?)",
                     (key.month, key.force_id, key.product, key.sha256, int(top) + 1, now))
        return int(top) + 1

    def claim(self, key: DeliveryKey, *, group: str, run_id: str | None, message_id: str,
              on_interrupted: Callable[[sqlite3.Connection, Mapping[str, Any]], None] | None = None) -> Claim:
        """Claim a delivery before sending it (see the module docstring for the state machine).

        ``on_interrupted(conn, previous_row)`` is called inside the claim's transaction when a
        stale ``sending`` row is taken over, so the caller can log the interrupted attempt as
        an unconfirmed disclosure atomically with the new claim.
        """
        now = _now()
        stamp = now.isoformat(timespec="microseconds")
        token = uuid.uuid4().hex
        with self._transaction() as conn:
            revision = self._revision(conn, key, stamp)
            row = conn.execute("select * from deliveries where month=? and force_id=? and product=? and recipient=? "
                               "and sha256=?", (key.month, key.force_id, key.product, key.recipient,
                                                key.sha256)).fetchone()
            if row is not None and row["state"] == "sent":
                return Claim(key, "already_sent", revision, int(row["attempts"]), row["claim_token"])
            if row is not None and row["state"] == "sending" and not self._stale(row, now):
                raise InFlightError(f"{key.month} {key.force_id} {key.product}: a delivery is being sent by "
                                    f"process {row['claimed_pid']} on {row['claimed_host']} since "
                                    f"{row['claimed_at']}; retry later")
            if row is None:
                status, attempt = "new", 1
                conn.execute("insert into deliveries (month, force_id, product, recipient, sha256, revision, "
                             "recipient_group, state, attempts, claim_token, claimed_at, claimed_host, claimed_pid, "
                             "run_id, message_id) values (?, ?, ?, ?, ?, ?, ?, 'sending', 1, ?, ?, ?, ?, ?, ?)",
                             (key.month, key.force_id, key.product, key.recipient, key.sha256, revision, group,
                              token, stamp, self.host, os.getpid(), run_id, message_id))
            else:
                status = "resend" if row["state"] == "sending" else "retry"
                attempt = int(row["attempts"]) + 1
                if status == "resend" and on_interrupted is not None:
                    on_interrupted(conn, dict(row))
                conn.execute("update deliveries set state='sending', attempts=?, claim_token=?, claimed_at=?, "
                             "claimed_host=?, claimed_pid=?, run_id=?, recipient_group=? where month=? and "
                             "force_id=? and product=? and recipient=? and sha256=?",
                             (attempt, token, stamp, self.host, os.getpid(), run_id, group, key.month, key.force_id,
                              key.product, key.recipient, key.sha256))
            return Claim(key, status, revision, attempt, token)

    def _stale(self, row: sqlite3.Row, now: datetime) -> bool:
        """A ``sending`` row nobody is working on any more: its process died, or its lease ran out."""
        if row["claimed_host"] == self.host and (row["claimed_pid"] == os.getpid() or not pid_alive(row["claimed_pid"])):
            return True
        claimed = datetime.fromisoformat(row["claimed_at"])
        return (now - claimed).total_seconds() > self.lease

    def mark_sent(self, claim: Claim, *, disclosure: Mapping[str, Any]) -> None:
        """Record the delivery as sent and append its disclosure entry, in one transaction."""
        key = claim.key
        stamp = _now().isoformat(timespec="microseconds")
        with self._transaction() as conn:
            conn.execute("update deliveries set state='sent', sent_at=?, last_error=null where month=? and force_id=? "
                         "and product=? and recipient=? and sha256=?",
                         (stamp, key.month, key.force_id, key.product, key.recipient, key.sha256))
            disclosure_log.append(conn, {**disclosure, "kind": "disclosure", "outcome": "sent", "logged_at": stamp},
                                  schema=DISCLOSURE_SCHEMA)

    def mark_failed(self, claim: Claim, error: str) -> None:
        """Release a claim whose send failed before the server accepted it (retry later)."""
        key = claim.key
        with self._transaction() as conn:
            conn.execute("update deliveries set state='failed', last_error=? where month=? and force_id=? and "
                         "product=? and recipient=? and sha256=? and claim_token=? and state='sending'",
                         (error[:300], key.month, key.force_id, key.product, key.recipient, key.sha256, claim.token))

    def rows(self, month: str | None = None, force_id: str | None = None) -> list[dict[str, Any]]:
        """The ledger's rows (for summaries and tests), oldest claim first."""
        clauses = [c for c, v in (("month = ?", month), ("force_id = ?", force_id)) if v]
        params = [v for v in (month, force_id) if v]
        where = f"where {' and '.join(clauses)}" if clauses else ""
        with self._connect() as conn:
            return [dict(r) for r in conn.execute(f"select * from deliveries {where} order by claimed_at", params)]

    def state_counts(self, month: str) -> dict[str, int]:
        """How many deliveries of the month are in each state."""
        with self._connect() as conn:
            counts = dict(conn.execute("select state, count(*) from deliveries where month=? group by state",
                                       (month,)).fetchall())
        return {state: int(counts.get(state, 0)) for state in STATES}
