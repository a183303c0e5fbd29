"""A real SMTP server for tests (aiosmtpd), and Django pointed at it.

    def test_something(smtp_server):
        ...  # send mail through Django's SMTP backend
        [message] = smtp_server.wait_for(1)
        assert message["Subject"] == "..."
        assert message.get_body(("plain",)).get_content() == "..."

`smtp_server.messages` holds what the server received, parsed with the `email` package
(`email.message.EmailMessage`, modern policy); `smtp_server.envelopes` the SMTP envelopes (sender and
recipients as given in MAIL FROM / RCPT TO). `smtp_server.refuse_next(n, code=451)` makes the server
refuse the next n messages, to test delivery failures.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest


@dataclass
class Envelope:
    mail_from: str
    rcpt_tos: list[str]


@dataclass
class SMTPServer:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    refused: int = 0
    _refusals: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def refuse_next(self, count: int = 1, *, code: int = 451, text: str = "4.3.0 Try again later") -> None:
        """Answer the next `count` messages with `code` (4xx: temporary, 5xx: final) instead of accepting."""
        with self._changed:
            self._refusals.extend([f"{code} {text}"] * count)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until `count` messages have arrived (fails the test otherwise) and return them all."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"SMTP server received {len(self.messages)} message(s), expected {count}")
                self._changed.wait(remaining)
            return list(self.messages)

    def clear(self) -> None:
        with self._changed:
            self.messages.clear()
            self.envelopes.clear()

    # aiosmtpd handler hook
    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        with self._changed:
            if self._refusals:
                self.refused += 1
                return self._refusals.pop(0)
            raw = envelope.original_content or envelope.content
            self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))
            self.envelopes.append(Envelope(envelope.mail_from, list(envelope.rcpt_tos)))
            self._changed.notify_all()
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(server: SMTPServer):
    from aiosmtpd.controller import Controller

    last_error: Exception | None = None
    for _ in range(5):  # another process may take the free port between the probe and the start
        server.port = _free_port()
        controller = Controller(server, hostname=server.host, port=server.port, ready_timeout=10)
        try:
            controller.start()
        except Exception as error:  # noqa: BLE001 - retried on another port
            last_error = error
            continue
        return controller
    raise RuntimeError(f"could not start the test SMTP server: {last_error}")


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free local port; Django's SMTP backend sends to it during the test."""
    server = SMTPServer(host="127.0.0.1", port=0)
    controller = _start(server)
    # Django 6.1's MAILERS takes precedence over the older EMAIL_* settings, whichever the project uses.
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": server.host, "port": server.port, "use_tls": False, "use_ssl": False, "timeout": 10},
        }
    }
    try:
        yield server
    finally:
        controller.stop()
