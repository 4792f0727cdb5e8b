"""Who holds which version of an event: the recipients of updates, and what they now hold."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import City, Contact, Event, Invitation, OutboxMessage
from flows.domain.notices import NoticeRecipient

#: ledger purposes whose confirmed rows mean "this contact holds the event in a calendar"
DELIVERED = ("invitation", "reminder", "update")


def invitations_went_out(session: Session, event: Event) -> bool:
    """At least one invitation to the event is confirmed sent."""
    return (
        session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.event_id == event.id,
                OutboxMessage.purpose == "invitation",
                OutboxMessage.state == "sent",
            )
            .limit(1)
        )
        is not None
    )


def notice_recipients(session: Session, event: Event) -> list[NoticeRecipient]:
    """Invited contacts whose invitation went out: those holding an older SEQUENCE than the
    event's (a significant change) and those holding the current one (who may be owed a
    minor update; the notice says whether their copy differs), with their recorded answer."""
    delivered = set(
        session.scalars(
            select(OutboxMessage.recipient).where(
                OutboxMessage.event_id == event.id,
                OutboxMessage.purpose.in_(DELIVERED),
                OutboxMessage.state == "sent",
            )
        )
    )
    query = (
        select(Invitation, Contact, City.name)
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(City, City.id == Contact.city_id)
        .where(Invitation.event_id == event.id)
        .order_by(Contact.city_id, Contact.email)
    )
    return [
        NoticeRecipient(
            contact_id=contact.id,
            email=contact.email,
            name_native=contact.name_native,
            name_latin=contact.name_latin,
            language=contact.language,
            city=city,
            is_opted_out=contact.is_opted_out,
            uid=invitation.uid,
            held_sequence=invitation.sequence,
            partstat=answer_held(invitation),
        )
        for invitation, contact, city in session.execute(query)
        if contact.email.lower() in delivered and invitation.sequence <= event.sequence
    ]


def answer_held(invitation: Invitation) -> str:
    """The contact's answer (PARTSTAT) to the version they hold; NEEDS-ACTION when they gave
    none, or answered an older version (the time may have moved since)."""
    answered = (
        invitation.rsvp_sequence is not None and invitation.rsvp_sequence >= invitation.sequence
    )
    return invitation.rsvp_state.upper() if answered else "NEEDS-ACTION"


def move_sequences(session: Session, event_id: int, held: Mapping[int, int]) -> None:
    """The contacts (id -> SEQUENCE sent) now hold what they were sent, never an older one."""
    for invitation in session.scalars(
        select(Invitation).where(
            Invitation.event_id == event_id, Invitation.contact_id.in_(sorted(held))
        )
    ):
        if invitation.sequence < held[invitation.contact_id]:
            invitation.sequence = held[invitation.contact_id]
