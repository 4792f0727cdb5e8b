"""Claims belong to a live run: stamped when made, renewed while sending, taken only from the dead.

Two processes deliver the same messages through a real SMTP server (aiosmtpd on 127.0.0.1)
with a one-second lease, the first one slower than the lease: the second must send nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from config.settings import get_settings
from db.models import OutboxMessage
from db.session import session_scope
from flows.outbound.ledger import Outgoing, claim, deliver, utc_now
from tests.smtp_sink import ScriptedHandler

LEASE_SECONDS = 1.0


def _messages(count: int) -> list[Outgoing[int]]:
    items = []
    for n in range(count):
        to = f"contact{n}@tokyo.example.org"
        message_id = f"<invitation-{n}@beijing.example.org>"
        raw = (
            f"From: fao@beijing.example.org\r\nTo: {to}\r\nMessage-ID: {message_id}\r\n"
            f"Subject: Invitation {n}\r\n\r\nDear colleague,\r\n"
        ).encode()
        items.append(Outgoing("invitation", to, "uid:0:invite", message_id, raw, context=n))
    return items


#: the second run, in its own process: ready when imported, delivers the same messages on a
#: line from stdin, prints what it sent
SECOND_RUN = """
import json, sys
from config.settings import get_settings
from tests.flows.outbound.test_claims import _messages
from flows.outbound.ledger import deliver
print("ready", flush=True)
sys.stdin.readline()
result = deliver(_messages({count}), settings=get_settings())
print(json.dumps({{"sent": len(result.sent), "elsewhere": len(result.elsewhere)}}), flush=True)
"""


@pytest.fixture
def slow_smtp(
    amity_db: str, smtp_server: tuple[ScriptedHandler, int], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ScriptedHandler]:
    """Settings for SMTP to the sink, a one-second lease and half a second between messages."""
    handler, port = smtp_server
    for name, value in {
        "AMITY_MAIL_TRANSPORT": "smtp",
        "AMITY_SMTP__HOST": "127.0.0.1",
        "AMITY_SMTP__PORT": str(port),
        "AMITY_SMTP__SECURITY": "none",
        "AMITY_SEND_INTERVAL_SECONDS": "0.5",
        "AMITY_DELIVERY__CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield handler
    get_settings.cache_clear()


def _states() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(OutboxMessage.state).order_by(OutboxMessage.id)))


def test_a_run_slower_than_the_lease_keeps_its_claims(slow_smtp: ScriptedHandler) -> None:
    count = 10
    slow_smtp.hold_after = 2  # the first run sends two, then waits in the server's DATA
    second = subprocess.Popen(
        [sys.executable, "-c", SECOND_RUN.format(count=count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert second.stdin is not None and second.stdout is not None
    assert second.stdout.readline().strip() == "ready"  # imported: it will claim at once
    runner = threading.Thread(
        target=deliver, args=(_messages(count),), kwargs={"settings": get_settings()}
    )
    runner.start()
    while "sent" not in _states():  # the first run is sending
        time.sleep(0.05)
    time.sleep(LEASE_SECONDS * 1.5)  # its first claims are older than the lease by now

    second.stdin.write("go\n")
    second.stdin.flush()
    answer = json.loads(second.stdout.readline())
    still_sending = runner.is_alive()
    slow_smtp.release.set()
    second.wait()
    runner.join()

    received = sorted(msg for _, _, msg in slow_smtp.received)
    assert answer["sent"] == 0
    assert answer["elsewhere"] >= 1  # it found messages the first run still held
    assert len(received) == count
    assert len(set(received)) == count  # nobody got two copies
    assert _states() == ["sent"] * count
    assert still_sending  # the second run came while the first was sending


def test_a_silent_owner_loses_its_claims_after_the_lease(
    slow_smtp: ScriptedHandler, live_pid: int
) -> None:
    # a live process that stopped renewing (frozen, or its heartbeat cannot reach the database)
    silent = f"{socket.gethostname()}:{live_pid}:0123456789ab"
    items = _messages(2)
    with session_scope() as session:
        claim(
            session,
            [(*m.key, m.message_id) for m in items],
            token=silent,
            now=utc_now() - dt.timedelta(seconds=LEASE_SECONDS + 1),
        )

    result = deliver(items, settings=get_settings())

    assert ([m.context for m in result.sent], result.elsewhere) == ([0, 1], [])
    assert len(slow_smtp.received) == 2


def test_a_claim_is_stamped_when_made_and_renewed_while_sending(
    slow_smtp: ScriptedHandler,
) -> None:
    flow_started = utc_now() - dt.timedelta(hours=1)  # what the old code stamped
    before = utc_now()

    deliver(_messages(4), settings=get_settings())  # ~1.5 s: renewed every third of a second

    with session_scope() as session:
        rows = session.execute(
            select(OutboxMessage.claimed_dt, OutboxMessage.sent_dt).order_by(OutboxMessage.id)
        ).all()
    assert all(before <= claimed <= sent for claimed, sent in rows)
    assert all(claimed > flow_started for claimed, _ in rows)
    # the last message's claim was renewed after the first message went out
    assert rows[-1].claimed_dt > rows[0].sent_dt


@pytest.fixture
def live_pid() -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()
