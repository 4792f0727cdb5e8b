"""The delivery ledger: every message is claimed before it is sent and confirmed after.

One row per (purpose, recipient, occurrence), unique in the database, so that

- a second run skips what was confirmed (state ``sent``);
- two runs at once cannot both claim a message: the INSERT of one of them conflicts;
- a claim belongs to its run for as long as that run lives: each claim is stamped when it is
  made, and a running owner renews its claims (a heartbeat thread, every third of the lease
  ``delivery.claim_lease_seconds``) however long its sending takes. Another run takes a claim
  over only when its owner is dead (same host, the process is gone) or silent past the lease
  (a host that stopped, a frozen process). A run killed between claim and confirm is taken
  over by the next run, which sends again: the Maildir recognises the Message-ID, so the
  re-send does not duplicate; over SMTP a crash after the server accepted the message and
  before the confirm can, in that narrow window, deliver twice (at-least-once).

``deliver`` is the one send loop over the ledger: claim a batch, send each claimed message
(pausing ``send_interval_seconds`` between two), record a failure and go on, confirm. A
transport that cannot be reached or written (SMTP server down, read-only or full outbox)
fails every message of the batch with its reason in the ledger, and nothing is raised. Over
SMTP each send is confirmed at once, so a crash can repeat at most the message in flight;
the Maildir recognises a re-sent Message-ID, so it syncs once when the transport closes and
the batch is confirmed in one statement after that.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from db.models import OutboxMessage
from db.outbox import rows_by_key
from db.session import session_scope
from flows.outbound import faults
from flows.outbound.transport import DeliveryError, SendResult, Transport, make_transport

#: the default lease: a claim its owner has not renewed for this long is taken over
CLAIM_LEASE = dt.timedelta(minutes=15)

_log = logging.getLogger(__name__)


def utc_now() -> dt.datetime:
    """The ledger's clock: claims, renewals and confirms carry the moment they happen."""
    return dt.datetime.now(dt.UTC)


def claim_lease(settings: Settings) -> dt.timedelta:
    return dt.timedelta(seconds=settings.delivery.claim_lease_seconds)


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
    lease: dt.timedelta = CLAIM_LEASE,
) -> tuple[list[Claim], list[tuple[str, str, str]]]:
    """Claim (purpose, recipient, occurrence, message_id) items at ``now``; return (claimed, sent).

    Items claimed by another live run are in neither list: that run sends them. A claim is
    taken over when it failed, its owner is dead, or its owner has not renewed it for
    ``lease``.
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
    # the rows inserted are claimed; only the keys already in the ledger are read back
    inserted = session.execute(
        insert_fn(OutboxMessage)
        .on_conflict_do_nothing()
        .returning(
            OutboxMessage.id,
            OutboxMessage.purpose,
            OutboxMessage.recipient,
            OutboxMessage.occurrence,
        ),
        rows,
    )
    claimed = [Claim(row.id, (row.purpose, row.recipient, row.occurrence)) for row in inserted]
    keys = {(p, r.lower(), o) for p, r, o, _ in items} - {c.key for c in claimed}
    # read whole before the updates below
    existing = list(
        rows_by_key(
            session,
            keys,
            OutboxMessage.id,
            OutboxMessage.state,
            OutboxMessage.claim_token,
            OutboxMessage.claimed_dt,
        )
    )
    sent = []
    for row in existing:
        key = (row.purpose, row.recipient, row.occurrence)
        if row.state == "sent":
            sent.append(key)
            continue
        if row.claim_token == token:
            claimed.append(Claim(row.id, key))
            continue
        stale = (
            row.state == "failed"
            or _owner_is_dead(row.claim_token)
            or (now - row.claimed_dt > lease)
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


def renew_claims(session: Session, token: str, *, now: dt.datetime) -> int:
    """The heartbeat: stamp every claim ``token`` still holds with ``now``; how many."""
    renewed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.claim_token == token, OutboxMessage.state == "claimed")
        .values(claimed_dt=now)
    )
    return int(renewed.rowcount)  # type: ignore[attr-defined]


class ClaimHeartbeat:
    """Renew a run's claims every ``interval`` seconds while the block runs (a thread).

    The sending loop may block for long (a slow relay, SMTP retries with back-off, a pause
    between messages): the renewals do not wait for it. A beat that fails (the database
    busy) is tried again at the next one; the lease is three beats long.
    """

    def __init__(
        self, token: str, *, interval: float, clock: Callable[[], dt.datetime] = utc_now
    ) -> None:
        self.token = token
        self.interval = interval
        self.clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"amity-claims-{token[-12:]}", daemon=True
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with session_scope() as session:
                    renew_claims(session, self.token, now=self.clock())
            except Exception as exc:  # the next beat tries again; never kill the run for it
                _log.warning("renewing the claims of %s failed: %s", self.token, exc)

    def __enter__(self) -> ClaimHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


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
    record_failures(session, [claim], token=token, error=error, attempts=attempts)


def record_failures(
    session: Session, claims: Sequence[Claim], *, token: str, error: str, attempts: int
) -> None:
    """Mark claims failed with the same reason (a transport that failed them all)."""
    if not claims:
        return
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_([c.ledger_id for c in claims]),
            OutboxMessage.claim_token == token,
        )
        .values(state="failed", error=error[:2000], attempts=attempts)
    )


@dataclass(frozen=True)
class Tally:
    """Where a run's messages stand in the ledger once it has sent its share."""

    #: sent by another run since this one started (runs at once share the work)
    sent_by_other: int = 0
    #: sent before this run started
    sent_before: int = 0
    #: still claimed by another live run
    in_progress_elsewhere: int = 0


def tally(
    session: Session,
    keys: Sequence[tuple[str, str, str]],
    *,
    since: dt.datetime,
    ours: Sequence[tuple[str, str, str]] = (),
) -> Tally:
    """Count how ``keys`` stand: sent by another run since ``since``, before it, in progress.

    ``ours`` are the keys this run sent or failed itself, left out of the count.
    """
    mine = {(p, r.lower(), o) for p, r, o in ours}
    # what this run sent or failed itself is not counted: nothing else, nothing to read
    wanted = {(p, r.lower(), o) for p, r, o in keys} - mine
    if not wanted:
        return Tally()
    rows = rows_by_key(session, wanted, OutboxMessage.state, OutboxMessage.sent_dt)
    since_count = before = elsewhere = 0
    for row in rows:
        if row.state == "sent" and row.sent_dt is not None:
            if row.sent_dt >= since:
                since_count += 1
            else:
                before += 1
        elif row.state == "claimed":
            elsewhere += 1
    return Tally(
        sent_by_other=since_count,
        sent_before=before,
        in_progress_elsewhere=elsewhere,
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


@dataclass
class DeliveryResult(Generic[T]):
    """What ``deliver`` did: sent now, confirmed before, held by another run, failed (why)."""

    sent: list[Outgoing[T]] = field(default_factory=list)
    already_sent: int = 0
    failed: list[tuple[Outgoing[T], str]] = field(default_factory=list)
    #: claimed by another live run when this one came to them: that run sends them
    elsewhere: list[Outgoing[T]] = field(default_factory=list)


def deliver(
    items: Sequence[Outgoing[T]],
    *,
    settings: Settings,
    event_id: int | None = None,
    on_confirmed: Callable[[Session, list[Outgoing[T]]], None] | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
) -> DeliveryResult[T]:
    """Claim, send and confirm each message; a failed one is recorded and the rest go on.

    ``on_confirmed`` runs in the transaction that confirms its messages, so what the caller
    records about a send (e.g. the SEQUENCE a contact now holds) commits with the confirm.
    Claims are renewed while the messages go out, so a slow batch keeps them.
    """
    by_key = {item.key: item for item in items}
    result: DeliveryResult[T] = DeliveryResult()
    token = new_claim_token()
    lease = claim_lease(settings)
    try:
        with session_scope() as session:
            claims, sent = claim(
                session,
                [(*key, item.message_id) for key, item in by_key.items()],
                token=token,
                now=clock(),
                event_id=event_id,
                lease=lease,
            )
        result.already_sent = len(sent)
        taken = {c.key for c in claims} | set(sent)
        result.elsewhere = [item for key, item in by_key.items() if key not in taken]
        if claims:
            with ClaimHeartbeat(token, interval=lease.total_seconds() / 3, clock=clock):
                _send_claimed(claims, by_key, result, settings, token, on_confirmed, clock)
    finally:
        release_claim_token(token)
    return result


def _send_claimed(
    claims: list[Claim],
    by_key: dict[tuple[str, str, str], Outgoing[T]],
    result: DeliveryResult[T],
    settings: Settings,
    token: str,
    on_confirmed: Callable[[Session, list[Outgoing[T]]], None] | None,
    clock: Callable[[], dt.datetime],
) -> None:
    confirm_each = settings.mail_transport != "maildir"
    done: list[tuple[Claim, str | None, int]] = []

    def confirm_done() -> None:
        if not done:
            return
        with session_scope() as session:
            confirm_many(session, done, token=token, now=clock())
            if on_confirmed is not None:
                on_confirmed(session, [by_key[c.key] for c, _, _ in done])
        faults.confirmed(len(done))  # crash and race tests stop or hold the run here
        done.clear()

    def fail(failed: Sequence[Claim], reason: str, attempts: int) -> None:
        with session_scope() as session:
            record_failures(session, failed, token=token, error=reason, attempts=attempts)
        result.failed += [(by_key[c.key], reason) for c in failed]

    # "batch": the Maildir is synced when the transport closes, before the batch is confirmed
    transport = transport_from_settings(settings, durability="batch")
    try:
        transport.open()
    except (DeliveryError, OSError) as exc:  # unreachable or unwritable: nothing can go out
        fail(claims, _reason(exc), getattr(exc, "attempts", 1))
        return
    try:
        for n, c in enumerate(claims):
            item = by_key[c.key]
            if n and settings.send_interval_seconds:
                time.sleep(settings.send_interval_seconds)
            with faults.in_flight():
                try:
                    delivered = _send_one(transport, item, settings.office.email)
                except DeliveryError as exc:  # permanent, or transient after every retry
                    fail([c], str(exc), exc.attempts)
                    if exc.scope == "connection":  # every other message would fail the same
                        fail(claims[n + 1 :], f"not tried: {exc}", 0)
                        break
                    continue
                except OSError as exc:  # the written message cannot be read back
                    fail([c], _reason(exc), 0)
                    continue
                done.append((c, delivered.location, delivered.attempts))
                result.sent.append(item)
                if confirm_each:
                    confirm_done()
    finally:
        try:
            transport.close()
        except (DeliveryError, OSError) as exc:
            # written but not forced to disk: a re-run finds the Message-ID and confirms it
            unsynced = [c for c, _, _ in done]
            done.clear()
            sent_ids = {id(by_key[c.key]) for c in unsynced}
            result.sent = [i for i in result.sent if id(i) not in sent_ids]
            fail(unsynced, f"written but not saved to disk: {_reason(exc)}", 1)
    confirm_done()


def _send_one(transport: Transport, item: Outgoing[Any], sender: str) -> SendResult:
    """Send a message held in memory, or written in a file (a Maildir may link that file)."""
    if isinstance(item.message, Path):
        return transport.send_file(
            item.message, sender=sender, recipients=[item.recipient], message_id=item.message_id
        )
    return transport.send(
        item.message, sender=sender, recipients=[item.recipient], message_id=item.message_id
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    return str(exc)


def send_manifest(
    event_id: int,
    manifest: list[dict[str, Any]],
    *,
    ledger_key: Callable[[dict[str, Any]], tuple[str, str]],
    on_confirmed: Callable[[Session, list[dict[str, Any]]], None],
) -> dict[str, Any]:
    """Send messages (entries with email, city, message_id, and message bytes or an eml path)
    through the ledger.

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
                message=m["message"] if m.get("message") is not None else Path(m["eml"]),
                context=m,
            )
        )
    result = deliver(
        items,
        settings=get_settings(),
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
        #: ledger keys of the chunk, and those another run held: the summary's tally
        "keys": [list(item.key) for item in items],
        "ours": [list(item.key) for item in result.sent]
        + [list(item.key) for item, _ in result.failed],
    }


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
