"""What the mailbox brought: messages read once, bounces against the ledger, failing addresses.

An address is failing while a contact's current e-mail equals an address that bounced:
correcting the contact's e-mail ends it, and the bounce stays as history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.models import Bounce, Contact, Event, Invitation, MailboxMessage, OutboxMessage
from flows.domain.anniversaries import FailingAddress

#: events whose invitations are still open: a contact's plain answer is about one of these
OPEN_STATUSES = ("inviting", "scheduled")


def known_messages(
    session: Session, account: str, folder: str, uidvalidity: int, uids: Iterable[int]
) -> dict[int, MailboxMessage]:
    """The rows of these UIDs that an earlier fetch wrote, by UID."""
    wanted = list(uids)
    found: dict[int, MailboxMessage] = {}
    for start in range(0, len(wanted), 500):
        rows = session.scalars(
            select(MailboxMessage).where(
                MailboxMessage.account == account,
                MailboxMessage.folder == folder,
                MailboxMessage.uidvalidity == uidvalidity,
                MailboxMessage.uid.in_(wanted[start : start + 500]),
            )
        )
        found.update({row.uid: row for row in rows})
    return found


def processed_message(session: Session, message_id: str | None) -> MailboxMessage | None:
    """The row of a message with this Message-ID handled before (in any folder), if any."""
    if message_id is None:
        return None
    return session.scalar(
        select(MailboxMessage)
        .where(MailboxMessage.message_id == message_id, MailboxMessage.kind != "ignored")
        .order_by(MailboxMessage.id)
        .limit(1)
    )


def set_marked(session: Session, row_id: int) -> None:
    session.execute(
        update(MailboxMessage).where(MailboxMessage.id == row_id).values(is_marked=True)
    )


def ledger_message(session: Session, message_ids: Iterable[str]) -> OutboxMessage | None:
    """The most recent of amity's sent messages among these Message-IDs."""
    ids = list(message_ids)
    if not ids:
        return None
    return session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.message_id.in_(ids))
        .order_by(OutboxMessage.claimed_dt.desc(), OutboxMessage.id.desc())
        .limit(1)
    )


def bounced_message(
    session: Session, returned_message_id: str | None, addresses: tuple[str, ...]
) -> OutboxMessage | None:
    """The ledger row a delivery report is about: by the returned Message-ID, else by recipient.

    Without a Message-ID (some servers return no headers) the latest message amity sent to
    the failed address is taken: the address fails whichever message found it out.
    """
    if returned_message_id is not None:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.message_id == returned_message_id)
        ).all()
        for row in rows:
            if row.recipient in addresses:
                return row
        if rows:
            return rows[0]
    if not addresses:
        return None
    return session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.recipient.in_(addresses), OutboxMessage.state == "sent")
        .order_by(OutboxMessage.sent_dt.desc(), OutboxMessage.id.desc())
        .limit(1)
    )


def invitation_to(session: Session, event_id: int | None, address: str) -> Invitation | None:
    """The invitation of this event whose contact has this e-mail address."""
    if event_id is None:
        return None
    return session.scalar(
        select(Invitation)
        .join(Contact, Contact.id == Invitation.contact_id)
        .where(Invitation.event_id == event_id, func.lower(Contact.email) == address)
        .limit(1)
    )


def contact_with(session: Session, address: str) -> Contact | None:
    if not address:
        return None
    return session.scalar(
        select(Contact).where(func.lower(Contact.email) == address).order_by(Contact.id).limit(1)
    )


def open_invitation(session: Session, contact_id: int) -> Invitation | None:
    """The contact's invitation to an event still being prepared, the latest first."""
    return session.scalar(
        select(Invitation)
        .join(Event, Event.id == Invitation.event_id)
        .where(Invitation.contact_id == contact_id, Event.status.in_(OPEN_STATUSES))
        .order_by(Invitation.created_dt.desc(), Invitation.id.desc())
        .limit(1)
    )


def failing_addresses(session: Session) -> set[str]:
    """Contacts' current addresses that bounced (lower-cased)."""
    rows = session.scalars(
        select(Bounce.address)
        .join(Contact, Contact.id == Bounce.contact_id)
        .where(func.lower(Contact.email) == Bounce.address)
        .distinct()
    )
    return set(rows)


def failing_contacts(session: Session) -> list[FailingAddress]:
    """Contacts whose current address bounced, by city and name (the digest lists them)."""
    bounced = select(Bounce.contact_id).where(Bounce.contact_id == Contact.id)
    rows = session.scalars(
        select(Contact).where(
            Contact.id.in_(bounced.where(Bounce.address == func.lower(Contact.email)))
        )
    ).all()
    return sorted(
        (
            FailingAddress(
                name=c.name_latin or c.name_native, city=c.city.name, email=c.email.lower()
            )
            for c in rows
        ),
        key=lambda f: (f.city, f.name, f.email),
    )


def event_bounces(session: Session, event_id: int) -> list[Bounce]:
    """The event's invitations whose address still fails, the latest report of each."""
    rows = session.scalars(
        select(Bounce)
        .join(Invitation, Invitation.id == Bounce.invitation_id)
        .join(Contact, Contact.id == Invitation.contact_id)
        .where(Invitation.event_id == event_id, func.lower(Contact.email) == Bounce.address)
        .order_by(Bounce.reported_dt.desc(), Bounce.id.desc())
    ).all()
    latest: dict[int | None, Bounce] = {}
    for row in rows:
        latest.setdefault(row.invitation_id, row)
    return sorted(latest.values(), key=lambda b: b.address)


def count_bounced(session: Session, event_id: int) -> int:
    return len(event_bounces(session, event_id))


def event_mailbox(session: Session, event_id: int) -> dict[str, list[dict[str, Any]]]:
    """The event's bounced invitations and the plain answers waiting for a person."""
    bounced = [
        {
            "email": b.address,
            "city": _city(session, b.contact_id),
            "status": b.status,
            "reason": b.reason,
            "reported": b.reported_dt.isoformat(),
        }
        for b in event_bounces(session, event_id)
    ]
    waiting = [
        message_reference(row)
        for row in session.scalars(
            select(MailboxMessage)
            .where(MailboxMessage.event_id == event_id, MailboxMessage.kind == "needs-person")
            .order_by(MailboxMessage.processed_dt, MailboxMessage.id)
        )
    ]
    return {"bounced": bounced, "needs_person": waiting}


def message_reference(row: MailboxMessage) -> dict[str, Any]:
    """Where a person finds the message: folder, UID (with UIDVALIDITY), Message-ID, and what."""
    return {
        "folder": row.folder,
        "uid": row.uid,
        "uidvalidity": row.uidvalidity,
        "message_id": row.message_id,
        "subject": row.subject,
        "sender": row.sender,
        "processed": row.processed_dt.isoformat(),
    }


def _city(session: Session, contact_id: int | None) -> str:
    if contact_id is None:
        return ""
    contact = session.get(Contact, contact_id)
    return contact.city.name if contact is not None else ""


def new_message(
    *,
    account: str,
    folder: str,
    uidvalidity: int,
    uid: int,
    message_id: str | None,
    kind: str,
    outcome: str,
    subject: str,
    sender: str,
    now: dt.datetime,
    event_id: int | None = None,
    invitation_id: int | None = None,
    contact_id: int | None = None,
) -> MailboxMessage:
    return MailboxMessage(
        account=account,
        folder=folder,
        uidvalidity=uidvalidity,
        uid=uid,
        message_id=message_id,
        kind=kind,
        outcome=outcome,
        subject=subject[:2000],
        sender=sender[:320],
        event_id=event_id,
        invitation_id=invitation_id,
        contact_id=contact_id,
        processed_dt=now,
        is_marked=False,
    )
