"""The delivery ledger on both databases, sending into a real Maildir."""

from __future__ import annotations

import datetime as dt
import mailbox
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from config.settings import get_settings
from db.models import OutboxMessage
from db.session import session_scope
from flows.outbound.ledger import (
    CLAIM_LEASE,
    Outgoing,
    Tally,
    claim,
    confirm_many,
    deliver,
    new_claim_token,
    release_claim_token,
    tally,
    utc_now,
)

NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
RECIPIENTS = ["Ken.Sato@tokyo.example.org", "hanako.yamada@tokyo.example.org"]


def _message(n: int, to: str) -> Outgoing[int]:
    message_id = f"<invitation-{n}@beijing.example.org>"
    raw = (
        f"From: fao@beijing.example.org\r\nTo: {to}\r\nMessage-ID: {message_id}\r\n"
        f"Subject: Invitation {n}\r\n\r\nDear colleague,\r\n"
    ).encode()
    return Outgoing("invitation", to, "uid-1:0:invite", message_id, raw, context=n)


MESSAGES = [_message(n, to) for n, to in enumerate(RECIPIENTS)]


def _rows() -> list[tuple[str, str, str | None]]:
    with session_scope() as session:
        return [
            (row.recipient, row.state, row.claim_token)
            for row in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]


def _maildir_ids() -> list[str]:
    box = mailbox.Maildir(get_settings().outbox_dir, create=False)
    return sorted(m["Message-ID"] for m in box)


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    probe = [sys.executable, "-c", "import os; print(os.getpid())"]
    return int(subprocess.run(probe, check=True, capture_output=True, text=True).stdout)


@pytest.fixture
def live_pid() -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def _claim_as(token: str, at: dt.datetime) -> None:
    with session_scope() as session:
        claim(session, [(*m.key, m.message_id) for m in MESSAGES], token=token, now=at)


def test_claim_then_confirm_marks_the_rows_sent(amity_db: str) -> None:
    token = new_claim_token()
    try:
        with session_scope() as session:
            claims, sent = claim(
                session, [(*m.key, m.message_id) for m in MESSAGES], token=token, now=NOW
            )
        with session_scope() as session:
            confirm_many(
                session, [(c, f"/box/{c.ledger_id}", 1) for c in claims], token=token, now=NOW
            )
    finally:
        release_claim_token(token)

    assert [c.key for c in claims] == [m.key for m in MESSAGES]
    assert sent == []
    with session_scope() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(r.recipient, r.state, r.sent_dt, r.path, r.attempts) for r in rows] == [
            ("ken.sato@tokyo.example.org", "sent", NOW, f"/box/{claims[0].ledger_id}", 1),
            ("hanako.yamada@tokyo.example.org", "sent", NOW, f"/box/{claims[1].ledger_id}", 1),
        ]


def test_claim_new_and_known_keys_at_once(amity_db: str, dead_pid: int) -> None:
    """New keys are claimed by inserting them; of the keys the ledger knows, a sent one is
    reported, a live run's is left to it, a dead run's is taken over."""
    keys = [("invitation", f"c{n}@tokyo.example.org", f"uid-{n}:0:invite") for n in range(5)]
    live, dead = new_claim_token(), f"{socket.gethostname()}:{dead_pid}:0123456789ab"
    mine = new_claim_token()
    try:
        with session_scope() as session:
            (sent_one,), _ = claim(session, [(*keys[0], "<m0@x>")], token=live, now=NOW)
            confirm_many(session, [(sent_one, None, 1)], token=live, now=NOW)
            claim(session, [(*keys[1], "<m1@x>")], token=live, now=NOW)
            claim(session, [(*keys[2], "<m2@x>")], token=dead, now=NOW)
        with session_scope() as session:
            asked = [(p, r.upper(), o, f"<n{n}@x>") for n, (p, r, o) in enumerate(keys)]
            claimed, sent = claim(session, asked + asked[3:4], token=mine, now=NOW)
    finally:
        for token in (live, mine):
            release_claim_token(token)

    assert sent == [keys[0]]
    assert sorted(c.key for c in claimed) == [keys[2], keys[3], keys[4]]
    assert len({c.ledger_id for c in claimed}) == 3
    with session_scope() as session:
        rows = session.execute(select(OutboxMessage.recipient, OutboxMessage.claim_token))
        holders = {recipient: token for recipient, token in rows}
    assert [holders[k[1]] for k in keys] == [live, live, mine, mine, mine]


def test_tally_counts_what_other_runs_did_with_a_runs_messages(amity_db: str) -> None:
    """Sent by another run since this one started, sent before it, still claimed by a live
    run; what this run sent or failed itself is not counted."""
    keys = [("invitation", f"c{n}@tokyo.example.org", f"uid-{n}:0:invite") for n in range(4)]
    day = dt.timedelta(days=1)
    other, this_run = new_claim_token(), new_claim_token()  # both alive: this process
    try:
        with session_scope() as session:
            for n, (token, sent_at) in enumerate(
                [(other, NOW + day), (other, NOW - day), (other, None), (this_run, NOW + day)]
            ):
                (held,), _ = claim(session, [(*keys[n], f"<m{n}@x>")], token=token, now=NOW)
                if sent_at is not None:
                    confirm_many(session, [(held, None, 1)], token=token, now=sent_at)
        with session_scope() as session:
            counted = tally(session, keys, since=NOW, ours=[keys[3]])
            mine_only = tally(session, [keys[3]], since=NOW, ours=[keys[3]])
    finally:
        release_claim_token(other)
        release_claim_token(this_run)

    assert (counted.sent_by_other, counted.sent_before, counted.in_progress_elsewhere) == (1, 1, 1)
    assert mine_only == Tally()


def test_deliver_rerun_skips_what_was_confirmed(amity_db: str) -> None:
    first = deliver(MESSAGES, settings=get_settings())

    again = deliver(MESSAGES, settings=get_settings())

    assert ([m.context for m in first.sent], first.already_sent, first.failed) == ([0, 1], 0, [])
    assert ([m.context for m in again.sent], again.already_sent, again.failed) == ([], 2, [])
    assert _maildir_ids() == sorted(m.message_id for m in MESSAGES)
    assert [state for _, state, _ in _rows()] == ["sent", "sent"]


def test_deliver_takes_over_the_claim_of_a_dead_owner(amity_db: str, dead_pid: int) -> None:
    dead = f"{socket.gethostname()}:{dead_pid}:0123456789ab"
    _claim_as(dead, utc_now())

    result = deliver(MESSAGES, settings=get_settings())

    assert ([m.context for m in result.sent], result.already_sent) == ([0, 1], 0)
    assert _maildir_ids() == sorted(m.message_id for m in MESSAGES)
    assert [(state, token == dead) for _, state, token in _rows()] == [
        ("sent", False),
        ("sent", False),
    ]


def test_deliver_leaves_the_fresh_claim_of_a_live_owner(amity_db: str, live_pid: int) -> None:
    alive = f"{socket.gethostname()}:{live_pid}:0123456789ab"
    _claim_as(alive, utc_now())

    result = deliver(MESSAGES, settings=get_settings())

    assert ([m.context for m in result.sent], result.already_sent) == ([], 0)
    assert [(state, token) for _, state, token in _rows()] == [
        ("claimed", alive),
        ("claimed", alive),
    ]


def test_deliver_takes_over_a_claim_older_than_the_lease(amity_db: str) -> None:
    # another host: whether its process lives cannot be told, only the lease expires
    elsewhere = "other-host.example:4242:0123456789ab"
    _claim_as(elsewhere, utc_now() - CLAIM_LEASE + dt.timedelta(minutes=1))
    within = deliver(MESSAGES, settings=get_settings())
    with session_scope() as session:  # the owner has been silent past the lease
        session.execute(update(OutboxMessage).values(claimed_dt=utc_now() - CLAIM_LEASE))

    after = deliver(MESSAGES, settings=get_settings())

    assert [m.context for m in within.sent] == []
    assert [m.context for m in after.sent] == [0, 1]
    assert [state for _, state, _ in _rows()] == ["sent", "sent"]


def test_rows_by_key_finds_exactly_the_keys_asked_across_statements(amity_db: str) -> None:
    """Keys over more recipients than one IN list holds; the same recipients' other
    occurrences and purposes, and other recipients, are not returned."""
    from db.outbox import IN_LIMIT, rows_by_key

    now = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    count = IN_LIMIT + 7
    rows = [
        {
            "purpose": purpose,
            "recipient": f"c{n}@x.example",
            "occurrence": f"uid-{n}:{sequence}:invite",
            "message_id": f"<{purpose}.{n}.{sequence}@x>",
            "state": "sent" if n % 2 else "claimed",
            "claim_token": "t",
            "claimed_dt": now,
            "attempts": 0,
        }
        for n in range(count + 3)
        for purpose in ("invitation", "reminder")
        for sequence in (0, 1)
    ]
    with session_scope() as session:
        session.execute(OutboxMessage.__table__.insert(), rows)  # type: ignore[attr-defined]
        asked = {("invitation", f"c{n}@x.example", f"uid-{n}:1:invite") for n in range(count)}

        found = [
            (r.purpose, r.recipient, r.occurrence, r.state)
            for r in rows_by_key(session, asked, OutboxMessage.state)
        ]
        sent = {
            (r.purpose, r.recipient, r.occurrence)
            for r in rows_by_key(session, asked, where=OutboxMessage.state == "sent")
        }

    assert {f[:3] for f in found} == asked and len(found) == count
    assert all(
        state == ("sent" if int(r[1:].split("@")[0]) % 2 else "claimed") for _, r, _, state in found
    )
    assert sent == {k for k in asked if int(k[1][1:].split("@")[0]) % 2}
