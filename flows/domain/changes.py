"""What changed between two snapshots of an event, for iTIP updates and their digests.

RFC 5546 §2.1.4 asks for a higher SEQUENCE when a change is significant for the attendee
(time, recurrence, status); amity counts the venue too, because a moved event is as
disruptive as a moved hour. Other changes — a session's room, titles, texts — are sent with
the same SEQUENCE and keep the answers (see :mod:`flows.domain.sequence`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from flows.domain import i18n
from flows.domain.ical import CalEvent, CalSession, session_description, session_location

EVENT_KEY = "event"
#: Changes that make calendars treat the component as rescheduled.
BUMP_FIELDS = frozenset({"time", "recurrence", "status", "location"})
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class ComponentChange:
    """One calendar component (the event or a session) that differs."""

    key: str
    uid: str
    #: sorted names among time, recurrence, status, location (the venue), room (a session's),
    #: summary, description, categories, url
    fields: tuple[str, ...]
    #: the SEQUENCE the component must carry from now on
    sequence: int

    @property
    def bump(self) -> bool:
        return any(name in BUMP_FIELDS for name in self.fields)


@dataclass(frozen=True)
class ChangeSet:
    """The difference between two snapshots; falsy when nothing changed."""

    old_event: CalEvent
    new_event: CalEvent
    event: ComponentChange | None = None
    sessions: tuple[ComponentChange, ...] = ()
    #: keys of sessions only in the new snapshot
    added: tuple[str, ...] = ()
    #: keys of sessions only in the old snapshot, with the SEQUENCE their CANCEL carries
    removed: tuple[ComponentChange, ...] = ()
    cancelled: bool = False
    postponed: bool = False
    old_sessions: Mapping[str, CalSession] = field(default_factory=dict)
    new_sessions: Mapping[str, CalSession] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.event or self.sessions or self.added or self.removed)

    @property
    def is_empty(self) -> bool:
        return not self


def _event_values(event: CalEvent) -> dict[str, object]:
    return {
        "time": (event.start, event.end),
        "recurrence": event.rrule,
        "status": event.status,
        "location": event.location,
        "summary": event.summary,
        "description": event.description,
        "categories": event.categories,
        "url": event.url,
    }


def _session_values(event: CalEvent, session: CalSession) -> dict[str, object]:
    return {
        "time": (session.start, session.end),
        "recurrence": session.rrule,
        "status": session.status,
        # the venue is part of a session's LOCATION, so moving the event moves its sessions;
        # its room alone is a minor change (the same place, another hall)
        "location": event.location,
        "room": session.room,
        "summary": session.summary,
        "description": session_description(session),
        "categories": session.categories or event.categories,
        "url": session.url,
    }


def _differing(old: dict[str, object], new: dict[str, object]) -> tuple[str, ...]:
    return tuple(sorted(name for name in old if old[name] != new[name]))


def compute_changes(
    old_event: CalEvent,
    old_sessions: Mapping[str, CalSession],
    new_event: CalEvent,
    new_sessions: Mapping[str, CalSession],
) -> ChangeSet:
    """Compare two snapshots; sessions are keyed by a key that survives edits."""
    if old_event.uid != new_event.uid:
        raise ValueError(f"the event's UID changed ({old_event.uid} -> {new_event.uid})")
    event_fields = _differing(_event_values(old_event), _event_values(new_event))
    event_change = None
    if event_fields:
        event_change = ComponentChange(
            EVENT_KEY,
            new_event.uid,
            event_fields,
            _next_sequence(old_event.sequence, new_event.sequence, event_fields),
        )
    changed: list[ComponentChange] = []
    for key in sorted(old_sessions.keys() & new_sessions.keys()):
        old, new = old_sessions[key], new_sessions[key]
        if old.uid != new.uid:
            raise ValueError(f"session {key}: UID changed ({old.uid} -> {new.uid})")
        names = _differing(_session_values(old_event, old), _session_values(new_event, new))
        if names:
            changed.append(
                ComponentChange(
                    key, new.uid, names, _next_sequence(old.sequence, new.sequence, names)
                )
            )
    removed = tuple(
        ComponentChange(key, old_sessions[key].uid, ("status",), old_sessions[key].sequence + 1)
        for key in sorted(old_sessions.keys() - new_sessions.keys())
    )
    cancelled = new_event.status == "CANCELLED" and old_event.status != "CANCELLED"
    return ChangeSet(
        old_event=old_event,
        new_event=new_event,
        event=event_change,
        sessions=tuple(changed),
        added=tuple(sorted(new_sessions.keys() - old_sessions.keys())),
        removed=removed,
        cancelled=cancelled,
        postponed=not cancelled and new_event.start > old_event.start,
        old_sessions=dict(old_sessions),
        new_sessions=dict(new_sessions),
    )


def _next_sequence(old: int, new: int, names: tuple[str, ...]) -> int:
    current = max(old, new)
    return current + 1 if any(name in BUMP_FIELDS for name in names) else current


def apply_sequences(
    changes: ChangeSet, event: CalEvent, sessions: Mapping[str, CalSession]
) -> tuple[CalEvent, dict[str, CalSession]]:
    """The new snapshot with each component's SEQUENCE set as ``changes`` requires."""
    if changes.event is not None:
        event = replace(event, sequence=changes.event.sequence)
    updated = dict(sessions)
    for change in changes.sessions:
        updated[change.key] = replace(updated[change.key], sequence=change.sequence)
    return event, updated


# --- the digest for people -------------------------------------------------------------------


#: What each line says; ``%(title)s`` is the event's or session's name in the reader's
#: language where the spec has one. The translations are the ``calendar`` gettext domain
#: (``templates/locale/<lang>/LC_MESSAGES/calendar.po``).
_MESSAGES: dict[str, str] = {
    "cancelled": i18n.N_("%(title)s has been cancelled."),
    "postponed": i18n.N_("%(title)s has been postponed: now %(start)s – %(end)s."),
    "time": i18n.N_("%(title)s: new time %(start)s – %(end)s."),
    "location": i18n.N_("%(title)s: new place: %(location)s."),
    "status_confirmed": i18n.N_("%(title)s is confirmed."),
    "status_tentative": i18n.N_("%(title)s is now tentative."),
    "recurrence": i18n.N_("%(title)s: the dates of the series have changed."),
    "summary": i18n.N_("New title: %(title)s (previously %(old_title)s)."),
    "details": i18n.N_("%(title)s: details have been updated."),
    "session_added": i18n.N_("New session: %(title)s, %(start)s – %(end)s."),
    "session_removed": i18n.N_("Session cancelled: %(title)s."),
}


def _say(key: str, lang: str, **values: str) -> str:
    return i18n.gettext(_MESSAGES[key], lang, domain=i18n.CALENDAR_DOMAIN, **values)


def summary_language(lang: str) -> str:
    """The language the digest will be written in: the primary subtag, else English."""
    primary = i18n.primary(lang)
    languages = i18n.available_languages(domain=i18n.CALENDAR_DOMAIN)
    return primary if primary in languages else FALLBACK_LANGUAGE


def _when(start: datetime, end: datetime, tzid: str, lang: str) -> tuple[str, str]:
    """Start and end in the language's one date and time style (no seconds)."""
    same_day = start.astimezone(ZoneInfo(tzid)).date() == end.astimezone(ZoneInfo(tzid)).date()
    shown_end = (
        i18n.format_time(end, lang, tz=tzid)
        if same_day
        else i18n.format_datetime(end, lang, tz=tzid)
    )
    return i18n.format_datetime(start, lang, tz=tzid), f"{shown_end} ({tzid})"


@dataclass(frozen=True)
class LocalNames:
    """The event's names in the reader's language, where the spec has them.

    The calendar objects keep their own texts (their bytes must not depend on who reads
    the mail); the lines and the notice print these instead. Anything missing here falls
    back to the calendar's text (English).
    """

    #: the event's venue and address, as one line
    location: str = ""
    #: session key -> the session's title
    session_titles: Mapping[str, str] = field(default_factory=dict)
    #: session key -> room and venue, as one line
    session_locations: Mapping[str, str] = field(default_factory=dict)


NO_LOCAL_NAMES = LocalNames()


def summarize_changes(
    changes: ChangeSet, lang: str, names: LocalNames = NO_LOCAL_NAMES
) -> list[str]:
    """Short lines saying what changed, in ``lang`` (English when it is not shipped).

    ``names``: the event's and sessions' names in ``lang`` (see :class:`LocalNames`).
    """
    if not changes:
        return []
    code = summary_language(lang)
    event = changes.new_event
    tzid = event.tzid
    if changes.cancelled:
        return [_say("cancelled", code, title=event.summary)]
    lines: list[str] = []
    if changes.event is not None:
        lines.extend(
            _component_lines(
                code,
                changes.event.fields,
                title=event.summary,
                old_title=changes.old_event.summary,
                start=event.start,
                end=event.end,
                location=names.location or event.location,
                status=event.status,
                tzid=tzid,
                postponed=changes.postponed,
            )
        )

    def title(key: str, session: CalSession) -> str:
        return names.session_titles.get(key) or session.summary

    for change in sorted(changes.sessions, key=lambda c: changes.new_sessions[c.key].start):
        session = changes.new_sessions[change.key]
        lines.extend(
            _component_lines(
                code,
                change.fields,
                title=title(change.key, session),
                old_title=changes.old_sessions[change.key].summary,
                start=session.start,
                end=session.end,
                location=names.session_locations.get(change.key)
                or session_location(event, session),
                status=session.status,
                tzid=tzid,
                postponed=False,
            )
        )
    for key in sorted(changes.added, key=lambda k: changes.new_sessions[k].start):
        session = changes.new_sessions[key]
        start, end = _when(session.start, session.end, tzid, code)
        lines.append(_say("session_added", code, title=title(key, session), start=start, end=end))
    for removed in changes.removed:
        old = changes.old_sessions[removed.key]
        lines.append(_say("session_removed", code, title=title(removed.key, old)))
    return lines


def _component_lines(
    code: str,
    fields: tuple[str, ...],
    *,
    title: str,
    old_title: str,
    start: datetime,
    end: datetime,
    location: str,
    status: str,
    tzid: str,
    postponed: bool,
) -> list[str]:
    lines: list[str] = []
    if "summary" in fields:
        lines.append(_say("summary", code, title=title, old_title=old_title))
    if "time" in fields:
        shown_start, shown_end = _when(start, end, tzid, code)
        key = "postponed" if postponed else "time"
        lines.append(_say(key, code, title=title, start=shown_start, end=shown_end))
    if "location" in fields or "room" in fields:
        lines.append(_say("location", code, title=title, location=location))
    if "status" in fields:
        key = {"TENTATIVE": "status_tentative", "CANCELLED": "session_removed"}.get(
            status, "status_confirmed"
        )
        lines.append(_say(key, code, title=title))
    if "recurrence" in fields:
        lines.append(_say("recurrence", code, title=title))
    if {"description", "categories", "url"} & set(fields):
        lines.append(_say("details", code, title=title))
    return lines
