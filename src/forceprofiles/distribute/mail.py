"""The product email (subject, body, encrypted attachment) and the SMTP transport that sends it.

The subject and body say what the product is, for which force and month, the handling
caveat, what changed since last month and the revision (if this replaces an earlier copy).
The password is never in the message: recipients get it out of band.

Transport:

- under Airflow (inside a task), or when ``$FORCEPROFILES_SMTP_CONN_ID`` is set: the SMTP
  provider's :class:`~airflow.providers.smtp.hooks.smtp.SmtpHook` on the connection
  ``$FORCEPROFILES_SMTP_CONN_ID`` (default ``smtp_default``). Give the connection the extra
  ``"retry_limit": 0``: the hook otherwise re-sends a message up to 5 times on any error,
  which can duplicate it; retries belong to the Airflow task (with back-off), which the ledger
  makes safe;
- otherwise plain SMTP to ``$FORCEPROFILES_SMTP_HOST``:``$FORCEPROFILES_SMTP_PORT`` (default
  localhost:1025, the development sink), with ``$FORCEPROFILES_SMTP_STARTTLS=1`` and
  ``$FORCEPROFILES_SMTP_USER`` / ``$FORCEPROFILES_SMTP_PASSWORD`` for a real relay.

Any failure to hand a message to the server raises :class:`SmtpUnavailableError`, which a
task should let fail so Airflow retries it with back-off.
"""

from __future__ import annotations

import html
import logging
import os
import smtplib
import tempfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from forceprofiles import settings

log = logging.getLogger(__name__)

HOST_ENV = "FORCEPROFILES_SMTP_HOST"
PORT_ENV = "FORCEPROFILES_SMTP_PORT"
CONN_ID_ENV = "FORCEPROFILES_SMTP_CONN_ID"
MARKING = "OFFICIAL-SENSITIVE"
DEFAULT_CAVEAT = ("OFFICIAL-SENSITIVE. For the named recipients only, for policing purposes. Do not forward, copy "
                  "or disclose without the originator's consent.")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


class SmtpUnavailableError(RuntimeError):
    """The mail server did not accept a message (down, refused, dropped): retry the task later."""


@dataclass(frozen=True)
class OutgoingMail:
    """One message to one recipient, ready for any transport."""

    sender: str
    recipient: str
    subject: str
    text: str
    attachment_name: str
    attachment: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def html(self) -> str:
        """The body as simple HTML (the Airflow SMTP hook sends HTML bodies)."""
        paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in self.text.split("\n\n"))
        return f"<html><body>{paragraphs}</body></html>"

    def to_message(self) -> EmailMessage:
        """A standard MIME message: text and HTML alternatives plus the zip attachment."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = self.recipient
        message["Subject"] = self.subject
        message["Date"] = formatdate(localtime=False)
        for name, value in self.headers.items():
            message[name] = value
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        message.add_attachment(self.attachment, maintype="application", subtype="zip", filename=self.attachment_name)
        return message


def month_name(month: str) -> str:
    """``2026-10`` -> ``October 2026``."""
    year, number = month.split("-")
    return f"{_MONTHS[int(number) - 1]} {year}"


def compose_product_mail(sidecar: dict[str, Any], *, sender: str, recipient: str, group: str, force_name: str,
                         revision: int, caveat: str | None, message_id: str, attachment_name: str,
                         attachment: bytes) -> OutgoingMail:
    """The email that carries one product to one recipient (the password is never in it)."""
    title = str(sidecar.get("title") or sidecar["product"])
    month = month_name(str(sidecar["month"]))
    revised = f" (Revision {revision})" if revision > 1 else ""
    # The render stage's titles already name the force and month ("...: Kent Police, October 2026").
    heading = title if (force_name in title and month in title) else f"{title}, {force_name}, {month}"
    subject = f"{MARKING}: {heading}{revised}"
    caveat = caveat or DEFAULT_CAVEAT
    changes = str(sidecar.get("changes") or "No comparison with last month is available.").strip()
    parts = [
        MARKING,
        f"{heading} (product {sidecar['product']}, version {sidecar.get('version', '-')}).",
    ]
    if revision > 1:
        parts.append(f"Revision {revision}: this corrected product replaces the copy of {month} you received "
                     f"earlier. Please delete the earlier copy and use this one.")
    parts += [
        f"What changed since last month: {changes}",
        f"The product is attached as an encrypted zip (AES-256): {attachment_name}. The password for your "
        f"recipient group ({group}) reaches you separately from the Force Profiles team; it is never sent by email. "
        "Open it with 7-Zip, WinZip or your system's archive tool.",
        f"Handling: {caveat}",
        f"Content hash (SHA-256) of the PDF: {sidecar['sha256']}. This disclosure to you, as a member of the "
        f"{group} group, is recorded in the disclosure log.",
    ]
    headers = {"Message-ID": message_id, "X-Force-Profiles-Product": str(sidecar["product"]),
               "X-Force-Profiles-Month": str(sidecar["month"]), "X-Force-Profiles-Force": str(sidecar["force_id"]),
               "X-Force-Profiles-Revision": str(revision), "X-Force-Profiles-SHA256": str(sidecar["sha256"]),
               "X-Force-Profiles-Group": group}
    return OutgoingMail(sender=sender, recipient=recipient, subject=subject, text="\n\n".join(parts) + "\n",
                        attachment_name=attachment_name, attachment=attachment, headers=headers)


def compose_plain_mail(*, sender: str, recipient: str, subject: str, text: str,
                       headers: dict[str, str] | None = None) -> EmailMessage:
    """A plain-text message without attachment (the run summary to the data team)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    return message


class Transport(Protocol):
    """Sends messages; a context manager holding one connection for many messages."""

    def __enter__(self) -> Transport: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...

    def send(self, mail: OutgoingMail | EmailMessage) -> None:
        """Hand one message to the server; :class:`SmtpUnavailableError` unless it accepted it."""


class SmtpTransport:
    """Plain SMTP (``smtplib``) to a host and port: the development sink or a relay."""

    def __init__(self, host: str | None = None, port: int | None = None, *, timeout: float = 30.0) -> None:
        self.host = host or os.environ.get(HOST_ENV, "").strip() or "localhost"
        self.port = int(port or os.environ.get(PORT_ENV, "").strip() or 1025)
        self.timeout = timeout
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Quit the SMTP session (quietly if the server has gone)."""
        if self._client is not None:
            try:
                self._client.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._client = None

    def _connect(self) -> smtplib.SMTP:
        if self._client is not None:
            try:
                self._client.noop()
                return self._client
            except (smtplib.SMTPException, OSError):
                self._client = None
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if os.environ.get("FORCEPROFILES_SMTP_STARTTLS", "").strip() in ("1", "true", "yes"):
            client.starttls()
        user = os.environ.get("FORCEPROFILES_SMTP_USER", "").strip()
        if user:
            client.login(user, os.environ.get("FORCEPROFILES_SMTP_PASSWORD", ""))
        self._client = client
        return client

    def send(self, mail: OutgoingMail | EmailMessage) -> None:
        """Send one message; any failure becomes :class:`SmtpUnavailableError` (retriable)."""
        message = mail.to_message() if isinstance(mail, OutgoingMail) else mail
        try:
            refused = self._connect().send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise SmtpUnavailableError(f"SMTP {self.host}:{self.port} did not accept the message "
                                       f"({type(error).__name__}: {_smtp_reason(error)})") from error
        if refused:
            raise SmtpUnavailableError(f"SMTP {self.host}:{self.port} refused {len(refused)} recipient(s)")


class AirflowSmtpTransport:
    """The Airflow SMTP connection, through the SMTP provider's hook (``SmtpHook``)."""

    def __init__(self, conn_id: str | None = None) -> None:
        self.conn_id = conn_id or os.environ.get(CONN_ID_ENV, "").strip() or "smtp_default"
        self._hook: Any = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> AirflowSmtpTransport:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        self._tmp = tempfile.TemporaryDirectory(prefix="fp-send-")
        try:
            self._hook = SmtpHook(smtp_conn_id=self.conn_id).__enter__()
        except Exception as error:
            self._tmp.cleanup()
            raise SmtpUnavailableError(f"Airflow SMTP connection {self.conn_id!r}: {type(error).__name__}: "
                                       f"{_smtp_reason(error)}") from error
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        try:
            if self._hook is not None:
                self._hook.__exit__(kind, error, trace)
        except Exception:  # closing a dead connection must not hide the real error
            pass
        finally:
            self._hook = None
            if self._tmp is not None:
                self._tmp.cleanup()

    def send(self, mail: OutgoingMail | EmailMessage) -> None:
        """Send through ``SmtpHook.send_email_smtp`` (the zip goes as a file attachment)."""
        if self._hook is None or self._tmp is None:
            raise RuntimeError("use AirflowSmtpTransport as a context manager")
        try:
            if isinstance(mail, OutgoingMail):
                path = Path(self._tmp.name) / mail.attachment_name
                path.write_bytes(mail.attachment)
                try:
                    self._hook.send_email_smtp(to=[mail.recipient], subject=mail.subject, html_content=mail.html,
                                               from_email=mail.sender, files=[str(path)], custom_headers=mail.headers)
                finally:
                    path.unlink(missing_ok=True)
            else:
                headers = {k: str(v) for k, v in mail.items() if k not in ("From", "To", "Subject", "Date")}
                self._hook.send_email_smtp(to=[str(mail["To"])], subject=str(mail["Subject"]),
                                           html_content=f"<pre>{html.escape(mail.get_content())}</pre>",
                                           from_email=str(mail["From"]), custom_headers=headers)
        except Exception as error:
            raise SmtpUnavailableError(f"Airflow SMTP connection {self.conn_id!r} did not accept the message "
                                       f"({type(error).__name__}: {_smtp_reason(error)})") from error


def _smtp_reason(error: BaseException) -> str:
    """The server's code and text, or the OS error: never message content or addresses."""
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code}"
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return type(error).__name__


def transport_from_environment() -> Transport:
    """The Airflow SMTP connection inside a task (or with ``$FORCEPROFILES_SMTP_CONN_ID``), else plain SMTP."""
    if os.environ.get(CONN_ID_ENV, "").strip() or settings.running_under_airflow():
        return AirflowSmtpTransport()
    return SmtpTransport()
