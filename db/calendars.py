"""The event as calendars hold it: ORM rows to calendar records, snapshots per SEQUENCE, and
the CalDAV resources published for it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import CaldavResource, CalendarSnapshot, Event
from flows.domain import i18n
from flows.domain.changes import LocalNames
from flows.domain.clock import zone
from flows.domain.event_dates import dates_of
from flows.domain.ical import CalEvent, CalSession
from flows.domain.letters import EventInfo, Practical, event_title
from flows.domain.letters import Session as LetterSession
from flows.domain.notices import ContactCalendar, primary_language


def event_info(event: Any) -> EventInfo:
    """The event as letters print it: its texts by language come from the applied spec."""
    spec = getattr(event, "spec", None) or {}
    by_key = {s.get("key"): s for s in spec.get("sessions") or ()}

    def texts(stored: Any, fallback: str) -> dict[str, str]:
        values = dict(stored) if isinstance(stored, Mapping) and stored else {}
        if fallback:
            values.setdefault("en", fallback)
        return values

    practical = spec.get("practical") or {}
    return EventInfo(
        titles=dict(event.titles),
        kind=event.kind,
        series=event.series,
        edition=event.edition,
        venues=texts(spec.get("venues"), event.venue),
        venue_addresses=texts(spec.get("venue_addresses"), event.venue_address),
        timezone=event.timezone,
        start=event.start_dt,
        end=event.end_dt,
        sessions=tuple(
            LetterSession(
                titles=texts(by_key.get(s.key, {}).get("titles"), s.title),
                rooms=texts(by_key.get(s.key, {}).get("rooms"), s.room),
                start=s.start_dt,
                end=s.end_dt,
            )
            for s in event.sessions
            if not s.is_cancelled
        ),
        practical=Practical(
            delegation_size=practical.get("delegation_size"),
            accommodation=dict(practical.get("accommodation") or {}),
            costs=dict(practical.get("costs") or {}),
            visa_support=bool(practical.get("visa_support")),
        ),
    )


def local_names(event: Any, lang: str, *, earlier: Any = None) -> LocalNames:
    """The venue, session titles and rooms in ``lang`` from the applied spec, for the lines
    and notices a contact reads (English where the spec has no text in ``lang``).

    ``earlier``: the version the contact holds (from a snapshot), which names the sessions
    the current spec no longer has (a removed session is named as the contact knew it).
    """
    lang = primary_language(lang)
    spec = getattr(event, "spec", None) or {}
    by_key = {s.get("key"): s for s in spec.get("sessions") or ()}

    def pick(stored: Any, english: str) -> str:
        values = stored if isinstance(stored, Mapping) else {}
        return str(values.get(lang) or values.get("en") or english or "")

    separator = i18n.pgettext("between short items in a row", ", ", lang)
    location = separator.join(
        p
        for p in (
            pick(spec.get("venues"), event.venue),
            pick(spec.get("venue_addresses"), event.venue_address),
        )
        if p
    )
    titles, locations = {}, {}
    held = [s for s in getattr(earlier, "sessions", ()) if s.key not in by_key]
    in_spec = [s for s in event.sessions if s.key in by_key]
    for s in [*in_spec, *held, *event.sessions]:
        if s.key in titles:
            continue
        texts = by_key.get(s.key) or {
            "titles": getattr(s, "titles", None),
            "rooms": getattr(s, "rooms", None),
        }
        titles[s.key] = pick(texts.get("titles"), s.title)
        room = pick(texts.get("rooms"), s.room)
        locations[s.key] = separator.join(p for p in (room.strip(), location.strip()) if p)
    return LocalNames(location=location, session_titles=titles, session_locations=locations)


def cal_event(
    event: Event,
    *,
    uid: str,
    sequence: int,
    lang: str,
    status: str = "CONFIRMED",
    info: EventInfo | None = None,
) -> CalEvent:
    """The calendar record of ``event``; pass ``info`` (event_info) when it is at hand."""
    info = info or event_info(event)
    # the rooms are part of the calendar data, so a new room reaches the calendar too
    programme = "\n".join(
        f"{s.start.astimezone(zone(event.timezone)):%Y-%m-%d %H:%M} {s.titles['en']}"
        + (f" — {s.rooms['en']}" if s.rooms.get("en") else "")
        for s in info.sessions
    )
    return CalEvent(
        uid=uid,
        sequence=sequence,
        summary=event_title(info, lang),
        start=event.start_dt,
        end=event.end_dt,
        tzid=event.timezone,
        description=programme,
        location=", ".join(p for p in (event.venue, event.venue_address) if p),
        categories=(event.kind.upper(),),
        status=status,
        all_day=dates_of(event).is_all_day,
    )


def calendar_status(event: Any) -> str:
    return "CANCELLED" if event.status == "cancelled" else "CONFIRMED"


def cal_session(session: Any) -> CalSession:
    return CalSession(
        uid=session.uid,
        sequence=session.sequence,
        summary=session.title,
        start=session.start_dt,
        end=session.end_dt,
        room=session.room,
        topic=session.topic,
        speakers=tuple(session.speakers),
    )


def live_sessions(event: Any) -> list[Any]:
    """The sessions calendars show: none once the event is cancelled (their entries go too)."""
    if event.status == "cancelled":
        return []
    return [s for s in event.sessions if not s.is_cancelled]


def takes_part(session: Any, city: str) -> bool:
    """A session with no cities listed is for everyone."""
    return not session.cities or city in session.cities


def calendar_event(
    event: Any, lang: str, *, uid: str | None = None, sequence: int | None = None
) -> CalEvent:
    return cal_event(
        cast(Event, event),
        uid=uid or event.uid,
        sequence=event.sequence if sequence is None else sequence,
        lang=primary_language(lang),
        status=calendar_status(event),
    )


def contact_calendar(
    event: Any, lang: str, *, uid: str, city: str, sequence: int | None = None
) -> ContactCalendar:
    """What the calendar of a contact in ``city`` shows of ``event`` (a row or a snapshot)."""
    return ContactCalendar(
        event=calendar_event(event, lang, uid=uid, sequence=sequence),
        sessions={s.key: cal_session(s) for s in live_sessions(event) if takes_part(s, city)},
    )


def sessions_by_key(event: Event) -> dict[str, CalSession]:
    """Every session of the event, cancelled ones included, in the event's order."""
    return {s.key: cal_session(s) for s in event.sessions}


def snapshot_data(event: Event) -> dict[str, Any]:
    """Language-neutral state of the event and its live sessions, JSON-ready (with each
    session's titles and rooms by language, to name it once the spec has dropped it)."""
    by_key = {s.get("key"): s for s in (event.spec or {}).get("sessions") or ()}
    return {
        "event": {
            "uid": event.uid,
            "sequence": event.sequence,
            "status": event.status,
            "titles": dict(event.titles),
            "kind": event.kind,
            "series": event.series,
            "edition": event.edition,
            "venue": event.venue,
            "venue_address": event.venue_address,
            "timezone": event.timezone,
            "date_precision": event.date_precision,
            "start_dt": event.start_dt.isoformat(),
            "end_dt": event.end_dt.isoformat(),
        },
        "sessions": {
            s.key: {
                "uid": s.uid,
                "sequence": s.sequence,
                "title": s.title,
                "start_dt": s.start_dt.isoformat(),
                "end_dt": s.end_dt.isoformat(),
                "room": s.room,
                "topic": s.topic,
                "speakers": list(s.speakers),
                "cities": list(s.cities),
                "is_cancelled": False,
                "titles": dict(by_key.get(s.key, {}).get("titles") or {}),
                "rooms": dict(by_key.get(s.key, {}).get("rooms") or {}),
            }
            for s in live_sessions(event)
        },
    }


def event_from_snapshot(data: Mapping[str, Any]) -> Any:
    """An object shaped like Event (for cal_event) from snapshot data."""
    sessions = [
        SimpleNamespace(
            key=key,
            **{
                **value,
                "start_dt": dt.datetime.fromisoformat(value["start_dt"]),
                "end_dt": dt.datetime.fromisoformat(value["end_dt"]),
            },
        )
        for key, value in data["sessions"].items()
    ]
    sessions.sort(key=lambda s: s.start_dt)
    head = data["event"]
    return SimpleNamespace(
        **{
            **head,
            "start_dt": dt.datetime.fromisoformat(head["start_dt"]),
            "end_dt": dt.datetime.fromisoformat(head["end_dt"]),
        },
        sessions=sessions,
    )


def record_snapshot(
    session: Session, event: Event, now: dt.datetime, *, replace_existing: bool
) -> None:
    """Keep the calendar as it stands at the event's current SEQUENCE."""
    row = session.scalar(
        select(CalendarSnapshot).where(
            CalendarSnapshot.event_id == event.id, CalendarSnapshot.sequence == event.sequence
        )
    )
    if row is None:
        session.add(
            CalendarSnapshot(
                event_id=event.id, sequence=event.sequence, data=snapshot_data(event), taken_dt=now
            )
        )
    elif replace_existing:
        row.data = snapshot_data(event)
        row.taken_dt = now


def snapshots_of(session: Session, event_id: int) -> dict[int, dict[str, Any]]:
    rows = session.scalars(select(CalendarSnapshot).where(CalendarSnapshot.event_id == event_id))
    return {row.sequence: row.data for row in rows}


def baseline_snapshot(
    snapshots: Mapping[int, dict[str, Any]], sequence: int
) -> dict[str, Any] | None:
    """The snapshot of the version a contact holds: the latest at or before their SEQUENCE."""
    held = [seq for seq in snapshots if seq <= sequence]
    return snapshots[max(held)] if held else None


def published_resources(session: Session, event_id: int, url: str) -> dict[str, tuple[str, str]]:
    """uid -> (etag, digest) of what was published of the event to the collection at ``url``."""
    return {row.uid: (row.etag, row.digest) for row in _resources(session, event_id, url)}


def _resources(session: Session, event_id: int, url: str) -> list[CaldavResource]:
    return list(
        session.scalars(
            select(CaldavResource).where(
                CaldavResource.event_id == event_id, CaldavResource.calendar_url == url
            )
        )
    )


def record_published(
    session: Session,
    *,
    event_id: int,
    url: str,
    published: Mapping[str, tuple[str, str]],
    hrefs: Mapping[str, str],
    now: dt.datetime,
) -> None:
    """Remember what the collection holds now: uid -> (etag, digest); forget the rest."""
    rows = {row.uid: row for row in _resources(session, event_id, url)}
    for uid, (etag, digest) in published.items():
        row = rows.get(uid)
        if row is None:
            session.add(
                CaldavResource(
                    event_id=event_id,
                    calendar_url=url,
                    uid=uid,
                    href=hrefs[uid],
                    etag=etag,
                    digest=digest,
                    published_dt=now,
                )
            )
        elif (row.etag, row.digest) != (etag, digest):
            row.etag, row.digest, row.published_dt = etag, digest, now
    gone = [uid for uid in rows if uid not in published]
    if gone:
        session.execute(
            delete(CaldavResource).where(
                CaldavResource.event_id == event_id,
                CaldavResource.calendar_url == url,
                CaldavResource.uid.in_(gone),
            )
        )


def caldav_urls(session: Session, event_id: int) -> set[str]:
    """Every collection the event was published to."""
    return set(
        session.scalars(
            select(CaldavResource.calendar_url).where(CaldavResource.event_id == event_id)
        )
    )
