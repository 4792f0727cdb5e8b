"""Replies: iMIP REPLY messages recorded against the invitations they answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, task
from sqlalchemy import select

from db.models import Invitation
from db.session import session_scope
from flows.domain.replies import InvalidReply, parse_replies, reply_is_newer


@dataclass
class RsvpSummary:
    files: int = 0
    recorded: int = 0
    stale: int = 0
    unknown: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


@task
def record_replies(paths: list[str]) -> dict[str, Any]:
    summary = RsvpSummary()
    files = reply_files(paths)
    summary.files = len(files)
    with session_scope() as session:
        for path in files:
            try:
                replies = parse_replies(path.read_bytes())
            except InvalidReply as exc:
                summary.invalid.append(f"{path}: {exc.reason}")
                continue
            for reply in replies:
                inv = session.scalar(select(Invitation).where(Invitation.uid == reply.uid))
                if inv is None or inv.contact.email.lower() != reply.attendee_email:
                    summary.unknown.append(f"{path.name}: {reply.uid} / {reply.attendee_email}")
                    continue
                if inv.rsvp_dt is not None and not reply_is_newer(
                    reply, sequence=inv.rsvp_sequence or 0, dtstamp=inv.rsvp_dt
                ):
                    summary.stale += 1
                    continue
                if reply.sequence < inv.sequence:
                    # an answer to an older version of the event: the time may have moved since
                    summary.stale += 1
                    continue
                inv.rsvp_state = reply.partstat
                inv.rsvp_dt = reply.dtstamp
                inv.rsvp_sequence = reply.sequence
                inv.delegated_to = ", ".join(reply.delegated_to) or None
                summary.recorded += 1
    return summary.to_dict()


@flow(name="import replies", flow_run_name="rsvp import")
def import_replies(paths: list[str]) -> dict[str, Any]:
    """Record the answers (accepted, declined, tentative, delegated) in iMIP replies."""
    return record_replies(paths)
