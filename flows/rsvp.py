"""Replies: iMIP REPLY messages recorded against the invitations they answer.

:func:`record_reply_message` is the one entry point for a reply however it arrived (a file
given to ``amity rsvp import``, a message read from a mailbox): it takes the parsed e-mail
and returns one :class:`~flows.domain.replies.ReplyOutcome` per answer in it, each recorded
or refused / ignored with its reason. A reply counts only if its sender is the attendee (or
a delegate recorded for the contact): the rule is :func:`flows.domain.replies.judge_reply`.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import asdict, dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from prefect import flow, task
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Invitation
from db.session import session_scope
from flows.domain.replies import (
    InvalidReply,
    Invited,
    Reply,
    ReplyOutcome,
    judge_reply,
    message_sender,
    parse_replies,
)


@dataclass
class RsvpSummary:
    files: int = 0
    recorded: int = 0
    #: not counted: the sender is not the attendee, or no such invitation
    refused: list[dict[str, Any]] = field(default_factory=list)
    #: not counted: outdated, a duplicate of the answer recorded, or superseded by it
    ignored: list[dict[str, Any]] = field(default_factory=list)
    #: files that hold no usable reply
    invalid: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def add(self, source: str, outcome: ReplyOutcome) -> None:
        if outcome.is_recorded:
            self.recorded += 1
            return
        line = {
            "file": source,
            "why": outcome.kind,
            "reason": outcome.reason,
            "sender": outcome.sender,
            "attendee": outcome.reply.attendee_email,
            "uid": outcome.reply.uid,
        }
        (self.refused if outcome.is_refused else self.ignored).append(line)


def reply_files(paths: list[str]) -> list[Path]:
    """Expand the arguments: .eml / .ics files, and Maildir or plain folders of them."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            subdirs = [path / d for d in ("new", "cur")] if (path / "new").is_dir() else [path]
            for d in subdirs:
                found += sorted(p for p in d.iterdir() if p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found


def invited_for(session: Session, uid: str) -> tuple[Invitation | None, Invited | None]:
    """The invitation a reply names, and what the rule needs of it."""
    inv = session.scalar(select(Invitation).where(Invitation.uid == uid))
    if inv is None:
        return None, None
    return inv, Invited(
        contact_email=inv.contact.email.lower(),
        sequence=inv.sequence,
        rsvp_state=inv.rsvp_state,
        rsvp_sequence=inv.rsvp_sequence,
        rsvp_dt=inv.rsvp_dt,
        delegates=tuple(inv.contact.reply_delegates.split()),
    )


def record_reply(session: Session, reply: Reply, *, sender: str | None) -> ReplyOutcome:
    """Judge one answer from ``sender`` and record it if it counts."""
    inv, invited = invited_for(session, reply.uid)
    outcome = judge_reply(reply, sender=sender, invited=invited)
    if outcome.is_recorded and inv is not None:
        inv.rsvp_state = reply.partstat
        inv.rsvp_dt = reply.dtstamp
        inv.rsvp_sequence = reply.sequence
        inv.delegated_to = ", ".join(reply.delegated_to) or None
        session.flush()  # a second answer in the same message sees this one
    return outcome


def record_reply_message(session: Session, message: bytes | Message) -> list[ReplyOutcome]:
    """Record the answers in one reply e-mail (or bare .ics bytes); one outcome per answer.

    Raises :class:`~flows.domain.replies.InvalidReply` when the message holds no reply.
    """
    if isinstance(message, bytes) and not message.lstrip(b"\xef\xbb\xbf \t\r\n")[
        :15
    ].upper().startswith(b"BEGIN:VCALENDAR"):
        message = email.message_from_bytes(message, policy=email.policy.compat32)
    sender = message_sender(message)
    return [record_reply(session, reply, sender=sender) for reply in parse_replies(message)]


@task
def record_replies(paths: list[str]) -> dict[str, Any]:
    summary = RsvpSummary()
    files = reply_files(paths)
    summary.files = len(files)
    with session_scope() as session:
        for path in files:
            record_one(session, str(path), path.read_bytes(), summary)
    return summary.to_dict()


def record_one(session: Session, source: str, data: bytes, summary: RsvpSummary) -> None:
    """Check and record the replies in one message (a file, or a message in the mailbox)."""
    try:
        outcomes = record_reply_message(session, data)
    except InvalidReply as exc:
        summary.invalid.append(f"{source}: {exc.reason}")
        return
    for outcome in outcomes:
        summary.add(source, outcome)


@flow(name="import replies", flow_run_name="rsvp import")
def import_replies(paths: list[str]) -> dict[str, Any]:
    """Record the answers (accepted, declined, tentative, delegated) in iMIP replies."""
    return record_replies(paths)
