"""A local SMTP sink (aiosmtpd) that keeps every message it accepts as an ``.eml`` file.

For development and tests: ``forceprofiles mailsink --dir var/mail`` listens on
127.0.0.1:1025 (the default of ``FORCEPROFILES_SMTP_HOST``/``_PORT``) and writes each message
to ``var/mail/<NNNNNN>-<recipient>.eml``, which any mail client opens. A real deployment
points the same code at its relay instead.

The sink stores a message as soon as its data has arrived and only then (after an optional
``reply_delay``) answers 250: like a real mail server that has queued a message whose
client disconnects before reading the reply. Tests use the delay to kill a sender in exactly
that window.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    """One accepted message: envelope sender and recipients, and the raw bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    def message(self) -> EmailMessage:
        """The parsed message."""
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


class SinkHandler:
    """aiosmtpd handler: keep messages in memory and, with ``directory``, as ``.eml`` files."""

    def __init__(self, directory: Path | None = None, reply_delay: float = 0.0) -> None:
        self.directory = Path(directory) if directory else None
        self.reply_delay = reply_delay
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        received = Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(envelope.original_content
                                                                                      or envelope.content))
        with self._lock:
            self.messages.append(received)
            number = len(self.messages)
        if self.directory:
            safe = re.sub(r"[^A-Za-z0-9@._-]", "_", received.rcpt_tos[0] if received.rcpt_tos else "unknown")
            path = self.directory / f"{number:06d}-{safe}.eml"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(received.data)
            tmp.replace(path)
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        return "250 Message accepted for delivery"


def start_sink(directory: Path | None = None, *, host: str = "127.0.0.1", port: int = 0,
               reply_delay: float = 0.0) -> tuple[Controller, SinkHandler]:
    """Start a sink in a background thread; ``port=0`` picks a free port (``controller.port``)."""
    handler = SinkHandler(directory, reply_delay)
    controller = Controller(handler, hostname=host, port=port or _free_port(host))
    controller.start()
    return controller, handler


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def serve(directory: Path, host: str = "127.0.0.1", port: int = 1025) -> None:
    """Run the sink in the foreground until interrupted (``forceprofiles mailsink``)."""
    controller, _ = start_sink(directory, host=host, port=port)
    print(f"mail sink on {host}:{port}: every message is written to {directory}/ as .eml (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
