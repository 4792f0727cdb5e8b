"""Post-event report: the figures of an event (pure) and their rendering to HTML, Markdown, CSV.

Plain dataclasses come in (what the database knows about the event), a ``ReportData`` comes
out of ``compute_report``; ``render_report`` turns it into the texts of the report in one
language. Nothing here reads the clock: ``now`` (for waiting times) and ``generated_dt`` (the
only varying bit of the output) are passed in, so the same inputs give the same bytes.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from jinja2 import Environment
from markupsafe import Markup

from flows.domain import charts, i18n
from flows.domain.spreadsheet import safe_writer

#: RSVP states of an invitation (iCalendar PARTSTAT, as stored); "needs-action" = no answer yet,
#: "delegated" = the contact passed the invitation on, which counts as an answer.
RSVP_STATES = ("needs-action", "accepted", "declined", "tentative", "delegated")
NO_ANSWER = "needs-action"
#: languages the report is offered in: each has a complete catalog in templates/locale
LANGUAGES = ("en", "zh", "ja")
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "reports"

#: Above this many invited contacts the PDF lists partner cities instead of every contact,
#: and lists (delegations, partners to chase, data quality...) stop after PRINT_LIST_ROWS rows:
#: paper is for reading, and WeasyPrint's cost grows with every table row (a 700-row PDF
#: took ~30 s on the loaded 2-core machine). The HTML and the CSV always have every row.
PDF_CONTACT_ROWS = 100
PRINT_LIST_ROWS = 40

#: Upper bounds (hours) of the response-time buckets; the last bucket is open-ended.
RESPONSE_BUCKETS_H = (24, 72, 168, 336)


@dataclass(frozen=True)
class PlaceNames:
    """What the registry knows of a city's name: English, native, and per language."""

    english: str
    native: str | None = None
    #: {lang: name} from the registry (``City.names``); CLDR has no city names
    names: Mapping[str, str] = field(default_factory=dict)

    def in_language(self, lang: str) -> str:
        return i18n.place_name(self.names, lang, native=self.native, english=self.english)


class ReportError(ValueError):
    """The input facts contradict each other, or the computed figures do not add up."""


# --- inputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFacts:
    slug: str
    title: str
    kind: str
    series: str | None
    edition: int | None
    host_city: str
    venue: str | None
    timezone: str  #: IANA zone of the event; dates are shown in it
    start_dt: datetime  #: UTC-aware
    end_dt: datetime | None  #: UTC-aware
    #: the host city's names per language; None = only ``host_city`` is known
    host_city_names: PlaceNames | None = None


@dataclass(frozen=True)
class InvitationFact:
    contact_id: int
    name: str
    email: str | None
    city: str
    country: str  #: ISO 3166-1 alpha-2
    language: str | None  #: BCP 47, None when the contact has none recorded
    rsvp: str  #: one of RSVP_STATES
    sent_dt: datetime | None  #: when the invitation went out (UTC-aware), None if never sent
    rsvp_dt: datetime | None  #: when the answer arrived (UTC-aware)
    sequence: int = 0
    #: precision of the tie with the contact's city (day|month|year|unknown); None = no tie
    tie_precision: str | None = None
    #: the invitation bounced and the contact's address is still the one that failed
    is_bounced: bool = False


@dataclass(frozen=True)
class AttendanceFact:
    contact_id: int
    attended: bool
    delegation_size: int  #: people who came with (and including) the contact
    notes: str = ""
    is_simulated: bool = False  #: made up by the demo; the report says so


@dataclass(frozen=True)
class WalkIn:
    name: str
    city: str | None
    country: str | None
    delegation_size: int = 1
    notes: str = ""
    is_simulated: bool = False


@dataclass(frozen=True)
class SessionFact:
    title: str
    start_dt: datetime
    end_dt: datetime | None
    room: str | None = None


@dataclass(frozen=True)
class Agreement:
    title: str
    partner: str  #: partner city
    kind: str = "agreement"  #: agreement | memorandum
    signed_date: date | None = None


@dataclass(frozen=True)
class FollowUp:
    action: str
    owner: str
    due_date: date | None
    partner: str | None = None


@dataclass(frozen=True)
class EditionFigures:
    edition: int | None
    start_date: date | None
    invited: int
    accepted: int
    attended: int
    partners_present: int
    is_current: bool = False


@dataclass(frozen=True)
class ReportInput:
    event: EventFacts
    invitations: Sequence[InvitationFact]
    attendance: Sequence[AttendanceFact] = ()
    walk_ins: Sequence[WalkIn] = ()
    sessions: Sequence[SessionFact] = ()
    agreements: Sequence[Agreement] = ()
    follow_ups: Sequence[FollowUp] = ()
    earlier_editions: Sequence[EditionFigures] = ()
    #: (ISO country, English city name) -> the city's names, for partner cities and walk-ins'
    #: cities; a city missing here is shown by its English name
    city_names: Mapping[tuple[str, str], PlaceNames] = field(default_factory=dict)


# --- outputs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    """invited → answered → accepted → attended for a group of invitations.

    ``attended`` counts invited contacts who came, whatever they answered;
    ``attended_unannounced`` is the part of them who had not accepted.
    """

    label: str
    country: str | None
    invited: int
    accepted: int
    declined: int
    tentative: int
    delegated: int
    no_answer: int
    attended: int
    attended_unannounced: int
    people: int  #: attendees including their delegations

    def __post_init__(self) -> None:
        states = (self.accepted, self.declined, self.tentative, self.delegated, self.no_answer)
        if self.invited != sum(states) or min(states) < 0:
            raise ReportError(
                f"funnel {self.label!r}: {self.invited} invited but "
                f"{'+'.join(map(str, states))} in the RSVP states"
            )
        if not 0 <= self.attended_unannounced <= self.attended <= self.invited:
            raise ReportError(f"funnel {self.label!r}: {self.attended} attended of {self.invited}")
        if self.attended - self.attended_unannounced > self.accepted:
            raise ReportError(f"funnel {self.label!r}: more accepted attendees than acceptances")
        if self.people < self.attended:
            raise ReportError(f"funnel {self.label!r}: {self.people} people < {self.attended}")

    @property
    def answered(self) -> int:
        return self.invited - self.no_answer


@dataclass(frozen=True)
class Delegation:
    name: str
    city: str | None
    country: str | None
    size: int
    is_walk_in: bool


@dataclass(frozen=True)
class ResponseTimes:
    count: int
    median_h: float | None
    p90_h: float | None
    fastest_h: float | None
    slowest_h: float | None
    buckets: tuple[int, ...]  #: counts per RESPONSE_BUCKETS_H bucket, plus the open one


@dataclass(frozen=True)
class ChaseItem:
    contact_id: int
    name: str
    email: str | None
    city: str
    country: str
    sent_dt: datetime | None
    days_waiting: int | None


@dataclass(frozen=True)
class QualityItem:
    code: str  #: a key of the "quality" labels (templates/reports/labels.j2)
    subject: str  #: who it concerns (a contact's name), "" when it is a city
    detail: str = ""
    city: str | None = None  #: English city name, shown in the report's language
    country: str | None = None


@dataclass(frozen=True)
class ContactRow:
    contact_id: int
    name: str
    email: str | None
    city: str
    country: str
    language: str | None
    rsvp: str
    sent_dt: datetime | None
    rsvp_dt: datetime | None
    response_h: float | None
    sequence: int
    attended: bool | None  #: None = no attendance record
    delegation_size: int | None
    notes: str
    is_simulated: bool = False


@dataclass(frozen=True)
class ReportData:
    event: EventFacts
    funnel: Funnel
    by_city: tuple[Funnel, ...]
    by_country: tuple[Funnel, ...]
    delegations: tuple[Delegation, ...]
    response: ResponseTimes
    to_chase: tuple[ChaseItem, ...]
    no_shows: tuple[ContactRow, ...]
    walk_ins: tuple[WalkIn, ...]
    sessions: tuple[SessionFact, ...]
    agreements: tuple[Agreement, ...]
    follow_ups: tuple[FollowUp, ...]
    editions: tuple[EditionFigures, ...]
    quality: tuple[QualityItem, ...]
    contacts: tuple[ContactRow, ...]
    partners_present: int
    countries_present: int
    #: attendance rows made up by the demo: every output carries a warning when > 0
    simulated: int = 0
    #: invitations that never arrived: their address bounced (read from the mailbox)
    bounced: int = 0
    city_names: Mapping[tuple[str, str], PlaceNames] = field(default_factory=dict)

    @property
    def delegation_people(self) -> int:
        return sum(d.size for d in self.delegations)

    @property
    def walk_in_people(self) -> int:
        return sum(w.delegation_size for w in self.walk_ins)


# --- computing ---------------------------------------------------------------------------


def compute_report(data: ReportInput, *, now: datetime) -> ReportData:
    """Compute every figure of the report; raise ``ReportError`` when they do not add up."""
    _check_input(data)
    att = {a.contact_id: a for a in data.attendance}
    rows = tuple(
        sorted(
            (_contact_row(inv, att.get(inv.contact_id)) for inv in data.invitations), key=_row_key
        )
    )
    funnel = _funnel("", None, rows)
    by_city = _grouped(rows, lambda r: (r.country, r.city))
    by_country = _grouped(rows, lambda r: (r.country, ""))
    delegations = _delegations(rows, data.walk_ins)
    present = {(r.country, r.city) for r in rows if r.attended}
    current = EditionFigures(
        edition=data.event.edition,
        start_date=data.event.start_dt.astimezone(ZoneInfo(data.event.timezone)).date(),
        invited=funnel.invited,
        accepted=funnel.accepted,
        attended=funnel.attended,
        partners_present=len(present),
        is_current=True,
    )
    report = ReportData(
        event=data.event,
        funnel=funnel,
        by_city=by_city,
        by_country=by_country,
        delegations=delegations,
        response=_response_times(rows),
        to_chase=tuple(_chase(r, now) for r in rows if r.rsvp == NO_ANSWER),
        no_shows=tuple(r for r in rows if r.rsvp == "accepted" and r.attended is False),
        walk_ins=tuple(sorted(data.walk_ins, key=_walk_in_key)),
        sessions=tuple(sorted(data.sessions, key=lambda s: (s.start_dt, s.title))),
        agreements=tuple(sorted(data.agreements, key=lambda a: (a.partner, a.title))),
        follow_ups=tuple(
            sorted(data.follow_ups, key=lambda f: (f.due_date or date.max, f.owner, f.action))
        ),
        editions=tuple(sorted((*data.earlier_editions, current), key=_edition_key)),
        quality=_quality(data, rows),
        contacts=rows,
        partners_present=len(present),
        countries_present=len({c for c, _ in present}),
        simulated=sum(a.is_simulated for a in data.attendance)
        + sum(w.is_simulated for w in data.walk_ins),
        bounced=sum(inv.is_bounced for inv in data.invitations),
        city_names=dict(data.city_names),
    )
    check_report(report)
    return report


def check_report(report: ReportData) -> None:
    """Raise ``ReportError`` unless the parts of the report agree with its totals."""
    total = report.funnel
    for name, groups in (("city", report.by_city), ("country", report.by_country)):
        for attr in (
            "invited",
            "accepted",
            "declined",
            "tentative",
            "delegated",
            "no_answer",
            "attended",
        ):
            parts = sum(getattr(g, attr) for g in groups)
            if parts != getattr(total, attr):
                raise ReportError(
                    f"per-{name} {attr} add up to {parts}, total is {getattr(total, attr)}"
                )
    invited_delegations = [d for d in report.delegations if not d.is_walk_in]
    if len(invited_delegations) != total.attended:
        raise ReportError(f"{len(invited_delegations)} delegations for {total.attended} attendees")
    if sum(d.size for d in invited_delegations) != total.people:
        raise ReportError("delegation sizes do not add up to the people who attended")
    if len(report.to_chase) != total.no_answer:
        raise ReportError(f"{len(report.to_chase)} to chase but {total.no_answer} without answer")
    if len(report.contacts) != total.invited:
        raise ReportError(f"{len(report.contacts)} contact rows for {total.invited} invitations")
    if report.response.count > total.answered:
        raise ReportError("more response times than answers")


def _check_input(data: ReportInput) -> None:
    seen: set[int] = set()
    for inv in data.invitations:
        if inv.rsvp not in RSVP_STATES:
            raise ReportError(f"contact {inv.contact_id}: unknown RSVP state {inv.rsvp!r}")
        if inv.contact_id in seen:
            raise ReportError(f"contact {inv.contact_id} is invited twice")
        seen.add(inv.contact_id)
    attended: set[int] = set()
    for a in data.attendance:
        if a.contact_id not in seen:
            raise ReportError(f"attendance for contact {a.contact_id}, who was not invited")
        if a.contact_id in attended:
            raise ReportError(f"two attendance records for contact {a.contact_id}")
        if a.delegation_size < (1 if a.attended else 0):
            raise ReportError(f"contact {a.contact_id}: delegation size {a.delegation_size}")
        attended.add(a.contact_id)
    for w in data.walk_ins:
        if w.delegation_size < 1:
            raise ReportError(f"walk-in {w.name!r}: delegation size {w.delegation_size}")


def _contact_row(inv: InvitationFact, att: AttendanceFact | None) -> ContactRow:
    response_h = None
    if inv.rsvp != NO_ANSWER and inv.sent_dt is not None and inv.rsvp_dt is not None:
        response_h = round((inv.rsvp_dt - inv.sent_dt) / timedelta(hours=1), 2)
    return ContactRow(
        contact_id=inv.contact_id,
        name=inv.name,
        email=inv.email,
        city=inv.city,
        country=inv.country,
        language=inv.language,
        rsvp=inv.rsvp,
        sent_dt=inv.sent_dt,
        rsvp_dt=inv.rsvp_dt,
        response_h=response_h,
        sequence=inv.sequence,
        attended=None if att is None else att.attended,
        delegation_size=None if att is None else (att.delegation_size if att.attended else 0),
        notes="" if att is None else att.notes,
        is_simulated=att is not None and att.is_simulated,
    )


def _row_key(r: ContactRow) -> tuple[str, str, str, int]:
    return (r.country, r.city, r.name, r.contact_id)


def _funnel(label: str, country: str | None, rows: Iterable[ContactRow]) -> Funnel:
    states: Counter[str] = Counter()
    attended = unannounced = people = 0
    for r in rows:
        states[r.rsvp] += 1
        if r.attended:
            attended += 1
            people += r.delegation_size or 0
            if r.rsvp != "accepted":
                unannounced += 1
    return Funnel(
        label=label,
        country=country,
        invited=states.total(),
        accepted=states["accepted"],
        declined=states["declined"],
        tentative=states["tentative"],
        delegated=states["delegated"],
        no_answer=states[NO_ANSWER],
        attended=attended,
        attended_unannounced=unannounced,
        people=people,
    )


def _grouped(
    rows: Sequence[ContactRow], key: Callable[[ContactRow], tuple[str, str]]
) -> tuple[Funnel, ...]:
    groups: dict[tuple[str, str], list[ContactRow]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    funnels = [_funnel(city or country, country, g) for (country, city), g in groups.items()]
    # Most attended first, then most invited, then by name: the order a reader scans in.
    return tuple(sorted(funnels, key=lambda f: (-f.attended, -f.invited, f.country or "", f.label)))


def _walk_in_key(w: WalkIn) -> tuple[bool, str, bool, str, str]:
    # Walk-ins without a country or city go last: they are the ones needing a second look.
    return (w.country is None, w.country or "", w.city is None, w.city or "", w.name)


def _delegations(rows: Sequence[ContactRow], walk_ins: Sequence[WalkIn]) -> tuple[Delegation, ...]:
    out = [
        Delegation(r.name, r.city, r.country, r.delegation_size or 0, False)
        for r in rows
        if r.attended
    ]
    out += [Delegation(w.name, w.city, w.country, w.delegation_size, True) for w in walk_ins]
    return tuple(sorted(out, key=lambda d: (-d.size, d.country or "", d.city or "", d.name)))


def _response_times(rows: Sequence[ContactRow]) -> ResponseTimes:
    hours = sorted(r.response_h for r in rows if r.response_h is not None and r.response_h >= 0)
    buckets = [0] * (len(RESPONSE_BUCKETS_H) + 1)
    for h in hours:
        buckets[next((i for i, b in enumerate(RESPONSE_BUCKETS_H) if h <= b), -1)] += 1
    if not hours:
        return ResponseTimes(0, None, None, None, None, tuple(buckets))
    p90 = hours[min(len(hours) - 1, max(0, -(-len(hours) * 9 // 10) - 1))]  # nearest rank
    return ResponseTimes(
        count=len(hours),
        median_h=round(statistics.median(hours), 2),
        p90_h=p90,
        fastest_h=hours[0],
        slowest_h=hours[-1],
        buckets=tuple(buckets),
    )


def _chase(r: ContactRow, now: datetime) -> ChaseItem:
    days = None if r.sent_dt is None else max(0, (now - r.sent_dt).days)
    return ChaseItem(r.contact_id, r.name, r.email, r.city, r.country, r.sent_dt, days)


def _edition_key(e: EditionFigures) -> tuple[int, date, bool]:
    return (e.edition if e.edition is not None else 0, e.start_date or date.min, e.is_current)


def _quality(data: ReportInput, rows: Sequence[ContactRow]) -> tuple[QualityItem, ...]:
    items: list[QualityItem] = []
    unknown_ties = sorted(
        {(i.country, i.city) for i in data.invitations if i.tie_precision == "unknown"}
    )
    items += [
        QualityItem("tie_date_unknown", "", city=city, country=country)
        for country, city in unknown_ties
    ]
    for r in rows:

        def about(code: str, detail: str = "", r: ContactRow = r) -> QualityItem:
            return QualityItem(code, r.name, detail, city=r.city, country=r.country)

        if not r.language:
            items.append(about("contact_no_language"))
        if not r.email:
            items.append(about("contact_no_email"))
        if r.sent_dt is None:
            items.append(about("invitation_not_sent"))
        if r.rsvp != NO_ANSWER and r.rsvp_dt is None:
            items.append(about("answer_without_time", r.rsvp))
        if r.response_h is not None and r.response_h < 0:
            items.append(about("answer_before_sending"))
        if r.attended and r.rsvp != "accepted":
            items.append(about("attended_without_accepting", r.rsvp))
        if r.rsvp == "accepted" and r.attended is None:
            items.append(about("accepted_no_attendance"))
    items += [QualityItem("walk_in_without_city", w.name) for w in data.walk_ins if not w.city]
    return tuple(
        sorted(items, key=lambda q: (q.code, q.country or "", q.city or "", q.subject, q.detail))
    )


# --- rendering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedReport:
    html: str  #: self-contained, for the screen
    print_html: str  #: the PDF's source: a cover page, long tables summarised
    markdown: str
    csv: str


Day = date  # inside Formatter, ``date`` is the method


class Formatter:
    """Values shown in one language: numbers, dates, countries, city names (via ``i18n``)."""

    def __init__(
        self,
        lang: str,
        timezone: str,
        city_names: Mapping[tuple[str, str], PlaceNames] | None = None,
    ) -> None:
        self.lang = lang
        self.locale = i18n.locale_for(lang)
        self.tz = ZoneInfo(timezone)
        self.city_names = dict(city_names or {})
        # agreements and follow-ups name their partner by its English name only
        self._by_english = {key[1]: names for key, names in self.city_names.items()}

    def number(self, n: float, digits: int = 0) -> str:
        return i18n.format_number(n, self.lang, digits)

    def percent(self, part: int, whole: int) -> str:
        return i18n.format_percent(part, whole, self.lang)

    def days(self, hours: float | None) -> str:
        return "–" if hours is None else self.number(hours / 24, 1)

    def date(self, d: date | datetime | None) -> str:
        return i18n.format_date(d, self.lang, tz=self.tz)

    def year(self, d: Day) -> str:
        return format_date(d, format="y", locale=self.locale)

    def date_range(self, start: datetime, end: datetime) -> str:
        return i18n.format_date_range(start, end, self.lang, tz=self.tz)

    def timestamp(self, dt: datetime | None) -> str:
        return "–" if dt is None else i18n.format_datetime(dt, self.lang, tz=self.tz)

    def time(self, dt: datetime) -> str:
        return i18n.format_time(dt, self.lang, tz=self.tz)

    def country(self, code: str | None) -> str:
        if not code:
            return "–"
        return str(self.locale.territories.get(code.upper(), code))

    def city(self, country: str | None, name: str | None) -> str:
        """The city's name in the report's language (the registry's, else a fallback)."""
        if not name:
            return "–"
        names = self.city_names.get((country or "", name)) if country else None
        names = names or self._by_english.get(name)
        return names.in_language(self.lang) if names else name

    def note(self, text: str) -> str:
        """`` (text)`` after a value, bracketed the language's way (full-width in Chinese)."""
        return i18n.pgettext(
            "a note in brackets after a value", " (%(note)s)", self.lang, note=text
        )

    def items(self, *parts: str) -> str:
        """Short items in a row: "agreement, Seoul, 28 September 2024"."""
        return i18n.pgettext("between short items in a row", ", ", self.lang).join(parts)

    def quality_subject(self, q: QualityItem) -> str:
        if not q.city:
            return q.subject
        city = self.city(q.country, q.city)
        if q.subject:
            return q.subject + self.note(city)
        return city + self.note(self.country(q.country))


#: Font stacks per language: the language's own CJK face first, so that shared Han characters
#: take the glyph shapes its readers expect (Japanese vs Chinese forms).
FONTS = {
    "zh": "'Noto Sans CJK SC', 'Noto Sans SC', 'Noto Sans', 'DejaVu Sans', sans-serif",
    "ja": "'Noto Sans CJK JP', 'Noto Sans JP', 'Noto Sans', 'DejaVu Sans', sans-serif",
    "ko": "'Noto Sans CJK KR', 'Noto Sans KR', 'Noto Sans', 'DejaVu Sans', sans-serif",
}
DEFAULT_FONT = "'Noto Sans', 'DejaVu Sans', 'Noto Sans CJK SC', sans-serif"


def _environment(templates_dir: Path) -> Environment:
    env = i18n.make_environment(templates_dir)
    env.filters["md"] = _md_cell
    env.filters["css_string"] = _css_string
    return env


def _css_string(value: object) -> Markup:
    """Quote ``value`` as a CSS string inside a <style> element (HTML escaping does not apply)."""
    escaped = "".join(
        f"\\{ord(ch):x} " if ch in "\\\"'<>&" or ord(ch) < 0x20 else ch for ch in str(value)
    )
    return Markup(f'"{escaped}"')  # noqa: S704 -- every character that could end the string is escaped


def _md_cell(value: object) -> str:
    """Make a value safe inside a Markdown table cell."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_report(
    report: ReportData,
    *,
    lang: str,
    generated_dt: datetime,
    templates_dir: Path = TEMPLATES_DIR,
) -> RenderedReport:
    """Render the report in ``lang``; ``generated_dt`` is the only value that varies per run."""
    if lang not in LANGUAGES:
        raise ReportError(f"unsupported report language {lang!r}; use one of {LANGUAGES}")
    env = _environment(templates_dir)
    fmt = Formatter(lang, report.event.timezone, report.city_names)
    context = _context(report, fmt, generated_dt)
    html = env.get_template("report.html.j2").render(**context, for_print=False)
    print_html = env.get_template("report.html.j2").render(**context, for_print=True)
    markdown = env.get_template("report.md.j2").render(**context)
    return RenderedReport(
        html=html, print_html=print_html, markdown=markdown, csv=contacts_csv(report)
    )


def render_pdf(rendered: RenderedReport) -> bytes:
    """The PDF of the report (A4, cover, page numbers come from the print stylesheet)."""
    from flows.domain.pdf import html_to_pdf  # WeasyPrint is slow to import; only PDF needs it

    return html_to_pdf(rendered.print_html)


CSV_COLUMNS = (
    "contact_id",
    "name",
    "email",
    "city",
    "country",
    "language",
    "rsvp",
    "invited_at",
    "answered_at",
    "response_days",
    "sequence",
    "attended",
    "delegation_size",
    "notes",
    "kind",
    "simulated",
)


def contacts_csv(report: ReportData) -> str:
    """Every invited contact and walk-in, one row each; machine-readable values (ISO dates, UTC)."""
    out = io.StringIO()
    w = safe_writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for r in report.contacts:
        w.writerow(
            (
                r.contact_id,
                r.name,
                r.email or "",
                r.city,
                r.country,
                r.language or "",
                r.rsvp,
                _iso(r.sent_dt),
                _iso(r.rsvp_dt),
                "" if r.response_h is None else f"{r.response_h / 24:.2f}",
                r.sequence,
                {None: "", True: "yes", False: "no"}[r.attended],
                "" if r.delegation_size is None else r.delegation_size,
                r.notes,
                "invited",
                "yes" if r.is_simulated else "",
            )
        )
    for wi in report.walk_ins:
        w.writerow(
            ("", wi.name, "", wi.city or "", wi.country or "", "", "", "", "", "", "", "yes",
             wi.delegation_size, wi.notes, "walk-in", "yes" if wi.is_simulated else "")
        )  # fmt: skip
    return out.getvalue()


def _iso(dt: datetime | None) -> str:
    return "" if dt is None else dt.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def _context(report: ReportData, fmt: Formatter, generated_dt: datetime) -> dict[str, Any]:
    lang = fmt.lang

    def _(message: str, **variables: Any) -> str:
        return i18n.gettext(message, lang, **variables)

    f = report.funnel
    ev = report.event
    stages = [
        (_("Invited"), f.invited),
        (_("Answered"), f.answered),
        (_("Accepted"), f.accepted),
        (_("Attended"), f.attended),
    ]
    trend_labels = [_edition_label(e, fmt) for e in report.editions]
    font = FONTS.get(lang, DEFAULT_FONT)
    svg = {
        "funnel": charts.funnel_chart(
            stages, title=_("Invited → answered → accepted → attended"), number=fmt.number,
            percent_of=fmt.percent, font_family=font,
        ),
        "countries": charts.bar_chart(
            _people_by_country(report, fmt),
            title=_("People present by country, with their delegations"), number=fmt.number,
            font_family=font, others=_("Other countries"),
            last=_people_without_country(report, _("Country not recorded")),
        ),
        "trend": charts.trend_chart(
            trend_labels,
            [
                (_("Invited"), [e.invited for e in report.editions]),
                (_("Accepted"), [e.accepted for e in report.editions]),
                (_("Attended"), [e.attended for e in report.editions]),
            ],
            title=_("Editions of the series"), number=fmt.number, font_family=font,
        ),
    }  # fmt: skip
    sizes = [d.size for d in report.delegations]
    host = ev.host_city_names.in_language(lang) if ev.host_city_names is not None else ev.host_city
    return {
        "r": report,
        "fmt": fmt,
        "lang": lang,
        "lang_tag": {"zh": "zh-Hans"}.get(lang, lang),
        "font": font,
        "title": ev.title,
        "host": host,
        "dates": _date_range(ev, fmt),
        "svg": svg,
        "edition_labels": trend_labels,
        "generated": fmt.timestamp(generated_dt),
        "delegation_stats": {
            "count": len(sizes),
            "people": sum(sizes),
            "largest": max(sizes, default=0),
            "mean": (sum(sizes) / len(sizes)) if sizes else 0.0,
        },
        "print_list_rows": PRINT_LIST_ROWS,
        "contacts_in_print": len(report.contacts) <= PDF_CONTACT_ROWS,
    }


def _people_by_country(report: ReportData, fmt: Formatter) -> list[tuple[str, int]]:
    """People who came per country: invited delegations (their sizes) and walk-ins."""
    people: Counter[str] = Counter()
    for g in report.by_country:
        if g.people and g.country:
            people[g.country] += g.people
    for w in report.walk_ins:
        if w.country:
            people[w.country.upper()] += w.delegation_size
    return [(fmt.country(code), n) for code, n in people.items()]


def _people_without_country(report: ReportData, label: str) -> list[tuple[str, int]]:
    n = sum(w.delegation_size for w in report.walk_ins if not w.country)
    return [(label, n)] if n else []


def _date_range(ev: EventFacts, fmt: Formatter) -> str:
    if ev.end_dt is None:
        return fmt.date(ev.start_dt)
    return fmt.date_range(ev.start_dt, ev.end_dt)


def _edition_label(e: EditionFigures, fmt: Formatter) -> str:
    if e.edition is not None:
        return i18n.gettext("Edition %(n)s", fmt.lang, n=e.edition)
    return fmt.year(e.start_date) if e.start_date else "?"


def parse_outcomes(
    outcomes: Mapping[str, Any],
) -> tuple[tuple[Agreement, ...], tuple[FollowUp, ...]]:
    """Agreements and follow-ups from an event's spec (``outcomes:`` in its YAML).

    ``agreements: [{title, partner, kind: agreement|memorandum, signed_on: YYYY-MM-DD}]``,
    ``follow_ups: [{action, owner, due: YYYY-MM-DD, partner}]``; raises ``ReportError`` naming
    the entry that is malformed.
    """
    agreements: list[Agreement] = []
    for i, item in enumerate(outcomes.get("agreements") or [], start=1):
        where = f"outcomes.agreements[{i}]"
        kind = str(item.get("kind") or "agreement")
        if kind not in ("agreement", "memorandum"):
            raise ReportError(f"{where}.kind: {kind!r} is neither 'agreement' nor 'memorandum'")
        agreements.append(
            Agreement(
                title=_required(item, "title", where),
                partner=_required(item, "partner", where),
                kind=kind,
                signed_date=_date_or_none(item.get("signed_on"), f"{where}.signed_on"),
            )
        )
    follow_ups = [
        FollowUp(
            action=_required(item, "action", f"outcomes.follow_ups[{i}]"),
            owner=_required(item, "owner", f"outcomes.follow_ups[{i}]"),
            due_date=_date_or_none(item.get("due"), f"outcomes.follow_ups[{i}].due"),
            partner=(str(item["partner"]) if item.get("partner") else None),
        )
        for i, item in enumerate(outcomes.get("follow_ups") or [], start=1)
    ]
    return tuple(agreements), tuple(follow_ups)


def _required(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not value:
        raise ReportError(f"{where}.{key} is missing")
    return str(value)


def _date_or_none(value: object, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ReportError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def headline_figures(report: ReportData) -> dict[str, int]:
    """The figures kept with the Report row, for the next edition's comparison."""
    f = report.funnel
    return {
        "invited": f.invited,
        "answered": f.answered,
        "accepted": f.accepted,
        "attended": f.attended,
        "people": f.people + report.walk_in_people,
        "walk_ins": len(report.walk_ins),
        "partners_present": report.partners_present,
        "countries_present": report.countries_present,
        "agreements": len(report.agreements),
    }
