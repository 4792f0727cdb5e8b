"""The delivery ledger: every message is claimed before it is sent and confirmed after.

One row per (purpose, recipient, occurrence), unique in the database, so that

- a second run skips what was confirmed (state ``sent``);
- two runs at once cannot both claim a message: the INSERT of one of them conflicts;
- a run killed between claim and confirm leaves a ``claimed`` row whose owner is dead; the
  next run takes it over (same host and the owner's process is gone, or the claim is older
  than the lease) and sends it again. The Maildir transport recognises the Message-ID, so
  the re-send does not duplicate; over SMTP a crash after the server accepted the message
  and before the confirm can, in that narrow window, deliver twice (at-least-once).

``deliver`` is the one send loop over the ledger: claim a batch, send each claimed message
(pausing ``send_interval_seconds`` between two), record a failure and go on, confirm. Over
SMTP each send is confirmed at once, so a crash can repeat at most the message in flight;
the Maildir recognises a re-sent Message-ID, so it syncs once when the transport closes and
the batch is confirmed in one statement after that.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from db.models import OutboxMessage
from db.session import session_scope
from flows.outbound.transport import DeliveryError, Transport, make_transport

#: a claim older than this is taken over even if its owner may be alive elsewhere
CLAIM_LEASE = dt.timedelta(minutes=15)


#: tokens of the runs in progress in this process (a run may share its process with others)
_LIVE_TOKENS: set[str] = set()


def new_claim_token() -> str:
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    _LIVE_TOKENS.add(token)
    return token


def release_claim_token(token: str) -> None:
    _LIVE_TOKENS.discard(token)


def _owner_is_dead(token: str) -> bool:
    host, _, rest = token.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        # left over by an earlier run in this process unless that run is still going
        return token not in _LIVE_TOKENS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class Claim:
    """A message to send: this run holds the ledger row ``ledger_id``."""

    ledger_id: int
    key: tuple[str, str, str]


def claim(
    session: Session,
    items: Sequence[tuple[str, str, str, str]],
    *,
    token: str,
    now: dt.datetime,
    event_id: int | None = None,
) -> tuple[list[Claim], list[tuple[str, str, str]]]:
    """Claim (purpose, recipient, occurrence, message_id) items; return (claimed, already sent).

    Items claimed by another live run are in neither list: that run sends them.
    """
    if not items:
        return [], []
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [
        {
            "purpose": purpose,
            "recipient": recipient.lower(),
            "occurrence": occurrence,
            "message_id": message_id,
            "state": "claimed",
            "claim_token": token,
            "claimed_dt": now,
            "attempts": 0,
            "event_id": event_id,
        }
        for purpose, recipient, occurrence, message_id in items
    ]
    session.execute(insert_fn(OutboxMessage).on_conflict_do_nothing(), rows)
    keys = {(p, r.lower(), o) for p, r, o, _ in items}
    purposes = {k[0] for k in keys}
    occurrences = {k[2] for k in keys}
    existing = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.purpose,
            OutboxMessage.recipient,
            OutboxMessage.occurrence,
            OutboxMessage.state,
            OutboxMessage.claim_token,
            OutboxMessage.claimed_dt,
        ).where(OutboxMessage.purpose.in_(purposes), OutboxMessage.occurrence.in_(occurrences))
    ).all()
    claimed, sent = [], []
    for row in existing:
        key = (row.purpose, row.recipient, row.occurrence)
        if key not in keys:
            continue
        if row.state == "sent":
            sent.append(key)
            continue
        if row.claim_token == token:
            claimed.append(Claim(row.id, key))
            continue
        stale = (
            row.state == "failed"
            or _owner_is_dead(row.claim_token)
            or (now - row.claimed_dt > CLAIM_LEASE)
        )
        if stale:
            taken = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.claim_token == row.claim_token)
                .values(claim_token=token, claimed_dt=now, state="claimed", error=None)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(Claim(row.id, key))
    claimed.sort(key=lambda c: c.ledger_id)
    return claimed, sent


def confirm_many(
    session: Session,
    done: Sequence[tuple[Claim, str | None, int]],
    *,
    token: str,
    now: dt.datetime,
) -> None:
    """Confirm several sends in one statement: (claim, path, attempts) each."""
    if not done:
        return
    table = OutboxMessage.__table__
    session.execute(
        update(table)  # type: ignore[arg-type]
        .where(table.c.id == bindparam("b_id"), table.c.claim_token == token)
        .values(
            state="sent", sent_dt=now, path=bindparam("b_path"), attempts=bindparam("b_attempts")
        ),
        [
            {"b_id": c.ledger_id, "b_path": path, "b_attempts": attempts}
            for c, path, attempts in done
        ],
    )


def record_failure(
    session: Session, claim: Claim, *, token: str, error: str, attempts: int
) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == claim.ledger_id, OutboxMessage.claim_token == token)
        .values(state="failed", error=error, attempts=attempts)
    )


def transport_from_settings(settings: Settings, *, durability: str = "each") -> Transport:
    """The transport settings name: the Maildir under AMITY_HOME, or SMTP.

    ``durability="batch"`` defers the Maildir's fsync to ``sync()``/``close()``: callers that
    confirm a batch in the ledger only after closing the transport lose nothing and avoid
    one fsync per message (which also flushes every letter file written just before).
    """
    smtp = settings.smtp
    password = smtp.password.get_secret_value() if smtp.password else None
    if password is None and smtp.password_block:
        from prefect.blocks.system import Secret

        secret: Any = Secret.load(smtp.password_block)
        password = str(secret.get())
    return make_transport(
        settings.mail_transport,
        maildir_path=settings.outbox_dir,
        durability=durability,  # type: ignore[arg-type]
        host=smtp.host,
        port=smtp.port,
        security=smtp.security,
        username=smtp.username,
        password=password,
        timeout_seconds=smtp.timeout_seconds,
        attempts=smtp.attempts,
        backoff_seconds=smtp.backoff_seconds,
    )


T = TypeVar("T")


@dataclass(frozen=True)
class Outgoing(Generic[T]):
    """A finished message to send once: its ledger key, and where its bytes are."""

    purpose: str
    recipient: str
    #: what makes this message distinct from others of the same purpose to the same recipient
    occurrence: str
    message_id: str
    #: the written .eml file, or the message itself
    message: Path | bytes
    #: the caller's data about the message, handed back in the result and to ``on_confirmed``
    context: T

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.purpose, self.recipient.lower(), self.occurrence)

    def data(self) -> bytes:
        return self.message.read_bytes() if isinstance(self.message, Path) else self.message


@dataclass
class DeliveryResult(Generic[T]):
    """What ``deliver`` did: sent now, confirmed by an earlier run, and failed (with why)."""

    sent: list[Outgoing[T]] = field(default_factory=list)
    already_sent: int = 0
    failed: list[tuple[Outgoing[T], str]] = field(default_factory=list)


def deliver(
    items: Sequence[Outgoing[T]],
    *,
    settings: Settings,
    now: dt.datetime,
    event_id: int | None = None,
    on_confirmed: Callable[[Session, list[Outgoing[T]]], None] | None = None,
) -> DeliveryResult[T]:
    """Claim, send and confirm each message; a failed one is recorded and the rest go on.

    ``on_confirmed`` runs in the transaction that confirms its messages, so what the caller
    records about a send (e.g. the SEQUENCE a contact now holds) commits with the confirm.
    """
    by_key = {item.key: item for item in items}
    result: DeliveryResult[T] = DeliveryResult()
    token = new_claim_token()
    try:
        with session_scope() as session:
            claims, sent = claim(
                session,
                [(*key, item.message_id) for key, item in by_key.items()],
                token=token,
                now=now,
                event_id=event_id,
            )
        result.already_sent = len(sent)
        if not claims:
            return result
        confirm_each = settings.mail_transport != "maildir"
        done: list[tuple[Claim, str | None, int]] = []

        def confirm_done() -> None:
            if not done:
                return
            with session_scope() as session:
                confirm_many(session, done, token=token, now=now)
                if on_confirmed is not None:
                    on_confirmed(session, [by_key[c.key] for c, _, _ in done])
            done.clear()

        # "batch": the Maildir is synced when the transport closes, before the batch is confirmed
        with transport_from_settings(settings, durability="batch") as transport:
            for n, c in enumerate(claims):
                item = by_key[c.key]
                if n and settings.send_interval_seconds:
                    time.sleep(settings.send_interval_seconds)
                try:
                    delivered = transport.send(
                        item.data(),
                        sender=settings.office.email,
                        recipients=[item.recipient],
                        message_id=item.message_id,
                    )
                except DeliveryError as exc:  # permanent, or transient after every retry
                    with session_scope() as session:
                        record_failure(
                            session, c, token=token, error=str(exc), attempts=exc.attempts
                        )
                    result.failed.append((item, str(exc)))
                    continue
                done.append((c, delivered.location, delivered.attempts))
                result.sent.append(item)
                if confirm_each:
                    confirm_done()
        confirm_done()
    finally:
        release_claim_token(token)
    return result


def send_manifest(
    event_id: int,
    manifest: list[dict[str, Any]],
    *,
    ledger_key: Callable[[dict[str, Any]], tuple[str, str]],
    now: dt.datetime,
    on_confirmed: Callable[[Session, list[dict[str, Any]]], None],
) -> dict[str, Any]:
    """Send written messages (entries with email, city, message_id, eml) through the ledger.

    ``ledger_key`` gives an entry's (purpose, occurrence); ``on_confirmed`` gets the entries
    confirmed, in the confirming transaction.
    """
    items = []
    for m in manifest:
        purpose, occurrence = ledger_key(m)
        items.append(
            Outgoing(
                purpose=purpose,
                recipient=m["email"],
                occurrence=occurrence,
                message_id=m["message_id"],
                message=Path(m["eml"]),
                context=m,
            )
        )
    result = deliver(
        items,
        settings=get_settings(),
        now=now,
        event_id=event_id,
        on_confirmed=lambda session, sent: on_confirmed(session, [i.context for i in sent]),
    )
    return {
        "sent": len(result.sent),
        #: who was sent a message by this run (the UI's per-recipient table)
        "sent_to": [item.context["email"] for item in result.sent],
        "already_sent": result.already_sent,
        "failed": [
            {"email": item.context["email"], "city": item.context["city"], "reason": reason}
            for item, reason in result.failed
        ],
    }


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
