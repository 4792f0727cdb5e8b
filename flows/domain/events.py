"""Event specs: the YAML an organizer writes, checked field by field (pure)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flows.domain.clock import LocalTimeError, local_to_utc, zone
from flows.domain.registry import has_line_break, language_problem
from flows.domain.slug import slugify
from flows.domain.vocabulary import TIE_KINDS

EVENT_KINDS = ("conference", "symposium", "festival", "delegation_visit", "other")


class SpecError(ValueError):
    """One or more problems with a spec, each naming its field."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


@dataclass(frozen=True)
class SessionSpec:
    key: str
    title: str
    start_dt: dt.datetime
    end_dt: dt.datetime
    room: str = ""
    topic: str = ""
    #: the title and room by language ("en" is ``title`` / ``room``)
    titles: dict[str, str] = field(default_factory=dict)
    rooms: dict[str, str] = field(default_factory=dict)
    speakers: tuple[str, ...] = ()
    #: cities whose delegations take part; empty = everyone
    cities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Practical:
    """What an official invitation tells a delegation besides the programme."""

    #: persons per delegation the host receives; None = not said
    delegation_size: int | None = None
    accommodation: dict[str, str] = field(default_factory=dict)
    costs: dict[str, str] = field(default_factory=dict)
    #: the letter offers visa support letters on request
    visa_support: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "delegation_size": self.delegation_size,
            "accommodation": self.accommodation,
            "costs": self.costs,
            "visa_support": self.visa_support,
        }


@dataclass(frozen=True)
class Audience:
    """Who is invited: ties of some kinds or all, named cities, and the districts' partners."""

    ties: str | None = None  # "all", a tie kind, or None
    cities: tuple[str, ...] = ()
    districts: bool = False


@dataclass(frozen=True)
class EventSpec:
    slug: str
    titles: dict[str, str]
    kind: str
    series: str | None
    edition: int | None
    host_city: str
    venue: str
    venue_address: str
    timezone: str
    start_dt: dt.datetime
    end_dt: dt.datetime
    is_bilingual: bool
    audience: Audience
    sessions: tuple[SessionSpec, ...]
    rsvp_by: dt.date | None = None
    #: hosts taking turns edition by edition, for `events next-edition`
    series_hosts: tuple[str, ...] = ()
    outcomes: dict[str, Any] = field(default_factory=dict)
    #: non-fatal findings, e.g. two sessions in one room at once
    warnings: tuple[str, ...] = ()
    #: venue and its address by language ("en" is ``venue`` / ``venue_address``)
    venues: dict[str, str] = field(default_factory=dict)
    venue_addresses: dict[str, str] = field(default_factory=dict)
    practical: Practical = field(default_factory=Practical)

    def to_json(self) -> dict[str, Any]:
        """The spec as stored on the event (for computing what changed on the next apply)."""
        return {
            "slug": self.slug,
            "titles": self.titles,
            "kind": self.kind,
            "series": self.series,
            "edition": self.edition,
            "host_city": self.host_city,
            "venue": self.venue,
            "venue_address": self.venue_address,
            "venues": self.venues,
            "venue_addresses": self.venue_addresses,
            "practical": self.practical.to_json(),
            "timezone": self.timezone,
            "start": self.start_dt.isoformat(),
            "end": self.end_dt.isoformat(),
            "bilingual": self.is_bilingual,
            "rsvp_by": self.rsvp_by.isoformat() if self.rsvp_by else None,
            "invite": {
                "ties": self.audience.ties,
                "cities": list(self.audience.cities),
                "districts": self.audience.districts,
            },
            "series_hosts": list(self.series_hosts),
            "outcomes": self.outcomes,
            "sessions": [
                {
                    "key": s.key,
                    "title": s.title,
                    "start": s.start_dt.isoformat(),
                    "end": s.end_dt.isoformat(),
                    "room": s.room,
                    "titles": s.titles,
                    "rooms": s.rooms,
                    "topic": s.topic,
                    "speakers": list(s.speakers),
                    "cities": list(s.cities),
                }
                for s in self.sessions
            ],
        }


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def localized(where: str, value: Any, problems: list[str], *, required: bool) -> dict[str, str]:
    """A text given once (English) or by language (``{en: …, zh: …}``); "en" is required."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"{where}: required")
        return {}
    if isinstance(value, Mapping):
        texts = {str(k).strip(): _text(v) for k, v in value.items() if _text(v)}
        if "en" not in texts:
            problems.append(
                f"{where}: needs an 'en' entry (the language other versions fall back to)"
            )
        return texts
    if isinstance(value, str | int | float):
        return {"en": _text(value)}
    problems.append(f"{where}: must be a text or a mapping of language to text")
    return {}


def _practical(data: Any, problems: list[str]) -> Practical:
    if data is None:
        return Practical()
    if not isinstance(data, Mapping):
        problems.append(
            "practical: must be a mapping (delegation_size, accommodation, costs, visa_support)"
        )
        return Practical()
    size = data.get("delegation_size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
        problems.append(f"practical.delegation_size: {size!r} is not a whole number of persons")
        size = None
    visa = data.get("visa_support", False)
    if not isinstance(visa, bool):
        problems.append(f"practical.visa_support: {visa!r} must be true or false")
        visa = False
    return Practical(
        delegation_size=size,
        accommodation=localized(
            "practical.accommodation", data.get("accommodation"), problems, required=False
        ),
        costs=localized("practical.costs", data.get("costs"), problems, required=False),
        visa_support=visa,
    )


def _local(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else None
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo is None else None
    return None


@dataclass(frozen=True)
class _Header:
    """The spec's top-level fields and times, as far as they could be read."""

    titles: dict[str, str]
    kind: str
    series: str | None
    edition: int | None
    host_city: str
    #: "" when the spec's time zone is missing or unknown
    timezone: str
    start_dt: dt.datetime | None
    end_dt: dt.datetime | None
    rsvp_by: dt.date | None


def parse_event_spec(
    source: str,
    data: Mapping[str, Any],
    *,
    known_cities: Iterable[str],
) -> EventSpec:
    """Check a spec and return it with times in UTC; raise SpecError naming every bad field.

    Times in the spec are local wall-clock times in the event's ``timezone``
    (``2027-04-20T09:00``); a time a DST change skips or repeats is refused.
    """
    problems: list[str] = []
    cities = set(known_cities)
    if not isinstance(data, Mapping):
        raise SpecError(source, ["the file must hold a mapping of fields"])
    # each part appends its problems in turn: the order of the message follows the file's fields
    head = _header(data, cities, problems)
    audience = _audience(data.get("invite"), cities, problems)
    sessions = _sessions(data.get("sessions"), head, cities, problems)
    series_hosts = _known("series_hosts", data.get("series_hosts"), cities, problems)
    outcomes = _outcomes(data.get("outcomes"), problems)
    venues = localized("venue", data.get("venue"), problems, required=False)
    venue_addresses = localized(
        "venue_address", data.get("venue_address"), problems, required=False
    )
    practical = _practical(data.get("practical"), problems)

    for where, texts in (
        ("title", head.titles),
        ("venue", venues),
        *((f"sessions[{n}].title", s.titles) for n, s in enumerate(sessions)),
        *((f"sessions[{n}].room", s.rooms) for n, s in enumerate(sessions)),
    ):
        _check_names(where, texts, problems)
    _check_languages("venue_address", venue_addresses, problems)
    slug = _text(data.get("slug"))
    if slug and slug != slugify(slug, unique=False):
        problems.append(f"slug: {slug!r} must be lower-case letters, digits and dashes")
    if problems:
        raise SpecError(source, problems)
    assert head.start_dt is not None and head.end_dt is not None
    return EventSpec(
        slug=_slug(source, data.get("slug"), head),
        titles=head.titles,
        kind=head.kind,
        series=head.series,
        edition=head.edition,
        host_city=head.host_city,
        venue=venues.get("en", ""),
        venue_address=venue_addresses.get("en", ""),
        venues=venues,
        venue_addresses=venue_addresses,
        practical=practical,
        timezone=head.timezone,
        start_dt=head.start_dt,
        end_dt=head.end_dt,
        is_bilingual=bool(data.get("bilingual")),
        audience=audience,
        sessions=tuple(sessions),
        rsvp_by=head.rsvp_by,
        series_hosts=series_hosts,
        outcomes=dict(outcomes),
        warnings=tuple(_room_overlaps(sessions)),
    )


def _check_languages(where: str, texts: Mapping[str, str], problems: list[str]) -> None:
    """Each language of a text by language is a BCP 47 tag (the registry's rule)."""
    for lang in texts:
        if reason := language_problem(lang):
            problems.append(f"{where}.{lang}: {reason}")


def _check_names(where: str, texts: Mapping[str, str], problems: list[str]) -> None:
    """A name (title, venue, room) by language: known languages, one line each."""
    _check_languages(where, texts, problems)
    for lang, text in texts.items():
        if has_line_break(text):
            problems.append(f"{where}.{lang}: {text!r}: must be one line")


def _naive_order(where: str, start: Any, end: Any, problems: list[str]) -> None:
    """End after start, compared as wall-clock times when the zone is unknown (all problems at
    once, not end-before-start only after the zone is fixed)."""
    s, e = _local(start), _local(end)
    if s is not None and e is not None and e <= s:
        problems.append(f"{where}: must be after {'start' if where == 'end' else 'its start'}")


def _header(data: Mapping[str, Any], cities: set[str], problems: list[str]) -> _Header:
    """Title, kind, series and edition, host city, time zone, start and end, RSVP date."""
    titles = _titles(data.get("title"), problems)
    kind = _text(data.get("kind"))
    if kind not in EVENT_KINDS:
        problems.append(f"kind: {kind!r} is not one of {', '.join(EVENT_KINDS)}")
    series = _text(data.get("series")) or None
    edition = _edition(data.get("edition"), problems)
    host = _text(data.get("host_city"))
    if not host:
        problems.append("host_city: required")
    elif host not in cities:
        problems.append(f"host_city: unknown city {host!r}")
    tzid = _timezone(data.get("timezone"), problems)
    start = _when("start", data.get("start"), tzid, problems)
    end = _when("end", data.get("end"), tzid, problems)
    if start and end and end <= start:
        problems.append("end: must be after start")
    elif not tzid:
        _naive_order("end", data.get("start"), data.get("end"), problems)
    rsvp_by = _rsvp_by(data.get("rsvp_by"), problems)
    return _Header(titles, kind, series, edition, host, tzid, start, end, rsvp_by)


def _titles(value: Any, problems: list[str]) -> dict[str, str]:
    titles: dict[str, str] = {}
    if isinstance(value, str) and value.strip():
        titles = {"en": value.strip()}
    elif isinstance(value, Mapping):
        titles = {str(k): _text(v) for k, v in value.items() if _text(v)}
    if "en" not in titles:
        problems.append("title: required, with an 'en' entry at least")
    return titles


def _edition(value: Any, problems: list[str]) -> Any:
    if value is not None and (not isinstance(value, int) or value < 1):
        problems.append(f"edition: {value!r} must be a positive whole number")
        return None
    return value


def _timezone(value: Any, problems: list[str]) -> str:
    """The IANA zone the spec's times are in; "" when it is not one."""
    tzid = _text(value)
    try:
        zone(tzid)
    except Exception:
        problems.append(f"timezone: {tzid!r} is not an IANA time zone")
        return ""
    return tzid


def _when(field_name: str, value: Any, tzid: str, problems: list[str]) -> dt.datetime | None:
    """A local wall-clock time in ``tzid`` as UTC; None when it is bad or ``tzid`` is unknown."""
    local = _local(value)
    if local is None:
        problems.append(f"{field_name}: {value!r} is not a local date-time like 2027-04-20T09:00")
        return None
    if not tzid:
        return None
    try:
        return local_to_utc(local, tzid)
    except LocalTimeError as exc:
        problems.append(f"{field_name}: {exc}")
        return None


def _rsvp_by(value: Any, problems: list[str]) -> Any:
    if value is not None and not isinstance(value, dt.date):
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            problems.append(f"rsvp_by: {value!r} is not a date like 2027-03-20")
            return None
    return value


def _known(where: str, values: Any, cities: set[str], problems: list[str]) -> tuple[str, ...]:
    """City names from a list, each of which must be in the registry."""
    names = tuple(_text(c) for c in values or ())
    for c in names:
        if c not in cities:
            problems.append(f"{where}: unknown city {c!r}")
    return names


def _audience(value: Any, cities: set[str], problems: list[str]) -> Audience:
    invite = value or {}
    if not isinstance(invite, Mapping):
        problems.append("invite: must be a mapping (ties, cities, districts)")
        return Audience()
    ties = _text(invite.get("ties")) or None
    if ties is not None and ties != "all" and ties not in TIE_KINDS:
        problems.append(f"invite.ties: {ties!r} must be 'all' or one of {', '.join(TIE_KINDS)}")
    invited = tuple(_text(c) for c in invite.get("cities") or ())
    for n, name in enumerate(invited):
        if name not in cities:
            problems.append(f"invite.cities[{n}]: unknown city {name!r}")
    if ties is None and not invited:
        problems.append("invite: name the ties ('all' or a kind) or a list of cities")
    return Audience(ties=ties, cities=invited, districts=bool(invite.get("districts")))


def _sessions(
    values: Any, head: _Header, cities: set[str], problems: list[str]
) -> list[SessionSpec]:
    """The sessions whose times could be read; a key used twice is a problem."""
    sessions: list[SessionSpec] = []
    seen_keys: set[str] = set()
    for n, raw in enumerate(values or ()):
        session = _session(n, raw, head, cities, seen_keys, problems)
        if session is not None:
            sessions.append(session)
    return sessions


def _session(
    n: int, raw: Any, head: _Header, cities: set[str], seen_keys: set[str], problems: list[str]
) -> SessionSpec | None:
    where = f"sessions[{n}]"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be a mapping")
        return None
    titles = localized(f"{where}.title", raw.get("title"), problems, required=True)
    rooms = localized(f"{where}.room", raw.get("room"), problems, required=False)
    title = titles.get("en", "")
    key = _text(raw.get("key")) or slugify(title or str(n), unique=False)
    if key in seen_keys:
        problems.append(f"{where}.key: {key!r} is used twice")
    seen_keys.add(key)
    start = _when(f"{where}.start", raw.get("start"), head.timezone, problems)
    end = _when(f"{where}.end", raw.get("end"), head.timezone, problems)
    if start and end and end <= start:
        problems.append(f"{where}.end: must be after its start")
    elif not head.timezone:
        _naive_order(f"{where}.end", raw.get("start"), raw.get("end"), problems)
    if (
        start
        and end
        and head.start_dt
        and head.end_dt
        and (start < head.start_dt or end > head.end_dt)
    ):
        problems.append(f"{where}: {title!r} lies outside the event's start and end")
    session_cities = _known(f"{where}.cities", raw.get("cities"), cities, problems)
    if not (start and end):
        return None
    return SessionSpec(
        key=key,
        title=title,
        start_dt=start,
        end_dt=end,
        room=rooms.get("en", ""),
        titles=titles,
        rooms=rooms,
        topic=_text(raw.get("topic")),
        speakers=tuple(_text(s) for s in raw.get("speakers") or ()),
        cities=session_cities,
    )


def _room_overlaps(sessions: list[SessionSpec]) -> list[str]:
    """Warnings for sessions that share a room at the same time (not an error: rooms get moved)."""
    warnings: list[str] = []
    by_room: dict[str, list[SessionSpec]] = {}
    for s in sessions:
        if s.room:
            by_room.setdefault(s.room, []).append(s)
    for room, items in by_room.items():
        items.sort(key=lambda s: s.start_dt)
        for a, b in itertools.pairwise(items):
            if b.start_dt < a.end_dt:
                warnings.append(f"sessions {a.key!r} and {b.key!r} overlap in room {room!r}")
    return warnings


def _outcomes(value: Any, problems: list[str]) -> Mapping[str, Any]:
    outcomes = value or {}
    if not isinstance(outcomes, Mapping):
        problems.append("outcomes: must be a mapping (agreements, follow_ups)")
        return {}
    return outcomes


def _slug(source: str, value: Any, head: _Header) -> str:
    """The spec's slug, or one made of its title (or of its series and edition)."""
    titles, series, edition = head.titles, head.series, head.edition
    slug = _text(value) or slugify(  # the database keeps slugs unique
        titles["en"] if edition is None else f"{series or titles['en']} {edition}", unique=False
    )
    if slug != slugify(slug, unique=False):
        raise SpecError(source, [f"slug: {slug!r} must be lower-case letters, digits and dashes"])
    return slug
