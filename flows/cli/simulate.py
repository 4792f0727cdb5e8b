"""Simulated replies and attendance for the demo: clearly labelled, reproducible (seeded)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from sqlalchemy import select, update

from config.settings import get_settings
from db.events import find_event
from db.models import Attendance, Contact, Invitation
from db.outbox import invitation_sent_times
from db.session import session_scope
from flows.domain.mail import make_message_id
from flows.domain.replies import build_reply_email, build_reply_ics
from flows.domain.slug import slugify

SIMULATED = "Simulated by amity's demo: not a real answer."
#: share of contacts answering each way; the rest do not answer
ANSWERS = [("accepted", 0.6), ("declined", 0.15), ("tentative", 0.1)]


def simulated_dir(slug: str) -> Path:
    return get_settings().home / "simulated" / slugify(slug)


def write_simulated_replies(event: str, *, now: dt.datetime) -> list[str]:
    """Write one iMIP REPLY e-mail per answering contact, as their calendar client would."""
    settings = get_settings()
    with session_scope() as session:
        e = find_event(session, event)
        rng = random.Random(e.slug)
        rows = session.execute(
            select(Invitation, Contact)
            .join(Contact, Invitation.contact_id == Contact.id)
            .where(Invitation.event_id == e.id)
            .order_by(Invitation.id)
        ).all()
        sent_times = invitation_sent_times(session, e.id)
        folder = simulated_dir(e.slug) / "replies"
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for n, (inv, contact) in enumerate(rows):
            roll, acc, partstat = rng.random(), 0.0, None
            for state, share in ANSWERS:
                acc += share
                if roll < acc:
                    partstat = state
                    break
            if partstat is None:
                continue
            # answered a few hours to days after the invitation went out: `now`, the letters'
            # date, or when the ledger sent it if later (the demo's clock can be held back)
            sent = max(now, sent_times.get(contact.email.casefold(), now))
            stamp = sent + dt.timedelta(hours=2 + (7 * n) % 90, minutes=n % 60)
            ics = build_reply_ics(
                uid=inv.uid,
                organizer_email=settings.office.email,
                attendee_email=contact.email,
                attendee_name=contact.name_latin,
                partstat=partstat.upper(),
                sequence=inv.sequence,
                dtstamp=stamp,
                summary=e.titles["en"],
                comment=SIMULATED,
            )
            message = build_reply_email(
                ics=ics,
                attendee_email=contact.email,
                attendee_name=contact.name_latin,
                organizer_email=settings.office.email,
                organizer_name=settings.office.name,
                subject=f"[simulated] {partstat.title()}: {e.titles['en']}",
                text=SIMULATED,
                message_id=make_message_id(inv.uid, "simulated-reply", domain="demo.invalid"),
                date=stamp,
            )
            path = folder / f"{slugify(contact.email)}.eml"
            path.write_bytes(message)
            written.append(str(path))
    return written


def write_simulated_attendance(event: str) -> Path:
    """An attendance sheet: most who accepted came, with delegations; one walk-in."""
    with session_scope() as session:
        e = find_event(session, event)
        rng = random.Random(f"attendance-{e.slug}")
        rows = session.execute(
            select(Invitation.rsvp_state, Contact.email)
            .join(Contact, Invitation.contact_id == Contact.id)
            .where(Invitation.event_id == e.id)
            .order_by(Invitation.id)
        ).all()
        lines = ["contact,attended,delegation_size,notes,walk_in_name,walk_in_city,walk_in_country"]
        for state, email in rows:
            came = (state == "accepted" and rng.random() < 0.9) or (
                state == "tentative" and rng.random() < 0.5
            )
            size = rng.randint(2, 8) if came else 0
            lines.append(f"{email},{'yes' if came else 'no'},{size},simulated,,,")
        lines.append(",yes,3,simulated walk-in,Observer delegation,Seoul,KR")
        path = simulated_dir(e.slug) / "attendance.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mark_attendance_simulated(event: str) -> int:
    """Flag the event's attendance rows as simulated: every report output then says so."""
    with session_scope() as session:
        e = find_event(session, event)
        result = session.execute(
            update(Attendance).where(Attendance.event_id == e.id).values(is_simulated=True)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
