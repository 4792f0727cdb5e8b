"""RFC 5545/5546 rules checked on the bytes of an .ics file.

Parsers are lenient (they invent UIDs, drop text after an unescaped comma, accept bare LF),
so this module reads the octets itself: physical lines, folding, the content-line grammar,
TEXT escaping, the component tree, and the VTIMEZONE's offsets against zoneinfo. A second
helper reads the file with two independent parsers and compares what they see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_OCTETS = 75

#: TEXT properties holding one value: a comma must be escaped.
SINGLE_TEXT = frozenset(
    {"SUMMARY", "DESCRIPTION", "LOCATION", "COMMENT", "CONTACT", "UID", "TZNAME", "NAME"}
    | {"X-WR-CALNAME", "X-WR-CALDESC"}
)
#: TEXT properties holding a comma-separated list.
LIST_TEXT = frozenset({"CATEGORIES", "RESOURCES"})
#: Parameters that take exactly one value; a second one means an unquoted comma.
SINGLE_PARAMS = frozenset(
    {"CN", "ROLE", "PARTSTAT", "RSVP", "CUTYPE", "TZID", "VALUE", "LANGUAGE", "ALTREP"}
    | {"RELATED", "RANGE", "FBTYPE", "RELTYPE", "ENCODING", "FMTTYPE", "SENT-BY", "DIR"}
)
ITIP_METHODS = frozenset({"REQUEST", "CANCEL", "REPLY", "ADD", "COUNTER", "REFRESH"})
VEVENT_STATUSES = frozenset({"TENTATIVE", "CONFIRMED", "CANCELLED"})

_NAME = re.compile(r"[A-Za-z0-9-]+")
_UTC_STAMP = re.compile(r"\d{8}T\d{6}Z")
_DATE_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?")
_CAL_ADDRESS = re.compile(r"mailto:[^\s:\"<>]+@[^\s:\"<>]+", re.IGNORECASE)
_OFFSET = re.compile(r"([+-])(\d{2})(\d{2})(\d{2})?")


@dataclass
class Prop:
    name: str
    params: dict[str, list[str]]
    value: str
    line: int


@dataclass
class Comp:
    name: str
    line: int
    props: list[Prop] = field(default_factory=list)
    children: list[Comp] = field(default_factory=list)

    def all(self, name: str) -> list[Prop]:
        return [prop for prop in self.props if prop.name == name]

    def one(self, name: str) -> Prop | None:
        found = self.all(name)
        return found[0] if len(found) == 1 else None

    def walk(self, name: str) -> Iterator[Comp]:
        for child in self.children:
            if child.name == name:
                yield child
            yield from child.walk(name)


# --- lexical layer ---------------------------------------------------------------------------


def _physical_lines(data: bytes, problems: list[str]) -> list[tuple[int, str]]:
    if not data.endswith(b"\r\n"):
        problems.append("the file does not end with CRLF")
    lines: list[tuple[int, str]] = []
    raw_lines = data.split(b"\r\n")
    if raw_lines[-1] == b"":
        raw_lines.pop()
    for number, raw in enumerate(raw_lines, start=1):
        if b"\n" in raw or b"\r" in raw:
            problems.append(f"line {number}: a line ends with a bare LF or CR instead of CRLF")
            raw = raw.replace(b"\r", b"").replace(b"\n", b"")
        if len(raw) > MAX_OCTETS:
            problems.append(f"line {number}: {len(raw)} octets, longer than {MAX_OCTETS}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {number}: invalid UTF-8 (a character split by folding?)")
            text = raw.decode("utf-8", "replace")
        lines.append((number, text))
    return lines


def _unfold(lines: list[tuple[int, str]], problems: list[str]) -> list[tuple[int, str]]:
    logical: list[tuple[int, str]] = []
    for number, text in lines:
        if text[:1] in (" ", "\t"):
            if not logical:
                problems.append(f"line {number}: a continuation line starts the file")
                continue
            start, previous = logical[-1]
            logical[-1] = (start, previous + text[1:])
        else:
            logical.append((number, text))
    return logical


def _parse_line(number: int, text: str, problems: list[str]) -> Prop | None:
    """The content-line grammar of RFC 5545 §3.1, including quoted parameter values."""
    match = _NAME.match(text)
    if not match:
        problems.append(f"line {number}: malformed content line {text[:40]!r}")
        return None
    name = match.group().upper()
    pos = match.end()
    params: dict[str, list[str]] = {}
    while pos < len(text) and text[pos] == ";":
        pmatch = _NAME.match(text, pos + 1)
        if not pmatch or pmatch.end() >= len(text) or text[pmatch.end()] != "=":
            problems.append(f"line {number}: {name}: malformed parameter (unquoted ';'?)")
            return None
        pname = pmatch.group().upper()
        pos = pmatch.end() + 1
        values: list[str] = []
        while True:
            if pos < len(text) and text[pos] == '"':
                end = text.find('"', pos + 1)
                if end < 0:
                    problems.append(f"line {number}: {name}: unterminated quoted parameter")
                    return None
                values.append(text[pos + 1 : end])
                pos = end + 1
            else:
                end = pos
                while end < len(text) and text[end] not in ';:,"':
                    end += 1
                values.append(text[pos:end])
                pos = end
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            break
        if pos >= len(text) or text[pos] not in ";:":
            problems.append(f"line {number}: {name}: parameter {pname} is malformed")
            return None
        if pname in params:
            problems.append(f"line {number}: {name}: parameter {pname} given twice")
        params[pname] = values
        if pname in SINGLE_PARAMS and len(values) > 1:
            problems.append(
                f"line {number}: {name}: parameter {pname} has several values "
                "(a value with ',' must be quoted)"
            )
    if pos >= len(text) or text[pos] != ":":
        problems.append(f"line {number}: malformed content line {text[:40]!r} (no ':')")
        return None
    value = text[pos + 1 :]
    if any((ord(ch) < 32 and ch != "\t") or ord(ch) == 127 for ch in value):
        problems.append(f"line {number}: {name}: a control character in the value")
    return Prop(name, params, value, number)


def _tree(props_and_marks: list[Prop], problems: list[str]) -> list[Comp]:
    roots: list[Comp] = []
    stack: list[Comp] = []
    for prop in props_and_marks:
        if prop.name == "BEGIN":
            comp = Comp(prop.value.upper(), prop.line)
            (stack[-1].children if stack else roots).append(comp)
            stack.append(comp)
        elif prop.name == "END":
            if not stack or stack[-1].name != prop.value.upper():
                problems.append(f"line {prop.line}: END:{prop.value} does not match a BEGIN")
                continue
            stack.pop()
        elif not stack:
            problems.append(f"line {prop.line}: {prop.name} outside any component")
        else:
            stack[-1].props.append(prop)
    for comp in stack:
        problems.append(f"line {comp.line}: BEGIN:{comp.name} has no END")
    return roots


def parse(data: bytes, problems: list[str] | None = None) -> list[Comp]:
    """The component tree of ``data``, noting lexical problems on the way."""
    sink: list[str] = [] if problems is None else problems
    lines = _unfold(_physical_lines(data, sink), sink)
    props = [p for number, text in lines if (p := _parse_line(number, text, sink)) is not None]
    return _tree(props, sink)


# --- values ----------------------------------------------------------------------------------


def _text_problems(prop: Prop) -> list[str]:
    found: list[str] = []
    value = prop.value
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            if i + 1 >= len(value) or value[i + 1] not in "\\;,nN":
                found.append(f"line {prop.line}: {prop.name}: invalid escape in TEXT")
                break
            i += 2
            continue
        if ch == ";":
            found.append(f"line {prop.line}: {prop.name}: unescaped ';' in TEXT")
            break
        if ch == "," and prop.name in SINGLE_TEXT:
            found.append(f"line {prop.line}: {prop.name}: unescaped ',' in TEXT")
            break
        i += 1
    return found


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _local(value: str) -> datetime | date | None:
    match = _DATE_TIME.fullmatch(value)
    if not match:
        return None
    year, month, day, hour, minute, second, zulu = match.groups()
    if hour is None:
        return date(int(year), int(month), int(day))
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    return moment.replace(tzinfo=UTC) if zulu else moment


def _offset(value: str) -> timedelta | None:
    match = _OFFSET.fullmatch(value)
    if not match:
        return None
    sign, hours, minutes, seconds = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0))
    return -delta if sign == "-" else delta


@dataclass(frozen=True)
class ZoneRules:
    """A VTIMEZONE read with RFC 5545 semantics: onsets are local times in TZOFFSETFROM."""

    tzid: str
    #: (UTC instant of the change, offset from then on), sorted
    transitions: tuple[tuple[datetime, timedelta], ...]
    initial: timedelta

    def offset_at(self, instant: datetime) -> timedelta:
        current = self.initial
        for onset, offset in self.transitions:
            if onset > instant:
                break
            current = offset
        return current

    def to_utc(self, local: datetime) -> datetime | None:
        """The first occurrence of a wall-clock time; None when the zone skips it."""
        offsets = {self.initial, *(offset for _, offset in self.transitions)}
        valid = [
            local.replace(tzinfo=UTC) - offset
            for offset in offsets
            if self.offset_at(local.replace(tzinfo=UTC) - offset) == offset
        ]
        return min(valid) if valid else None


def zone_rules(vtimezone: Comp) -> ZoneRules:
    from dateutil.rrule import rrulestr

    tzid_prop = vtimezone.one("TZID")
    tzid = unescape(tzid_prop.value) if tzid_prop else ""
    transitions: list[tuple[datetime, timedelta]] = []
    first: tuple[datetime, timedelta] | None = None
    for observance in vtimezone.children:
        start_prop = observance.one("DTSTART")
        from_prop, to_prop = observance.one("TZOFFSETFROM"), observance.one("TZOFFSETTO")
        offset_from = _offset(from_prop.value) if from_prop else None
        offset_to = _offset(to_prop.value) if to_prop else None
        start = _local(start_prop.value) if start_prop else None
        if not isinstance(start, datetime) or offset_from is None or offset_to is None:
            continue
        onsets = [start]
        for rdate in observance.all("RDATE"):
            onsets.extend(d for v in rdate.value.split(",") if isinstance(d := _local(v), datetime))
        for rrule in observance.all("RRULE"):
            rule = rrulestr(rrule.value, dtstart=start)
            onsets.extend(rule.between(start, datetime(2100, 1, 1), inc=True))
        for onset in onsets:
            instant = onset.replace(tzinfo=UTC) - offset_from
            transitions.append((instant, offset_to))
            if first is None or instant < first[0]:
                first = (instant, offset_from)
    transitions.sort()
    return ZoneRules(tzid, tuple(transitions), first[1] if first else timedelta(0))


def _instant(prop: Prop, zones: dict[str, ZoneRules]) -> datetime | date | None:
    value = _local(prop.value)
    tzid = prop.params.get("TZID", [None])[0]
    if isinstance(value, datetime) and value.tzinfo is None and tzid:
        if tzid in zones:
            return zones[tzid].to_utc(value)
        try:
            return value.replace(tzinfo=ZoneInfo(tzid)).astimezone(UTC)
        except (ZoneInfoNotFoundError, ValueError):
            return None
    return value


# --- the rules -------------------------------------------------------------------------------


def ics_problems(data: bytes) -> list[str]:
    """Every rule broken by ``data``; an empty list means the file passed."""
    problems: list[str] = []
    roots = parse(data, problems)
    if len(roots) != 1 or roots[0].name != "VCALENDAR":
        problems.append(f"expected exactly one VCALENDAR, found {[r.name for r in roots]}")
        if not roots or roots[0].name != "VCALENDAR":
            return problems
    cal = roots[0]
    for prop_name in ("VERSION", "PRODID"):
        if len(cal.all(prop_name)) != 1:
            problems.append(f"VCALENDAR must have exactly one {prop_name}")
    if (version := cal.one("VERSION")) and version.value != "2.0":
        problems.append(f"VERSION is {version.value!r}, not 2.0")
    method_prop = cal.one("METHOD")
    method = method_prop.value.upper() if method_prop else None
    if method in ITIP_METHODS and (cal.all("X-WR-CALNAME") or cal.all("NAME")):
        problems.append(f"METHOD:{method} must not carry a calendar name (X-WR-CALNAME/NAME)")

    for comp in [cal, *cal.walk("VEVENT"), *cal.walk("VALARM"), *cal.walk("VTIMEZONE")]:
        for prop in comp.props:
            problems.extend(_prop_problems(prop))
    for observance in [*cal.walk("STANDARD"), *cal.walk("DAYLIGHT")]:
        for prop in observance.props:
            problems.extend(_prop_problems(prop))

    zones: dict[str, ZoneRules] = {}
    for vtimezone in cal.walk("VTIMEZONE"):
        tzid = vtimezone.one("TZID")
        if tzid is None:
            problems.append(f"line {vtimezone.line}: VTIMEZONE without exactly one TZID")
            continue
        observances = [c for c in vtimezone.children if c.name in ("STANDARD", "DAYLIGHT")]
        if not observances:
            problems.append(f"line {vtimezone.line}: VTIMEZONE {tzid.value} has no observance")
        for observance in observances:
            for required in ("DTSTART", "TZOFFSETFROM", "TZOFFSETTO"):
                if len(observance.all(required)) != 1:
                    problems.append(f"line {observance.line}: {observance.name} needs {required}")
        zones[tzid.value] = zone_rules(vtimezone)

    used_tzids = {
        (prop.params["TZID"][0], prop.line)
        for comp in cal.walk("VEVENT")
        for prop in comp.props
        if "TZID" in prop.params
    }
    for used, line in sorted(used_tzids, key=lambda item: item[1]):
        if used not in zones:
            problems.append(f"line {line}: TZID={used} has no VTIMEZONE")

    uids: dict[str, int] = {}
    for vevent in cal.walk("VEVENT"):
        problems.extend(_vevent_problems(vevent, method, zones))
        uid = vevent.one("UID")
        if uid is not None and not vevent.all("RECURRENCE-ID"):
            if uid.value in uids:
                problems.append(
                    f"line {uid.line}: UID {uid.value} is not unique (also line {uids[uid.value]})"
                )
            uids[uid.value] = uid.line
    for valarm in cal.walk("VALARM"):
        for required in ("ACTION", "TRIGGER"):
            if len(valarm.all(required)) != 1:
                problems.append(f"line {valarm.line}: VALARM needs exactly one {required}")
        action = valarm.one("ACTION")
        if action and action.value.upper() == "DISPLAY" and not valarm.one("DESCRIPTION"):
            problems.append(f"line {valarm.line}: a DISPLAY VALARM needs a DESCRIPTION")
    problems.extend(vtimezone_problems(data))
    return problems


def _prop_problems(prop: Prop) -> list[str]:
    if prop.name in SINGLE_TEXT or prop.name in LIST_TEXT:
        return _text_problems(prop)
    if prop.name in ("ATTENDEE", "ORGANIZER") and not _CAL_ADDRESS.fullmatch(prop.value):
        return [
            f"line {prop.line}: {prop.name} value {prop.value!r} is not a mailto: address "
            "(an unquoted ':' in a parameter?)"
        ]
    return []


def _vevent_problems(vevent: Comp, method: str | None, zones: dict[str, ZoneRules]) -> list[str]:
    found: list[str] = []
    at = f"line {vevent.line}: VEVENT"
    if len(vevent.all("UID")) != 1:
        found.append(f"{at} needs exactly one UID")
    stamps = vevent.all("DTSTAMP")
    if len(stamps) != 1:
        found.append(f"{at} needs exactly one DTSTAMP")
    elif not _UTC_STAMP.fullmatch(stamps[0].value) or stamps[0].params:
        found.append(f"{at} DTSTAMP {stamps[0].value!r} is not a UTC date-time")
    if len(vevent.all("DTSTART")) != 1:
        found.append(f"{at} needs exactly one DTSTART")
    if vevent.all("DTEND") and vevent.all("DURATION"):
        found.append(f"{at} has both DTEND and DURATION")
    sequence = vevent.one("SEQUENCE")
    if sequence is not None and not sequence.value.isdigit():
        found.append(f"{at} SEQUENCE {sequence.value!r} is not a non-negative integer")
    status = vevent.one("STATUS")
    if status is not None and status.value.upper() not in VEVENT_STATUSES:
        found.append(f"{at} STATUS {status.value!r} is not valid for a VEVENT")

    start_prop, end_prop = vevent.one("DTSTART"), vevent.one("DTEND")
    start = _instant(start_prop, zones) if start_prop else None
    if start_prop and start is None:
        found.append(f"{at} DTSTART {start_prop.value} does not exist (unknown zone or DST gap)")
    if end_prop:
        end = _instant(end_prop, zones)
        if end is None:
            found.append(f"{at} DTEND {end_prop.value} does not exist (unknown zone or DST gap)")
        elif start is not None:
            if isinstance(start, datetime) != isinstance(end, datetime):
                found.append(f"{at} DTSTART and DTEND have different value types")
            elif end <= start:
                found.append(f"{at} DTEND is not after DTSTART")

    if method in ("REQUEST", "CANCEL"):
        if len(vevent.all("ORGANIZER")) != 1:
            found.append(f"{at} METHOD:{method} needs exactly one ORGANIZER")
        if not vevent.all("ATTENDEE"):
            found.append(f"{at} METHOD:{method} needs at least one ATTENDEE")
    if method == "PUBLISH" and vevent.all("ATTENDEE"):
        found.append(f"{at} METHOD:PUBLISH must not list attendees")
    if method == "CANCEL":
        if sequence is None:
            found.append(f"{at} METHOD:CANCEL needs a SEQUENCE")
        if status is None or status.value.upper() != "CANCELLED":
            found.append(f"{at} METHOD:CANCEL needs STATUS:CANCELLED")
        if any(child.name == "VALARM" for child in vevent.children):
            found.append(f"{at} METHOD:CANCEL must not carry a VALARM")
    return found


def vtimezone_problems(data: bytes) -> list[str]:
    """Offsets of every VTIMEZONE named after an IANA zone agree with zoneinfo.

    Checked for every UTC instant in the years the file's events use (every 30 minutes and
    one second either side of each change), so a DST change in the span must be right.
    """
    roots = parse(data)
    if not roots:
        return []
    cal = roots[0]
    years: dict[str, set[int]] = {}
    for vevent in cal.walk("VEVENT"):
        for prop in vevent.props:
            tzid = prop.params.get("TZID", [None])[0]
            value = _local(prop.value)
            if tzid and isinstance(value, datetime):
                years.setdefault(tzid, set()).add(value.year)
    problems: list[str] = []
    for vtimezone in cal.walk("VTIMEZONE"):
        tzid_prop = vtimezone.one("TZID")
        if tzid_prop is None or tzid_prop.value not in years:
            continue
        span = years[tzid_prop.value]
        block = tuple((p.name, p.value) for c in vtimezone.children for p in c.props)
        key = (
            tzid_prop.value,
            min(span),
            max(span),
            block,
            tuple(c.name for c in vtimezone.children),
        )
        problems.extend(_offset_disagreements(key, zone_rules(vtimezone)))
    return problems


@lru_cache(maxsize=64)
def _offset_disagreements(key: tuple[object, ...], rules: ZoneRules) -> tuple[str, ...]:
    tzid, first_year, last_year = key[0], key[1], key[2]
    try:
        zone = ZoneInfo(str(tzid))
    except (ZoneInfoNotFoundError, ValueError):
        return ()
    found: list[str] = []
    moment = datetime(int(first_year), 1, 1, tzinfo=UTC) - timedelta(days=1)  # type: ignore[call-overload]
    stop = datetime(int(last_year) + 1, 1, 1, tzinfo=UTC)  # type: ignore[call-overload]
    step = timedelta(minutes=30)
    previous = _zone_offset(zone, moment)
    while moment < stop and len(found) < 3:
        probes = [moment]
        current = _zone_offset(zone, moment)
        if current != previous:
            change = _bisect_change(zone, moment - step, moment)
            probes = [change - timedelta(seconds=1), change, moment]
        previous = current
        for probe in probes:
            expected = _zone_offset(zone, probe)
            actual = rules.offset_at(probe)
            if expected != actual:
                found.append(
                    f"VTIMEZONE {tzid}: at {probe:%Y-%m-%d %H:%M:%S}Z the offset is {actual}, "
                    f"zoneinfo says {expected}"
                )
                break
        moment += step
    return tuple(found)


def _zone_offset(zone: ZoneInfo, instant: datetime) -> timedelta | None:
    # ZoneInfo.utcoffset() reads its argument as a wall time: convert the instant first.
    return instant.astimezone(zone).utcoffset()


def _bisect_change(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    before = _zone_offset(zone, low)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if _zone_offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


# --- updates ---------------------------------------------------------------------------------


def _by_uid(data: bytes) -> dict[str, Comp]:
    roots = parse(data)
    return {
        v.one("UID").value: v  # type: ignore[union-attr]
        for root in roots
        for v in root.walk("VEVENT")
        if v.one("UID") is not None
    }


#: Properties whose change must raise SEQUENCE (RFC 5546 §2.1.4, plus the place).
SIGNIFICANT = ("DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "STATUS", "LOCATION")


def update_problems(before: bytes, after: bytes) -> list[str]:
    """An update keeps the UIDs, never lowers SEQUENCE, raises it for a significant change,
    and carries a later DTSTAMP."""
    old, new = _by_uid(before), _by_uid(after)
    problems: list[str] = []
    if set(old) != set(new):
        problems.append(f"UIDs changed: {sorted(old)} -> {sorted(new)}")
    for uid in sorted(set(old) & set(new)):
        a, b = old[uid], new[uid]
        seq_a = int(a.one("SEQUENCE").value) if a.one("SEQUENCE") else 0  # type: ignore[union-attr]
        seq_b = int(b.one("SEQUENCE").value) if b.one("SEQUENCE") else 0  # type: ignore[union-attr]
        significant = any(
            [(p.value, p.params) for p in a.all(name)] != [(p.value, p.params) for p in b.all(name)]
            for name in SIGNIFICANT
        )
        if seq_b < seq_a:
            problems.append(f"{uid}: SEQUENCE went down ({seq_a} -> {seq_b})")
        elif significant and seq_b == seq_a:
            problems.append(
                f"{uid}: time/recurrence/status/location changed, SEQUENCE stayed {seq_a}"
            )
        stamp_a, stamp_b = a.one("DTSTAMP"), b.one("DTSTAMP")
        if stamp_a and stamp_b and not stamp_b.value > stamp_a.value:
            problems.append(f"{uid}: DTSTAMP {stamp_b.value} is not later than {stamp_a.value}")
    return problems


# --- two independent parsers -----------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """What a parser reports for one VEVENT."""

    summary: str
    location: str
    description: str
    #: a date for an all-day event (VALUE=DATE)
    start: datetime | date
    end: datetime | date


def _utc(value: object) -> datetime | date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # VALUE=DATE: a floating day by definition
    assert isinstance(value, datetime), value
    assert value.tzinfo is not None, f"{value} is floating"
    return value.astimezone(UTC)


def seen_by_icalendar(data: bytes) -> dict[str, Seen]:
    import icalendar

    calendar = icalendar.Calendar.from_ical(data)
    return {
        str(v["UID"]): Seen(
            str(v.get("SUMMARY", "")),
            str(v.get("LOCATION", "")),
            str(v.get("DESCRIPTION", "")),
            _utc(v.DTSTART),
            _utc(v.DTEND),
        )
        for v in calendar.events
    }


def seen_by_vobject(data: bytes) -> dict[str, Seen]:
    """vobject builds the zone from the file's VTIMEZONE (dateutil), not from zoneinfo."""
    import vobject

    calendar = vobject.readOne(data.decode("utf-8"))
    seen: dict[str, Seen] = {}
    for v in calendar.vevent_list:
        contents = v.contents
        seen[v.uid.value] = Seen(
            contents["summary"][0].value if "summary" in contents else "",
            contents["location"][0].value if "location" in contents else "",
            contents["description"][0].value if "description" in contents else "",
            _utc(v.dtstart.value),
            _utc(v.dtend.value),
        )
    return seen


def seen_by_ical(data: bytes) -> dict[str, Seen]:
    from ical.calendar_stream import IcsCalendarStream

    calendar = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    return {
        str(e.uid): Seen(
            e.summary or "",
            e.location or "",
            e.description or "",
            _utc(e.dtstart),
            _utc(e.dtend),
        )
        for e in calendar.events
    }


def parser_disagreements(data: bytes) -> list[str]:
    """Where icalendar, vobject and ical read different text or instants from ``data``."""
    readings = {
        "icalendar": seen_by_icalendar(data),
        "vobject": seen_by_vobject(data),
        "ical": seen_by_ical(data),
    }
    reference = readings["icalendar"]
    problems: list[str] = []
    for parser, seen in readings.items():
        if seen != reference:
            for uid in sorted(set(seen) | set(reference)):
                if seen.get(uid) != reference.get(uid):
                    problems.append(
                        f"{uid}: {parser} reads {seen.get(uid)}, icalendar reads "
                        f"{reference.get(uid)}"
                    )
    return problems
