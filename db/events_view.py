"""Reading events for people: lists and details with local times (no flow runs)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Contact, Event, Invitation, OutboxMessage
from db.session import session_scope
from flows.domain.clock import utc_to_local
from flows.domain.event_dates import dates_of

# `events list` imports only what it needs (the command should answer within a second);
# show_event imports the rest when it runs


def _local(value: Any, tzid: str) -> str:
    return utc_to_local(value, tzid).strftime("%Y-%m-%d %H:%M")


#: the ledger's invitation purposes whose state is an invitation's delivery state
_INVITATION_PURPOSE = "invitation"


def delivery_state(session: Session, event_ids: list[int]) -> dict[int, dict[str, int]]:
    """What the delivery ledger knows of each event's invitations.

    ``sent``: confirmed; ``sending``: claimed by a run that has not confirmed (in progress,
    or killed: the next run takes it over); ``failed``: the last attempt failed (the reason
    is in the ledger; a re-run tries again); ``pending``: never tried. A contact counts once,
    in the best state any of its invitation messages reached.
    """
    invited = dict(
        session.execute(
            select(Invitation.event_id, func.count())
            .where(Invitation.event_id.in_(event_ids))
            .group_by(Invitation.event_id)
        ).all()
    )
    rank = {"sent": 0, "claimed": 1, "failed": 2}
    best: dict[tuple[int | None, str], str] = {}
    for event_id, recipient, state in session.execute(
        select(OutboxMessage.event_id, OutboxMessage.recipient, OutboxMessage.state).where(
            OutboxMessage.event_id.in_(event_ids),
            OutboxMessage.purpose == _INVITATION_PURPOSE,
        )
    ):
        key = (event_id, recipient)
        if key not in best or rank.get(state, 3) < rank.get(best[key], 3):
            best[key] = state
    result = {}
    for event_id in event_ids:
        states = [state for (e, _), state in best.items() if e == event_id]
        sent, sending, failed = (states.count(s) for s in ("sent", "claimed", "failed"))
        total = invited.get(event_id, 0)
        result[event_id] = {
            "invited": total,
            "sent": sent,
            "sending": sending,
            "failed": failed,
            "pending": max(0, total - sent - sending - failed),
        }
    return result


def answers(session: Session, event_id: int) -> list[dict[str, Any]]:
    """Each invited contact's recorded answer (iMIP replies), by city and e-mail."""
    rows = session.execute(
        select(Invitation, Contact)
        .join(Contact, Contact.id == Invitation.contact_id)
        .where(Invitation.event_id == event_id)
    ).all()
    out = [
        {
            "email": contact.email,
            "city": contact.city.name,
            "name": contact.name_latin or contact.name_native,
            "answer": inv.rsvp_state,
            "answered_utc": inv.rsvp_dt.isoformat() if inv.rsvp_dt else None,
            "answered_sequence": inv.rsvp_sequence,
            "delegated_to": inv.delegated_to,
        }
        for inv, contact in rows
    ]
    return sorted(out, key=lambda a: (a["city"], a["email"]))


def answer_counts(items: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"accepted": 0, "declined": 0, "tentative": 0, "delegated": 0, "needs-action": 0}
    for a in items:
        counts[a["answer"]] = counts.get(a["answer"], 0) + 1
    return counts


def list_events() -> list[dict[str, Any]]:
    with session_scope() as session:
        events = list(session.scalars(select(Event).order_by(Event.start_dt)))
        delivery = delivery_state(session, [e.id for e in events])
        return [
            {
                "id": e.id,
                "slug": e.slug,
                "title": e.titles["en"],
                "start_local": dates_of(e).start_text(),
                "timezone": e.timezone,
                "status": e.status,
                "invitations": delivery[e.id]["invited"],
                "delivery": delivery[e.id],
            }
            for e in events
        ]


def show_event(ref: str) -> dict[str, Any]:
    from db.approvals import list_approvals
    from db.events import find_event
    from db.mailbox import event_mailbox

    with session_scope() as session:
        e = find_event(session, ref)
        replies = answers(session, e.id)
        dates = dates_of(e)
        return {
            "id": e.id,
            "slug": e.slug,
            "title": e.titles["en"],
            "titles": e.titles,
            "kind": e.kind,
            "series": e.series,
            "edition": e.edition,
            "status": e.status,
            "timezone": e.timezone,
            #: at the precision the dates are known: times, days, or a month or year
            "date_precision": dates.precision,
            "dates": dates.text(),
            "start_local": dates.start_text(),
            "end_local": dates.end_text(),
            "start_utc": e.start_dt.isoformat(),
            "end_utc": e.end_dt.isoformat(),
            "venue": e.venue,
            "venue_address": e.venue_address,
            "audience": e.audience,
            "invited": audience_text(e.audience),
            "note": e.note,
            "uid": e.uid,
            "sequence": e.sequence,
            #: the sign-off of its messages: who approved or rejected what, and when
            "approvals": list_approvals(
                session, now=dt.datetime.now(dt.UTC), everything=True, event_id=e.id
            ),
            "sessions": [
                {
                    "key": s.key,
                    "title": s.title,
                    "start_local": _local(s.start_dt, e.timezone),
                    "end_local": _local(s.end_dt, e.timezone),
                    "room": s.room,
                    "is_cancelled": s.is_cancelled,
                    "uid": s.uid,
                    "sequence": s.sequence,
                }
                for s in e.sessions
            ],
            "delivery": delivery_state(session, [e.id])[e.id],
            "answer_counts": answer_counts(replies),
            "answers": replies,
            # bounced invitations and plain answers waiting for a person (the mailbox)
            "mailbox": event_mailbox(session, e.id),
        }


def audience_text(audience: Any) -> str:
    """Who is invited, for people: "all ties; cities: Berlin, Paris; districts' partners"."""
    audience = audience if isinstance(audience, dict) else {}
    parts = []
    ties = audience.get("ties")
    if ties:
        parts.append("all ties" if ties == "all" else f"ties: {str(ties).replace('_', ' ')}")
    cities = [str(c) for c in audience.get("cities") or ()]
    if cities:
        parts.append(f"cities: {', '.join(cities)}")
    if audience.get("districts"):
        parts.append("the districts' partners")
    return "; ".join(parts) or "not recorded"
