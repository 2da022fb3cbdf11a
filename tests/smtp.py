"""A real SMTP server on loopback (aiosmtpd) that injects the faults of issue 13: temporary
refusals (451), connections dropped mid-DATA, refused reconnects, and a hook that runs when a
message has been accepted (to kill the worker inside its crash window).

Faults are deterministic: every k-th message, or a seeded random share. The server counts what
it accepted per recipient, with each message's Message-ID, so a test can prove exactly once.
"""

from __future__ import annotations

import random
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


@dataclass
class Faults:
    """What the server does to the n-th message (1-based) and to new connections."""

    temporary_first: int = 0  # the first k messages get 451
    temporary_every: int = 0  # every k-th message gets 451 (0: never)
    permanent_every: int = 0  # every k-th message gets 550
    drop_every: int = 0  # every k-th message: the socket closes mid-DATA, no reply
    temporary_share: float = 0.0  # or a seeded random share of messages gets 451
    drop_share: float = 0.0  # and a seeded random share is dropped mid-DATA
    refuse_after_drop: float = 0.0  # share of reconnects after a drop refused at once
    seed: int = 13


@dataclass
class FaultySMTP:
    """The aiosmtpd handler: accepts, refuses or drops each message as ``faults`` say."""

    faults: Faults = field(default_factory=Faults)
    on_accepted: Callable[[int], None] | None = None  # called with the accepted count
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (recipient, Message-ID)
    contents: list[bytes] = field(default_factory=list)  # each accepted message, as received
    temporary: int = 0
    permanent: int = 0
    dropped: int = 0
    refused: int = 0
    _seen: int = 0
    _refusing: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.faults.seed)

    def refuse_connection(self) -> bool:
        with self._lock:
            if self._refusing:
                self._refusing = False
                self.refused += 1
                return True
            return False

    def _fault(self) -> str | None:
        f, n = self.faults, self._seen
        if n <= f.temporary_first or (f.temporary_every and n % f.temporary_every == 0):
            return "451"
        if f.permanent_every and n % f.permanent_every == 0:
            return "550"
        if f.drop_every and n % f.drop_every == 0:
            return "drop"
        roll = self._random.random()
        if roll < f.temporary_share:
            return "451"
        if roll < f.temporary_share + f.drop_share:
            return "drop"
        return None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self._seen += 1
            fault = self._fault()
            if fault == "451":
                self.temporary += 1
                return "451 4.3.0 Try again later"
            if fault == "550":
                self.permanent += 1
                return "550 5.7.1 Message rejected"
            if fault == "drop":
                self.dropped += 1
                self._refusing = self._random.random() < self.faults.refuse_after_drop
                server.transport.close()
                return "250 never heard"  # the socket is gone: the client sees a disconnect
            message = message_from_bytes(envelope.content)
            self.contents.append(envelope.content)
            for rcpt in envelope.rcpt_tos:
                self.accepted.append((rcpt, str(message["Message-ID"])))
            count = len(self.accepted)
        if self.on_accepted is not None:
            self.on_accepted(count)
        return "250 Message accepted for delivery"

    def count(self) -> Counter[str]:
        return Counter(rcpt for rcpt, _ in self.accepted)

    def message_ids(self, rcpt: str) -> list[str]:
        return [message_id for to, message_id in self.accepted if to == rcpt]


class _RefusingSMTP(SMTP):
    async def _handle_client(self) -> None:
        handler = self.event_handler
        if isinstance(handler, FaultySMTP) and handler.refuse_connection():
            assert self.transport is not None
            self.transport.close()  # no greeting: smtplib's connect fails
            return
        await super()._handle_client()


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _RefusingSMTP(self.handler, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smtp_mailers(port: int) -> dict[str, Any]:
    """``settings.MAILERS`` pointing at the test server."""
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, "timeout": 5},
        }
    }


@contextmanager
def smtp_server(handler: FaultySMTP) -> Iterator[int]:
    """Run ``handler`` on a free loopback port for the block; yields the port."""
    port = free_port()
    controller = _Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
