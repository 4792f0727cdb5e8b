"""A real SMTP server (aiosmtpd) on 127.0.0.1 that answers from a script and records."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller


@dataclass
class ScriptedHandler:
    """An aiosmtpd handler that answers from a script, then accepts and records."""

    rcpt_replies: list[str] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    #: drop the connection instead of answering the next N DATA commands
    drops: int = 0
    #: stall the next N RCPT commands this many seconds (longer than the client timeout)
    stalls: int = 0
    stall_seconds: float = 0.0
    #: hold each DATA after this many messages until ``release`` is set (a run caught mid-send)
    hold_after: int | None = None
    release: threading.Event = field(default_factory=threading.Event)
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    peers: set[tuple[str, int]] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.stalls:
            self.stalls -= 1
            await asyncio.sleep(self.stall_seconds)
        if self.rcpt_replies:
            reply = self.rcpt_replies.pop(0)
            if not reply.startswith("250"):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.peers.add(session.peer)
        if self.hold_after is not None and len(self.received) >= self.hold_after:
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 120)
        if self.drops:
            self.drops -= 1
            server.transport.close()
            return "421 gone"
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[ScriptedHandler, int]]:
    handler = ScriptedHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()
