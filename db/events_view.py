"""Reading events for people: lists and details with local times (no flow runs)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from db.approvals import list_approvals
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
                "start_local": _local(e.start_dt, e.timezone),
                "timezone": e.timezone,
                "status": e.status,
                "invitations": counts.get(e.id, 0),
            }
            for e in session.scalars(select(Event).order_by(Event.start_dt))
        ]


def show_event(ref: str) -> dict[str, Any]:
    with session_scope() as session:
        e = find_event(session, ref)
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
            "start_local": _local(e.start_dt, e.timezone),
            "end_local": _local(e.end_dt, e.timezone),
            "start_utc": e.start_dt.isoformat(),
            "end_utc": e.end_dt.isoformat(),
            "venue": e.venue,
            "venue_address": e.venue_address,
            "audience": e.audience,
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
        }
