"""The office's mailbox: replies, bounces and plain answers read over IMAP, each once.

Each new message is sorted (flows.domain.mailbox) and handled:

- an iMIP REPLY goes through ``amity rsvp import``'s own checks (flows.rsvp.record_replies);
- a delivery report for one of amity's messages (found in the delivery ledger) marks the
  invitation bounced, with status and reason, and the contact's address failing;
- a plain answer to amity's mail, or from a contact, waits for a person (with where it is);
- anything else is left alone.

The database row of a message is committed before the message is marked in the mailbox;
a fetch cut off in between finds the row next time and only marks the message.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from config.settings import Settings, get_settings
from db.mailbox import (
    bounced_message,
    contact_with,
    invitation_to,
    known_messages,
    ledger_message,
    new_message,
    open_invitation,
    processed_message,
    set_marked,
)
from db.models import Bounce, Event, Invitation, MailboxMessage
from db.session import session_scope
from flows.domain.mailbox import Incoming, read_message
from flows.domain.replies import InvalidReply, parse_replies
from flows.outbound.imap import IMAP_ERRORS, Mailbox, MailboxError, open_mailbox
from flows.rsvp import RsvpSummary, record_one

__all__ = ["FaultInjected", "FetchSummary", "MailboxError", "fetch_mailbox"]


class FaultInjected(RuntimeError):
    """Raised at a named point when AMITY_FAULT names it (tests of a crash mid-way)."""


def _fault(point: str) -> None:
    if os.environ.get("AMITY_FAULT") == point:
        raise FaultInjected(point)


@dataclass
class FetchSummary:
    configured: bool = True
    account: str = ""
    folder: str = ""
    #: messages read this time
    read: int = 0
    #: {"message", "outcome"}: "recorded" or why `rsvp import`'s checks refused it
    replies: list[dict[str, Any]] = field(default_factory=list)
    #: {"email", "event", "status", "reason", "message"}
    bounces: list[dict[str, Any]] = field(default_factory=list)
    #: plain answers for a person: {"sender", "subject", "event", "folder", "uid", "message_id"}
    needs_person: list[dict[str, Any]] = field(default_factory=list)
    #: left alone: not a reply, not a report on amity's mail, not an answer
    ignored: int = 0
    #: seen before under another UID or folder (same Message-ID): marked, not handled again
    duplicates: int = 0
    #: handled by an earlier fetch that stopped before marking them: marked now
    marked_from_before: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Where:
    """A message's place in the mailbox."""

    account: str
    folder: str
    uidvalidity: int
    uid: int


@task(cache_policy=NO_CACHE)
def fetch_new_messages(now: dt.datetime) -> dict[str, Any]:
    """Read the new messages of the configured folder once each, handle them, mark them."""
    settings = get_settings()
    summary = FetchSummary()
    if not settings.imap.host:
        summary.configured = False
        return summary.to_dict()
    try:
        _fetch(settings, summary, now)
    except IMAP_ERRORS as exc:
        imap = settings.imap
        raise MailboxError(f"imap {imap.host}:{imap.port}: {exc or type(exc).__name__}") from exc
    return summary.to_dict()


def _fetch(settings: Settings, summary: FetchSummary, now: dt.datetime) -> None:
    with open_mailbox(settings) as box:
        summary.account, summary.folder = box.account, box.folder
        since = (now - dt.timedelta(days=settings.imap.since_days)).date()
        uids = box.new_uids(since)
        _mark_left_over(box, uids, summary)
        with session_scope() as session:
            known = set(known_messages(session, box.account, box.folder, box.uidvalidity, uids))
        for uid, data in box.fetch(u for u in uids if u not in known):
            where = Where(box.account, box.folder, box.uidvalidity, uid)
            row_id, kind = handle_message(where, data, now, summary)
            summary.read += 1
            _fault("mailbox-after-commit")
            if kind != "ignored":
                box.mark(uid, for_a_person=kind == "needs-person")
                with session_scope() as session:
                    set_marked(session, row_id)


def _mark_left_over(box: Mailbox, uids: list[int], summary: FetchSummary) -> None:
    """Mark the messages an earlier fetch handled (committed) but did not get to mark."""
    with session_scope() as session:
        rows = known_messages(session, box.account, box.folder, box.uidvalidity, uids)
        pending = {uid: (r.id, r.kind) for uid, r in rows.items() if not r.is_marked}
    for uid, (row_id, kind) in pending.items():
        if kind == "ignored":
            continue
        box.mark(uid, for_a_person=kind == "needs-person")
        with session_scope() as session:
            set_marked(session, row_id)
        summary.marked_from_before += 1


def handle_message(
    where: Where, data: bytes, now: dt.datetime, summary: FetchSummary
) -> tuple[int, str]:
    """Handle one message and commit its row; return the row's id and kind."""
    incoming = read_message(data)
    with session_scope() as session:
        before = processed_message(session, incoming.message_id)
        if before is not None:
            row = _row(
                where, incoming, before.kind, f"duplicate of {before.folder}/{before.uid}", now
            )
            session.add(row)
            session.flush()
            summary.duplicates += 1
            return row.id, row.kind
    if incoming.kind == "reply":
        return _handle_reply(where, incoming, data, now, summary)
    with session_scope() as session:
        if incoming.kind == "dsn":
            row = _handle_report(session, where, incoming, now, summary)
        elif incoming.kind == "text":
            row = _handle_text(session, where, incoming, now, summary)
        else:
            row = _row(where, incoming, "ignored", "", now)
        if row.kind == "ignored":
            summary.ignored += 1
        session.add(row)
        session.flush()
        return row.id, row.kind


def _row(
    where: Where, incoming: Incoming, kind: str, outcome: str, now: dt.datetime, **links: Any
) -> MailboxMessage:
    return new_message(
        account=where.account,
        folder=where.folder,
        uidvalidity=where.uidvalidity,
        uid=where.uid,
        message_id=incoming.message_id,
        kind=kind,
        outcome=outcome,
        subject=incoming.subject,
        sender=incoming.sender,
        now=now,
        **links,
    )


# ------------------------------------------------------------------ replies


def _handle_reply(
    where: Where, incoming: Incoming, data: bytes, now: dt.datetime, summary: FetchSummary
) -> tuple[int, str]:
    """`rsvp import` on this one message: the same checks, the same reasons."""
    replies = RsvpSummary(files=1)
    with session_scope() as session:
        record_one(session, f"{where.folder} UID {where.uid}", data, replies)
    outcome = reply_outcome(replies.to_dict())
    summary.replies.append({"message": _message_ref(where, incoming), "outcome": outcome})
    with session_scope() as session:
        invitation = _replied_invitation(session, data)
        row = _row(
            where,
            incoming,
            "reply",
            outcome,
            now,
            event_id=invitation.event_id if invitation else None,
            invitation_id=invitation.id if invitation else None,
            contact_id=invitation.contact_id if invitation else None,
        )
        session.add(row)
        session.flush()
        return row.id, row.kind


def reply_outcome(result: dict[str, Any]) -> str:
    """ "recorded", or every reason `rsvp import` gave for not recording (its summary's lists)."""
    if int(result.get("recorded", 0)) > 0:
        return "recorded"
    reasons: list[str] = []
    for key, value in result.items():
        if key in ("files", "recorded"):
            continue
        if isinstance(value, list):
            reasons += [f"{key}: {_text(item)}" for item in value]
        elif isinstance(value, int) and not isinstance(value, bool) and value:
            reasons.append(f"{key}: {value}")
    return "; ".join(reasons) or "not recorded"


def _text(item: Any) -> str:
    if isinstance(item, dict):
        return ", ".join(f"{k}={v}" for k, v in item.items())
    return str(item)


def _replied_invitation(session: Any, data: bytes) -> Invitation | None:
    try:
        replies = parse_replies(data)
    except InvalidReply:
        return None
    for reply in replies:
        invitation = session.scalar(select(Invitation).where(Invitation.uid == reply.uid))
        if invitation is not None:
            return invitation
    return None


# ------------------------------------------------------------------ bounces


def _handle_report(
    session: Any, where: Where, incoming: Incoming, now: dt.datetime, summary: FetchSummary
) -> MailboxMessage:
    failed = [r for r in incoming.recipients if r.action == "failed"]
    found = []
    for recipient in failed:
        ledger = bounced_message(session, incoming.returned_message_id, recipient.addresses)
        if ledger is not None:
            found.append((recipient, ledger))
    if not found:
        what = "no failed recipient" if not failed else "not about a message amity sent"
        return _row(where, incoming, "ignored", f"delivery report: {what}", now)
    first_invitation = None
    bounces = []
    for recipient, ledger in found:
        invitation = invitation_to(session, ledger.event_id, ledger.recipient)
        contact = invitation.contact if invitation else contact_with(session, ledger.recipient)
        first_invitation = first_invitation or invitation
        bounces.append(
            Bounce(
                outbox_message_id=ledger.id,
                invitation_id=invitation.id if invitation else None,
                contact_id=contact.id if contact else None,
                address=ledger.recipient,
                status=recipient.status or "5.0.0",
                reason=recipient.reason[:2000],
                reported_dt=incoming.date or now,
            )
        )
        event = session.get(Event, ledger.event_id) if ledger.event_id else None
        summary.bounces.append(
            {
                "email": ledger.recipient,
                "event": event.slug if event else None,
                "purpose": ledger.purpose,
                "status": recipient.status,
                "reason": recipient.reason,
                "message": _message_ref(where, incoming),
            }
        )
    statuses = ", ".join(f"{b.address} {b.status}" for b in bounces)
    row = _row(
        where,
        incoming,
        "bounce",
        f"bounced: {statuses}",
        now,
        event_id=found[0][1].event_id,
        invitation_id=first_invitation.id if first_invitation else None,
        contact_id=bounces[0].contact_id,
    )
    session.add(row)
    session.flush()
    for bounce in bounces:
        bounce.mailbox_message_id = row.id
        session.add(bounce)
    return row


# ------------------------------------------------------------------ plain answers


def _handle_text(
    session: Any, where: Where, incoming: Incoming, now: dt.datetime, summary: FetchSummary
) -> MailboxMessage:
    """A person's answer to amity's mail, or from a contact: kept for a person to read."""
    ledger = ledger_message(session, incoming.references)
    contact = contact_with(session, incoming.sender)
    if ledger is None and contact is None:
        return _row(where, incoming, "ignored", "", now)
    invitation = None
    if ledger is not None:
        invitation = invitation_to(session, ledger.event_id, ledger.recipient)
    if invitation is None and contact is not None:
        invitation = open_invitation(session, contact.id)
    event_id = invitation.event_id if invitation else (ledger.event_id if ledger else None)
    event = session.get(Event, event_id) if event_id else None
    summary.needs_person.append(
        {**_message_ref(where, incoming), "event": event.slug if event else None}
    )
    return _row(
        where,
        incoming,
        "needs-person",
        "a plain answer: read it and record the answer by hand",
        now,
        event_id=event_id,
        invitation_id=invitation.id if invitation else None,
        contact_id=invitation.contact_id if invitation else (contact.id if contact else None),
    )


def _message_ref(where: Where, incoming: Incoming) -> dict[str, Any]:
    return {
        "folder": where.folder,
        "uid": where.uid,
        "uidvalidity": where.uidvalidity,
        "message_id": incoming.message_id,
        "subject": incoming.subject,
        "sender": incoming.sender,
    }


def _artifact(summary: dict[str, Any]) -> None:
    rows = [
        {"what": "messages read", "count": summary["read"]},
        {
            "what": "replies recorded",
            "count": sum(r["outcome"] == "recorded" for r in summary["replies"]),
        },
        {
            "what": "replies refused",
            "count": sum(r["outcome"] != "recorded" for r in summary["replies"]),
        },
        {"what": "bounced", "count": len(summary["bounces"])},
        {"what": "plain answers for a person", "count": len(summary["needs_person"])},
        {"what": "left alone", "count": summary["ignored"]},
    ]
    create_table_artifact(
        table=rows, key="mailbox-fetch", description=f"Mailbox {summary['folder']}"
    )


@flow(name="fetch mailbox", flow_run_name="rsvp fetch")
def fetch_mailbox(now: dt.datetime | None = None) -> dict[str, Any]:
    """Read the office's mailbox: record replies and bounces, keep plain answers for a person."""
    summary = fetch_new_messages(now or dt.datetime.now(dt.UTC))
    if summary["configured"]:
        _artifact(summary)
    return summary
