"""iCalendar objects for invitations, cancellations, feeds and CalDAV resources.

Everything here is deterministic: UIDs, SEQUENCE and DTSTAMP come from the caller. Text is
escaped and folded by icalendar; this module only assembles the serialised blocks, so that a
VTIMEZONE (and, in feeds, each VEVENT) is serialised once and reused across many calendars.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from icalendar import (
    Alarm,
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vRecur,
    vText,
)
from icalendar.parser import Contentline, Parameters

PRODID = "-//amity//amity calendar 1.0//EN"
_END_VCALENDAR = b"END:VCALENDAR\r\n"
_UTC_TZIDS = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Etc/Zulu", "Zulu", "Universal"})
# C0 controls other than TAB and LF cannot be represented in TEXT; CR is folded into LF first.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PARAM_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Person:
    """A calendar user: an e-mail address and a display name (CN)."""

    email: str
    name: str = ""


def _check_span(start: datetime, end: datetime, what: str) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError(f"{what}: start and end must be timezone-aware (UTC)")
    if end <= start:
        raise ValueError(f"{what}: end {end.isoformat()} is not after start {start.isoformat()}")


@dataclass(frozen=True)
class CalEvent:
    """The event as calendars see it; times are UTC-aware, rendered in ``tzid``."""

    uid: str
    sequence: int
    summary: str
    start: datetime
    end: datetime
    tzid: str
    description: str = ""
    location: str = ""
    categories: tuple[str, ...] = ()
    status: str = "CONFIRMED"
    url: str | None = None
    #: an RRULE value such as "FREQ=YEARLY;COUNT=3"; empty for a single occurrence
    rrule: str = ""
    #: shown as whole days (VALUE=DATE, exclusive DTEND): the local dates of ``start`` and
    #: ``end``, which are local midnights in ``tzid`` (a historical event known to the day)
    all_day: bool = False

    def __post_init__(self) -> None:
        _check_span(self.start, self.end, f"event {self.uid}")


@dataclass(frozen=True)
class CalSession:
    """One agenda item; it is shown in its event's zone and at its event's venue."""

    uid: str
    sequence: int
    summary: str
    start: datetime
    end: datetime
    room: str = ""
    topic: str = ""
    speakers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status: str = "CONFIRMED"
    url: str | None = None
    rrule: str = ""
    #: extra free text appended to the DESCRIPTION after topic and speakers
    description: str = field(default="")

    def __post_init__(self) -> None:
        _check_span(self.start, self.end, f"session {self.uid}")


_Item = TypeVar("_Item", CalEvent, CalSession)


# --- time zones ------------------------------------------------------------------------------


def ensure_local_time_exists(local_naive: datetime, tzid: str) -> None:
    """Refuse a wall-clock time that a DST change skips or repeats in ``tzid``."""
    zone = ZoneInfo(tzid)
    if local_naive.tzinfo is not None:
        raise ValueError(f"{local_naive.isoformat()} must be a local (naive) time in {tzid}")
    shown = local_naive.strftime("%Y-%m-%d %H:%M")
    first = local_naive.replace(tzinfo=zone, fold=0)
    second = local_naive.replace(tzinfo=zone, fold=1)
    # A skipped time does not survive the round trip through UTC.
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local_naive:
        raise ValueError(f"{shown} does not exist in {tzid} (the clocks skip it at a DST change)")
    if first.utcoffset() != second.utcoffset():
        raise ValueError(f"{shown} occurs twice in {tzid} (the clocks repeat it at a DST change)")


def vtimezone(tzid: str, first_year: int, last_year: int | None = None) -> Timezone:
    """The VTIMEZONE of ``tzid`` covering ``first_year`` to ``last_year`` (cached).

    Building one costs milliseconds, so it is built once per zone and span and then shared;
    callers must not modify the returned component.
    """
    return _vtimezone(tzid, first_year, last_year if last_year is not None else first_year)


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    # Built from zoneinfo's transitions rather than with Timezone.from_tzid(): icalendar 7.3
    # (a) writes a forward jump's onset as the new wall time (03:00) where RFC 5545 wants it in
    # TZOFFSETFROM time (02:00), so clients trusting the VTIMEZONE switch an hour late, and
    # (b) searches in 64-day strides and misses short periods such as Casablanca's Ramadan
    # time in 2027. tests/ics_rules.py checks both against zoneinfo.
    zone = ZoneInfo(tzid)
    begin = datetime(first_year, 1, 1, tzinfo=zone)
    stop = datetime(last_year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    offset = begin.utcoffset()
    # (offset from, offset to, name, is standard) -> onsets as local times in TZOFFSETFROM
    observances = {_observance_key(begin, offset): [begin.replace(tzinfo=None)]}
    moment = begin.astimezone(UTC)
    while moment < stop:
        following = moment + _SCAN_STEP
        new_offset = following.astimezone(zone).utcoffset()
        if new_offset != offset:
            change = _bisect_change(zone, moment, following)
            onset = (change + offset).replace(tzinfo=None)  # type: ignore[operator]
            observances.setdefault(_observance_key(change.astimezone(zone), offset), []).append(
                onset
            )
            offset = new_offset
        moment = following
    built = Timezone()
    built.add("TZID", tzid)
    for (offset_from, offset_to, name, is_standard), onsets in observances.items():
        observance = TimezoneStandard() if is_standard else TimezoneDaylight()
        observance.add("DTSTART", onsets[0])
        if len(onsets) > 1:
            observance.add("RDATE", onsets[1:])
        observance.add("TZNAME", name)
        observance.add("TZOFFSETFROM", offset_from)
        observance.add("TZOFFSETTO", offset_to)
        built.add_component(observance)
    return built


# Zones change at most a few times a year, never twice within six hours.
_SCAN_STEP = timedelta(hours=6)


def _observance_key(
    local: datetime, offset_from: timedelta | None
) -> tuple[timedelta, timedelta, str, bool]:
    offset_to = local.utcoffset()
    assert offset_to is not None and offset_from is not None
    return (offset_from, offset_to, local.tzname() or _format_offset(offset_to), not local.dst())


def _format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _bisect_change(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first UTC second at which ``zone`` has the offset it has at ``high``."""
    before = low.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = (low + (high - low) / 2).replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high


@lru_cache(maxsize=256)
def _vtimezone_bytes(tzid: str, first_year: int, last_year: int) -> bytes:
    return _vtimezone(tzid, first_year, last_year).to_ical()


def _zone_block(tzid: str, spans: Iterable[tuple[datetime, datetime]]) -> bytes:
    if tzid in _UTC_TZIDS:
        return b""  # UTC times are written with Z and need no VTIMEZONE
    zone = ZoneInfo(tzid)
    years = [moment.astimezone(zone).year for span in spans for moment in span]
    if not years:
        return b""  # only whole days (VALUE=DATE): no TZID is used
    return _vtimezone_bytes(tzid, min(years), max(years))


def _timed(event: CalEvent) -> list[tuple[datetime, datetime]]:
    """The event's span where it is written with times (an all-day event uses no TZID)."""
    return [] if event.all_day else [(event.start, event.end)]


# --- components ------------------------------------------------------------------------------


def _text(value: str) -> str:
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _param(value: str) -> str:
    """A parameter value cannot hold a double quote or a line break at all: drop them."""
    return " ".join(_PARAM_CONTROL.sub(" ", value.replace('"', "")).split())


def _address(person: Person, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{_param(person.email)}")
    name = _param(person.name)
    if name:
        address.params["CN"] = name
    for key, value in params.items():
        address.params[key] = value
    return address


def _vevent(
    *,
    uid: str,
    sequence: int,
    stamp: datetime,
    start: datetime,
    end: datetime,
    tzid: str,
    summary: str,
    location: str,
    description: str,
    categories: Sequence[str],
    status: str,
    url: str | None,
    rrule: str,
    all_day: bool = False,
) -> Event:
    if stamp.tzinfo is None:
        raise ValueError("stamp must be timezone-aware")
    zone = ZoneInfo(tzid)
    vevent = Event()
    vevent.add("UID", uid)
    vevent.add("SEQUENCE", sequence)
    vevent.add("DTSTAMP", stamp.astimezone(UTC))
    if all_day:
        # VALUE=DATE; DTEND is the day after the last day (RFC 5545 §3.6.1)
        vevent.add("DTSTART", start.astimezone(zone).date())
        vevent.add("DTEND", end.astimezone(zone).date())
    else:
        vevent.add("DTSTART", start.astimezone(zone))
        vevent.add("DTEND", end.astimezone(zone))
    if rrule:
        vevent.add("RRULE", vRecur.from_ical(rrule))
    vevent.add("SUMMARY", _text(summary))
    if location:
        vevent.add("LOCATION", _text(location))
    if description:
        vevent.add("DESCRIPTION", _text(description))
    cleaned = [_text(category) for category in categories if category.strip()]
    if cleaned:
        vevent.add("CATEGORIES", cleaned)
    vevent.add("STATUS", status)
    if url:
        vevent.add("URL", url)
    return vevent


def event_vevent(event: CalEvent, *, stamp: datetime) -> Event:
    """The VEVENT of the event itself (no organizer, no attendees)."""
    return _vevent(
        uid=event.uid,
        sequence=event.sequence,
        stamp=stamp,
        start=event.start,
        end=event.end,
        tzid=event.tzid,
        summary=event.summary,
        location=event.location,
        description=event.description,
        categories=event.categories,
        status=event.status,
        url=event.url,
        rrule=event.rrule,
        all_day=event.all_day,
    )


def session_location(event: CalEvent, session: CalSession) -> str:
    """Room and venue, as one LOCATION line."""
    return ", ".join(part for part in (session.room.strip(), event.location.strip()) if part)


def session_description(session: CalSession) -> str:
    """Topic, then speakers, then any extra text, one paragraph each."""
    parts = [session.topic.strip()]
    if session.speakers:
        parts.append(", ".join(speaker.strip() for speaker in session.speakers))
    parts.append(session.description.strip())
    return "\n\n".join(part for part in parts if part)


def session_vevent(event: CalEvent, session: CalSession, *, stamp: datetime) -> Event:
    """The VEVENT of one session, in its event's zone."""
    return _vevent(
        uid=session.uid,
        sequence=session.sequence,
        stamp=stamp,
        start=session.start,
        end=session.end,
        tzid=event.tzid,
        summary=session.summary,
        location=session_location(event, session),
        description=session_description(session),
        categories=session.categories or event.categories,
        status=session.status,
        url=session.url,
        rrule=session.rrule,
    )


@lru_cache(maxsize=1024)
def _head(method: str | None, name: str | None) -> bytes:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    if method:
        calendar.add("METHOD", method)
    if name:
        # icalendar 7.3's calendar_name writes NAME/X-WR-CALNAME unescaped: force TEXT.
        calendar.add("NAME", vText(_text(name)))
        calendar.add("X-WR-CALNAME", vText(_text(name)))
    serialised = calendar.to_ical()
    return serialised[: -len(_END_VCALENDAR)]


def _assemble(method: str | None, name: str | None, zones: bytes, blocks: Iterable[bytes]) -> bytes:
    return b"".join((_head(method, name), zones, *blocks, _END_VCALENDAR))


# --- iTIP messages (invitations, updates, cancellations) -------------------------------------


def _attendee(person: Person, role: str, partstat: str, rsvp: bool) -> vCalAddress:
    return _address(
        person, CUTYPE="INDIVIDUAL", ROLE=role, PARTSTAT=partstat, RSVP="TRUE" if rsvp else "FALSE"
    )


def _itip(
    vevent: Event,
    *,
    tzid: str,
    span: tuple[datetime, datetime] | None,
    method: str,
    organizer: Person,
    attendees: Sequence[tuple[Person, str]],
    partstat: str,
    rsvp: bool,
    alarm_before: timedelta | None,
) -> bytes:
    vevent.add("ORGANIZER", _address(organizer))
    for person, role in attendees:
        vevent.add("ATTENDEE", _attendee(person, role, partstat, rsvp))
    if alarm_before is not None:
        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("TRIGGER", -alarm_before)
        alarm.add("DESCRIPTION", vevent.get("SUMMARY"))
        vevent.add_component(alarm)
    return _assemble(method, None, _zone_block(tzid, [span] if span else []), [vevent.to_ical()])


def invitation_ics(
    event: CalEvent,
    *,
    organizer: Person,
    attendee: Person,
    stamp: datetime,
    method: str = "REQUEST",
    role: str = "REQ-PARTICIPANT",
    alarm_before: timedelta | None = None,
    partstat: str = "NEEDS-ACTION",
    rsvp: bool = True,
) -> bytes:
    """METHOD:REQUEST for one attendee: the first invitation and every later update.

    An update after a minor change (same SEQUENCE) passes the attendee's recorded answer as
    ``partstat`` with ``rsvp=False``: the calendar keeps it and does not ask again.

    Of an invitation run's calendars only the UID and ATTENDEE lines differ from one
    contact to the next: the rest is serialised once per event version (and language) and
    the two lines are written into it, the same bytes at a fraction of the cost.
    """
    before_uid, before_attendee, after = _invitation_frame(
        replace(event, uid=_UID_SLOT), organizer, stamp, method, role, alarm_before, partstat, rsvp
    )
    return b"".join(
        (
            before_uid,
            _uid_line(event.uid),
            before_attendee,
            _attendee_line(_attendee(attendee, role, partstat, rsvp)),
            after,
        )
    )


def _invitation(
    event: CalEvent,
    *,
    organizer: Person,
    attendee: Person,
    stamp: datetime,
    method: str,
    role: str,
    alarm_before: timedelta | None,
    partstat: str,
    rsvp: bool,
) -> bytes:
    """The invitation serialised whole (what :func:`invitation_ics` writes, line for line)."""
    return _itip(
        event_vevent(event, stamp=stamp),
        tzid=event.tzid,
        span=None if event.all_day else (event.start, event.end),
        method=method,
        organizer=organizer,
        attendees=[(attendee, role)],
        partstat=partstat,
        rsvp=rsvp,
        alarm_before=alarm_before,
    )


#: placeholders of the per-contact lines in a serialised invitation (:func:`_invitation_frame`)
_UID_SLOT = "amity-uid-slot"
_ATTENDEE_SLOT = Person("attendee-slot@amity.invalid")


@lru_cache(maxsize=64)
def _invitation_frame(
    event: CalEvent,
    organizer: Person,
    stamp: datetime,
    method: str,
    role: str,
    alarm_before: timedelta | None,
    partstat: str,
    rsvp: bool,
) -> tuple[bytes, bytes, bytes]:
    """An invitation serialised around its UID and ATTENDEE lines: (before the UID line,
    between the two, after the ATTENDEE line).

    Each placeholder line is found whole, after a line end (a folded line's continuation
    starts with a space), exactly once: no text of the event can be mistaken for it.
    """
    whole = _invitation(
        event,
        organizer=organizer,
        attendee=_ATTENDEE_SLOT,
        stamp=stamp,
        method=method,
        role=role,
        alarm_before=alarm_before,
        partstat=partstat,
        rsvp=rsvp,
    )
    uid = b"\n" + _uid_line(_UID_SLOT)
    attendee = b"\n" + _attendee_line(_attendee(_ATTENDEE_SLOT, role, partstat, rsvp))
    if whole.count(uid) != 1 or whole.count(attendee) != 1:
        raise RuntimeError("the invitation's UID or ATTENDEE line is not where it was expected")
    before_uid, _, rest = whole.partition(uid)
    before_attendee, _, after = rest.partition(attendee)
    if not after:  # the ATTENDEE line came before the UID line
        raise RuntimeError("the invitation's ATTENDEE line comes before its UID line")
    return before_uid + b"\n", before_attendee + b"\n", after


def _attendee_line(address: vCalAddress) -> bytes:
    """The ATTENDEE content line as icalendar writes it (parameters sorted, folded)."""
    return Contentline.from_parts("ATTENDEE", address.params, address).to_ical() + b"\r\n"


def cancel_ics(
    event: CalEvent,
    *,
    organizer: Person,
    attendees: Sequence[Person],
    stamp: datetime,
    role: str = "REQ-PARTICIPANT",
) -> bytes:
    """METHOD:CANCEL of the event; the caller has already bumped ``event.sequence``."""
    vevent = event_vevent(_cancelled(event), stamp=stamp)
    return _itip(
        vevent,
        tzid=event.tzid,
        span=None if event.all_day else (event.start, event.end),
        method="CANCEL",
        organizer=organizer,
        attendees=[(person, role) for person in attendees],
        partstat="NEEDS-ACTION",
        rsvp=False,
        alarm_before=None,
    )


def session_invitation_ics(
    event: CalEvent,
    session: CalSession,
    *,
    organizer: Person,
    attendee: Person,
    stamp: datetime,
    role: str = "REQ-PARTICIPANT",
    alarm_before: timedelta | None = None,
) -> bytes:
    """METHOD:REQUEST of one session (its own UID) for one attendee."""
    return _itip(
        session_vevent(event, session, stamp=stamp),
        tzid=event.tzid,
        span=(session.start, session.end),
        method="REQUEST",
        organizer=organizer,
        attendees=[(attendee, role)],
        partstat="NEEDS-ACTION",
        rsvp=True,
        alarm_before=alarm_before,
    )


def session_cancel_ics(
    event: CalEvent,
    session: CalSession,
    *,
    organizer: Person,
    attendees: Sequence[Person],
    stamp: datetime,
    role: str = "REQ-PARTICIPANT",
) -> bytes:
    """METHOD:CANCEL of a removed session; the caller has already bumped its sequence."""
    vevent = session_vevent(event, _cancelled(session), stamp=stamp)
    return _itip(
        vevent,
        tzid=event.tzid,
        span=(session.start, session.end),
        method="CANCEL",
        organizer=organizer,
        attendees=[(person, role) for person in attendees],
        partstat="NEEDS-ACTION",
        rsvp=False,
        alarm_before=None,
    )


def _cancelled(item: _Item) -> _Item:
    return replace(item, status="CANCELLED")


# --- feeds and CalDAV objects ----------------------------------------------------------------


def _all_spans(event: CalEvent, sessions: Iterable[CalSession]) -> list[tuple[datetime, datetime]]:
    return [*_timed(event), *((s.start, s.end) for s in sessions)]


def feed_ics(
    event: CalEvent, sessions: Sequence[CalSession], *, name: str, stamp: datetime
) -> bytes:
    """The published feed: the event and each session, no METHOD, with a calendar name."""
    zones = _zone_block(event.tzid, _all_spans(event, sessions))
    blocks = [event_vevent(event, stamp=stamp).to_ical()]
    blocks.extend(session_vevent(event, s, stamp=stamp).to_ical() for s in sessions)
    return _assemble(None, name, zones, blocks)


def subset_feeds(
    event: CalEvent,
    sessions: Sequence[CalSession],
    members: Mapping[str, Collection[str]],
    *,
    name: str,
    stamp: datetime,
    event_uids: Mapping[str, str] | None = None,
) -> dict[str, bytes]:
    """Per-partner or per-contact feeds: key -> the event plus the sessions whose UIDs it lists.

    ``event_uids``: key -> the UID the event carries in that feed (a contact's feed shows the
    event under the UID of the contact's invitation, so that a contact both invited and
    subscribed sees it once); other feeds carry ``event.uid``.

    Each session VEVENT is serialised once and shared by every feed that contains it, which
    is what keeps thousands of per-contact feeds cheap.
    """
    event_uids = event_uids or {}
    zones = _zone_block(event.tzid, _all_spans(event, sessions))
    event_block = event_vevent(event, stamp=stamp).to_ical()
    session_blocks = {s.uid: session_vevent(event, s, stamp=stamp).to_ical() for s in sessions}
    position = {s.uid: index for index, s in enumerate(sessions)}
    feeds: dict[str, bytes] = {}
    for key, uids in members.items():
        unknown = [uid for uid in uids if uid not in position]
        if unknown:
            raise ValueError(f"feed {key}: sessions {sorted(unknown)} are not in the agenda")
        # agenda order, without scanning the whole agenda for every feed
        chosen = [session_blocks[uid] for uid in sorted(uids, key=position.__getitem__)]
        own_uid = event_uids.get(key)
        shown = (
            _with_uid(event_block, event.uid, own_uid)
            if own_uid and own_uid != event.uid
            else event_block
        )
        feeds[key] = _assemble(None, name, zones, [shown, *chosen])
    return feeds


def _uid_line(uid: str) -> bytes:
    """The UID content line as icalendar writes it (TEXT escaped, folded at 75 octets)."""
    line = Contentline.from_parts("UID", Parameters(), vText(uid))
    return line.to_ical() + b"\r\n"


def _with_uid(block: bytes, uid: str, new_uid: str) -> bytes:
    """A serialised VEVENT with its UID replaced: 10x cheaper than serialising it again.

    The UID is the first property of every VEVENT built here, so its line is the first match.
    """
    old_line, new_line = _uid_line(uid), _uid_line(new_uid)
    if old_line not in block:
        raise ValueError(f"no UID line for {uid!r} in the serialised VEVENT")
    return block.replace(old_line, new_line, 1)


def caldav_objects(
    event: CalEvent, sessions: Sequence[CalSession], stamp: datetime
) -> dict[str, bytes]:
    """One VCALENDAR per VEVENT, keyed by UID: no METHOD, no calendar name (RFC 4791).

    Pass the time of the event's last change as ``stamp``, not the time of publishing: the
    same content then gives the same bytes, and an unchanged event is not uploaded again.
    """
    objects = {
        event.uid: _assemble(
            None,
            None,
            _zone_block(event.tzid, _timed(event)),
            [event_vevent(event, stamp=stamp).to_ical()],
        )
    }
    for s in sessions:
        objects[s.uid] = _assemble(
            None,
            None,
            _zone_block(event.tzid, [(s.start, s.end)]),
            [session_vevent(event, s, stamp=stamp).to_ical()],
        )
    return objects
