"""Reading events for people: lists and details with local times (no flow runs)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from db.calendars import dates_of
from db.events import find_event
from db.models import Event, Invitation
from db.session import session_scope
from flows.domain.clock import utc_to_local


def _local(value: Any, tzid: str) -> str:
    return utc_to_local(value, tzid).strftime("%Y-%m-%d %H:%M")


def list_events() -> list[dict[str, Any]]:
    with session_scope() as session:
        counts = dict(
            session.execute(
                select(Invitation.event_id, func.count()).group_by(Invitation.event_id)
            ).all()
        )
        return [
            {
                "id": e.id,
                "slug": e.slug,
                "title": e.titles["en"],
                "start_local": dates_of(e).start_text(),
                "timezone": e.timezone,
                "status": e.status,
                "invitations": counts.get(e.id, 0),
            }
            for e in session.scalars(select(Event).order_by(Event.start_dt))
        ]


def show_event(ref: str) -> dict[str, Any]:
    with session_scope() as session:
        e = find_event(session, ref)
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
