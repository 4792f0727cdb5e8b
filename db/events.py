"""Events in the database: applying specs, finding events, resolving who is invited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from config.settings import Settings
from db.models import City, Contact, Event, EventSession, EventTransition, Tie
from db.registry import ensure_home_city
from flows.domain.events import EventSpec, SpecError, parse_event_spec
from flows.domain.registry import ImportFileError, read_text_file, yaml_problem
from flows.domain.sequence import (
    HIDDEN,
    SIGNIFICANT,
    event_bumps,
    event_change_kind,
    moves_place,
    session_bumps,
    session_change_kind,
)
from flows.domain.states import (
    TAKEN_PLACE,
    edition_placeholders,
    guest_refusal,
    held_refusal,
    reopen_refusal,
)
from flows.domain.uids import contact_uid, event_uid, session_uid


class EventNotFound(LookupError):
    pass


@dataclass
class ApplyResult:
    event_id: int
    slug: str
    created: bool
    #: what changed, one line each ("start 2027-04-20 09:00 -> 2027-04-21 09:00")
    changes: list[str] = field(default_factory=list)
    #: what each change is, in the order of ``changes``: "significant" (SEQUENCE up, the
    #: contacts are asked again), "minor" (same SEQUENCE, answers kept) or "not in calendars"
    kinds: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: ids of sessions removed by this apply (cancelled, kept for their calendar UID)
    removed_sessions: list[int] = field(default_factory=list)
    #: True when something a calendar shows (time, place, status, sessions) changed
    is_significant: bool = False

    @property
    def shows_in_calendars(self) -> bool:
        """Whether a change reaches the calendars (an update is due, minor or significant)."""
        return any(kind != HIDDEN for kind in self.kinds)


def read_spec(path: Path, session: Session) -> EventSpec:
    try:
        text = read_text_file(path)
    except ImportFileError as exc:  # one line: missing, a folder, unreadable, not UTF-8, empty
        raise SpecError(str(path), [str(exc).removeprefix(f"{path}: ")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where, _, what = yaml_problem(path, exc).partition(": not valid YAML: ")
        raise SpecError(where, [f"not valid YAML: {what}"]) from None
    known = session.scalars(select(City.name)).all()
    return parse_event_spec(str(path), data, known_cities=known)


def invitation_uid(slug: str, contact_id: int, domain: str) -> str:
    """The contact's UID of the event (see :mod:`flows.domain.uids`)."""
    return contact_uid(slug, contact_id, domain)


def find_event(session: Session, ref: str) -> Event:
    """An event by slug or numeric id."""
    clauses = [Event.slug == ref]
    if ref.isdigit():
        clauses.append(Event.id == int(ref))
    event = session.scalar(select(Event).where(or_(*clauses)))
    if event is None:
        raise EventNotFound(f"no event {ref!r} (see `amity events list`)")
    return event


def lock_event(session: Session, ref: str) -> None:
    """Make runs that change one event take turns (two invitation runs started at once).

    A no-op UPDATE as the transaction's first statement takes the event's row lock
    (PostgreSQL) or the database's write lock (SQLite); a second run waits for the first
    to commit and then sees its rows, instead of both inserting them.
    """
    clauses = [Event.slug == ref]
    if ref.isdigit():
        clauses.append(Event.id == int(ref))
    session.execute(update(Event).where(or_(*clauses)).values(status=Event.status))


def record_transition(
    session: Session, event: Event, to_status: str, now: dt.datetime, note: str = ""
) -> None:
    if event.status == to_status:
        return
    session.add(
        EventTransition(
            event_id=event.id, from_status=event.status, to_status=to_status, at_dt=now, note=note
        )
    )
    event.status = to_status


class StateRefused(ValueError):
    """The event's state does not allow the step (it would skip one)."""


def mark_held(session: Session, event: Event, now: dt.datetime, note: str = "") -> bool:
    """The organizer's word that the event took place; False when it was held already."""
    if (reason := held_refusal(event.slug, event.status)) is not None:
        raise StateRefused(reason)
    if event.status in TAKEN_PLACE:
        return False
    record_transition(session, event, "held", now, note or "confirmed by the organizer")
    event.updated_dt = now
    return True


def reopen_event(session: Session, event: Event, now: dt.datetime, note: str = "") -> None:
    """Undo ``reported``: the event is held again and its report may be written anew."""
    if (reason := reopen_refusal(event.slug, event.status)) is not None:
        raise StateRefused(reason)
    record_transition(session, event, "held", now, note or "reopened by the organizer")
    event.updated_dt = now


def _city_id(session: Session, name: str) -> int:
    city_id = session.scalar(select(City.id).where(City.name == name))
    if city_id is None:
        raise SpecError("spec", [f"unknown city {name!r}"])
    return city_id


def _fmt(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    return repr(value)


def _event_row(
    session: Session, spec: EventSpec, host_id: int, domain: str, *, now: dt.datetime, force: bool
) -> tuple[Event, bool]:
    """The event of ``spec`` (a new draft when there is none) and whether it was created."""
    event = session.scalar(select(Event).where(Event.slug == spec.slug))
    if event is None:
        event = Event(
            slug=spec.slug,
            uid=event_uid(spec.slug, domain),
            sequence=0,
            status="draft",
            created_dt=now,
            titles=spec.titles,
            kind=spec.kind,
            host_city_id=host_id,
            timezone=spec.timezone,
            start_dt=spec.start_dt,
            end_dt=spec.end_dt,
            updated_dt=now,
        )
        session.add(event)
        return event, True
    if event.end_dt < now and not force:
        raise SpecError(spec.slug, ["the event is over; changing it needs --force"])
    if event.status == "cancelled":
        raise SpecError(spec.slug, ["the event is cancelled; it cannot be changed"])
    return event, False


def _apply_event_fields(
    event: Event, spec: EventSpec, host_id: int, result: ApplyResult
) -> list[str]:
    """Set the event's own fields from ``spec``; the names of those that changed."""
    values = {
        "start_dt": spec.start_dt,
        "end_dt": spec.end_dt,
        "venue": spec.venue,
        "venue_address": spec.venue_address,
        "timezone": spec.timezone,
        "titles": spec.titles,
        "kind": spec.kind,
        "series": spec.series,
        "edition": spec.edition,
        "host_city_id": host_id,
        "is_bilingual": spec.is_bilingual,
        "audience": spec.to_json()["invite"],
        "outcomes": spec.outcomes,
    }
    changed: list[str] = []
    for name, value in values.items():
        old = getattr(event, name, None)
        if not result.created and old != value:
            result.changes.append(f"{name}: {_fmt(old)} -> {_fmt(value)}")
            result.kinds.append(event_change_kind(name))
            changed.append(name)
        setattr(event, name, value)
    return changed


def _apply_sessions(
    event: Event, spec: EventSpec, domain: str, result: ApplyResult, *, place_moved: bool
) -> bool:
    """Add, update and cancel the event's sessions as ``spec`` lists them; True when one of
    them raises the event's SEQUENCE (each session's own SEQUENCE is raised here)."""
    bump = False
    existing = {s.key: s for s in event.sessions}
    wanted = {s.key for s in spec.sessions}
    for s in spec.sessions:
        row = existing.get(s.key)
        values = {
            "title": s.title,
            "start_dt": s.start_dt,
            "end_dt": s.end_dt,
            "room": s.room,
            "topic": s.topic,
            "speakers": list(s.speakers),
            "cities": list(s.cities),
            "is_cancelled": False,
        }
        if row is None:
            event.sessions.append(
                EventSession(
                    key=s.key, uid=session_uid(spec.slug, s.key, domain), sequence=0, **values
                )
            )
            if not result.created:
                result.changes.append(f"session added: {s.title}")
                result.kinds.append(SIGNIFICANT)
                bump = True
            continue
        changed: list[str] = []
        for name, value in values.items():
            if getattr(row, name) != value:
                result.changes.append(
                    f"session {s.key} {name}: {_fmt(getattr(row, name))} -> {_fmt(value)}"
                )
                result.kinds.append(session_change_kind(name, place_moved=place_moved))
                changed.append(name)
            setattr(row, name, value)
        if session_bumps(changed, place_moved=place_moved):
            row.sequence += 1
            bump = True
    for key, row in existing.items():
        if key not in wanted and not row.is_cancelled:
            row.is_cancelled = True
            row.sequence += 1
            result.removed_sessions.append(row.id)
            result.changes.append(f"session removed: {row.title}")
            result.kinds.append(SIGNIFICANT)
            bump = True
    return bump


def apply_spec(
    session: Session, spec: EventSpec, settings: Settings, *, now: dt.datetime, force: bool = False
) -> ApplyResult:
    """Create the event, or update it and say what changed; SEQUENCE goes up on significant changes
    (see :mod:`flows.domain.sequence`).

    A change to an event that has already ended is refused unless ``force``.
    """
    ensure_home_city(session, settings.home_city)
    domain = settings.office.mail_domain
    host_id = _city_id(session, spec.host_city)
    event, created = _event_row(session, spec, host_id, domain, now=now, force=force)
    result = ApplyResult(event_id=0, slug=spec.slug, created=created, warnings=list(spec.warnings))
    changed = _apply_event_fields(event, spec, host_id, result)
    event.spec = spec.to_json()
    event.updated_dt = now
    session.flush()
    sessions_bump = _apply_sessions(event, spec, domain, result, place_moved=moves_place(changed))
    bump = event_bumps(changed) or sessions_bump
    if bump:
        event.sequence += 1
    result.is_significant = bump
    session.flush()
    result.event_id = event.id
    return result


def cancel_event(session: Session, event: Event, *, now: dt.datetime, note: str = "") -> bool:
    """Mark the event cancelled (SEQUENCE up); False when it already was."""
    if event.status == "cancelled":
        return False
    record_transition(session, event, "cancelled", now, note)
    event.sequence += 1
    event.updated_dt = now
    return True


def invited_contacts(session: Session, event: Event) -> list[Contact]:
    """Contacts of every partner the event's audience names (opted-out ones included)."""
    home = ensure_home_city_id(session)
    audience = event.audience or {}
    home_ids = [home]
    if audience.get("districts"):
        home_ids += list(session.scalars(select(City.id).where(City.parent_id == home)))
    city_ids: set[int] = set()
    ties = audience.get("ties")
    if ties:
        query = select(Tie.partner_city_id).where(
            Tie.home_city_id.in_(home_ids), Tie.status == "active"
        )
        if ties != "all":
            query = query.where(Tie.kind == ties)
        city_ids.update(session.scalars(query))
    names = audience.get("cities") or []
    if names:
        city_ids.update(session.scalars(select(City.id).where(City.name.in_(names))))
    # a partner city hosting an edition is not invited to it
    city_ids.discard(event.host_city_id)
    if not city_ids:
        return []
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.city_id.in_(city_ids))
            .order_by(Contact.city_id, Contact.email)
        )
    )


def ensure_home_city_id(session: Session) -> int:
    home = session.scalar(select(City.id).where(City.is_home.is_(True)))
    if home is None:
        raise EventNotFound("no home city in the database: run `amity init`")
    return home


def previous_edition(session: Session, event: Event) -> Event | None:
    """The series' edition just before ``event`` (None outside a numbered series)."""
    if not event.series or event.edition is None:
        return None
    return session.scalar(
        select(Event).where(Event.series == event.series, Event.edition == event.edition - 1)
    )


def invitation_blockers(session: Session, event: Event) -> list[str]:
    """Why the office cannot invite to ``event`` yet, one line each (empty: it can).

    A partner city hosting the event invites to it itself; a draft edition still holding its
    previous edition's placeholders (venue to be decided, the previous host's rooms) waits
    for the organizer to fill them in.
    """
    home = ensure_home_city_id(session)
    host = event.host_city
    at_home = host.id == home or host.parent_id == home
    refusal = guest_refusal(event.slug, host.name, hosted_at_home=at_home)
    if refusal is not None:
        return [refusal]
    previous = previous_edition(session, event)
    found = edition_placeholders(event.spec or {}, previous.spec if previous else None)
    if not found:
        return []
    return [
        f"event {event.slug!r} holds {len(found)} placeholder(s) to decide before inviting "
        "(edit its spec and `amity events apply` it); nothing was sent:",
        *(f"  {line}" for line in found),
    ]
