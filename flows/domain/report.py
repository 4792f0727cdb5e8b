"""Post-event report: the figures of an event (pure) and their rendering to HTML, Markdown, CSV.

Plain dataclasses come in (what the database knows about the event), a ``ReportData`` comes
out of ``compute_report``; ``render_report`` turns it into the texts of the report in one
language. Nothing here reads the clock: ``now`` (for waiting times) and ``generated_dt`` (the
only varying bit of the output) are passed in, so the same inputs give the same bytes.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from babel import Locale
from babel.dates import format_date, format_datetime, format_interval
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from flows.domain import charts

#: RSVP states of an invitation (iCalendar PARTSTAT, as stored); "needs-action" = no answer yet,
#: "delegated" = the contact passed the invitation on, which counts as an answer.
RSVP_STATES = ("needs-action", "accepted", "declined", "tentative", "delegated")
NO_ANSWER = "needs-action"
LANGUAGES = ("en", "zh")
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "reports"

#: Above this many invited contacts the PDF lists partner cities instead of every contact,
#: and lists (delegations, partners to chase, data quality...) stop after PRINT_LIST_ROWS rows:
#: paper is for reading, and WeasyPrint's cost grows with every table row (a 700-row PDF
#: took ~30 s on the loaded 2-core machine). The HTML and the CSV always have every row.
PDF_CONTACT_ROWS = 100
PRINT_LIST_ROWS = 40

#: Upper bounds (hours) of the response-time buckets; the last bucket is open-ended.
RESPONSE_BUCKETS_H = (24, 72, 168, 336)


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
    code: str  #: a key of the "quality" labels
    subject: str
    detail: str = ""


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
        QualityItem("tie_date_unknown", f"{city} ({country})") for country, city in unknown_ties
    ]
    for r in rows:
        who = f"{r.name} ({r.city})"
        if not r.language:
            items.append(QualityItem("contact_no_language", who))
        if not r.email:
            items.append(QualityItem("contact_no_email", who))
        if r.sent_dt is None:
            items.append(QualityItem("invitation_not_sent", who))
        if r.rsvp != NO_ANSWER and r.rsvp_dt is None:
            items.append(QualityItem("answer_without_time", who, r.rsvp))
        if r.response_h is not None and r.response_h < 0:
            items.append(QualityItem("answer_before_sending", who))
        if r.attended and r.rsvp != "accepted":
            items.append(QualityItem("attended_without_accepting", who, r.rsvp))
        if r.rsvp == "accepted" and r.attended is None:
            items.append(QualityItem("accepted_no_attendance", who))
    items += [QualityItem("walk_in_without_city", w.name) for w in data.walk_ins if not w.city]
    return tuple(sorted(items, key=lambda q: (q.code, q.subject, q.detail)))


# --- rendering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedReport:
    html: str  #: self-contained, for the screen
    print_html: str  #: the PDF's source: a cover page, long tables summarised
    markdown: str
    csv: str


class Formatter:
    """Babel formatting in one language; the ``Locale`` is parsed once per language."""

    def __init__(self, lang: str, timezone: str) -> None:
        self.lang = lang
        self.locale = _locale(lang)
        self.tz = ZoneInfo(timezone)

    def number(self, n: float, digits: int = 0) -> str:
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(n, format=fmt, locale=self.locale)

    def percent(self, part: int, whole: int) -> str:
        if not whole:
            return "–"
        return format_percent(part / whole, format="#,##0%", locale=self.locale)

    def days(self, hours: float | None) -> str:
        return "–" if hours is None else self.number(hours / 24, 1)

    def date(self, d: date | datetime | None, form: str = "long") -> str:
        if d is None:
            return "–"
        if isinstance(d, datetime):
            d = d.astimezone(self.tz).date()
        return format_date(d, format=form, locale=self.locale)

    def date_range(self, start: datetime, end: datetime) -> str:
        a, b = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        if a == b:
            return self.date(a)
        # Babel knows each language's way to write a range ("26–29 Sept", "9月26日–29日").
        return format_interval(a, b, skeleton="yMMMd", locale=self.locale)

    def timestamp(self, dt: datetime | None) -> str:
        if dt is None:
            return "–"
        return format_datetime(dt, format="medium", tzinfo=self.tz, locale=self.locale)

    def time(self, dt: datetime) -> str:
        return format_datetime(dt, format="HH:mm", tzinfo=self.tz, locale=self.locale)

    def country(self, code: str | None) -> str:
        if not code:
            return "–"
        return str(self.locale.territories.get(code.upper(), code))


@lru_cache(maxsize=8)
def _locale(lang: str) -> Locale:
    return Locale.parse({"zh": "zh_Hans_CN", "en": "en_GB"}.get(lang, lang))


@lru_cache(maxsize=4)
def _environment(templates_dir: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2", "svg")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = _md_cell
    env.filters["css_string"] = _css_string
    return env


@lru_cache(maxsize=8)
def _labels(templates_dir: Path, lang: str) -> Mapping[str, Any]:
    path = templates_dir / "i18n" / f"{lang}.yaml"
    if not path.is_file():
        raise ReportError(f"no report labels for language {lang!r} (expected {path})")
    loaded: Mapping[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


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
    t = _labels(templates_dir, lang)
    fmt = Formatter(lang, report.event.timezone)
    context = _context(report, t, fmt, generated_dt)
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
    w = csv.writer(out, lineterminator="\r\n")
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


def _context(
    report: ReportData, t: Mapping[str, Any], fmt: Formatter, generated_dt: datetime
) -> dict[str, Any]:
    f = report.funnel
    ev = report.event
    stages = [
        (t["funnel"]["invited"], f.invited),
        (t["funnel"]["answered"], f.answered),
        (t["funnel"]["accepted"], f.accepted),
        (t["funnel"]["attended"], f.attended),
    ]
    by_country = [(fmt.country(g.country), g.attended, g.people) for g in report.by_country]
    trend_labels = [_edition_label(e, t, fmt) for e in report.editions]
    chart_font = t["chart_font"]
    svg = {
        "funnel": charts.funnel_chart(
            stages, title=t["charts"]["funnel"], number=fmt.number, percent_of=fmt.percent,
            font_family=chart_font,
        ),
        "countries": charts.bar_chart(
            [(name, attended) for name, attended, _ in by_country if attended],
            title=t["charts"]["countries"], number=fmt.number, font_family=chart_font,
        ),
        "trend": charts.trend_chart(
            trend_labels,
            [
                (t["funnel"]["invited"], [e.invited for e in report.editions]),
                (t["funnel"]["accepted"], [e.accepted for e in report.editions]),
                (t["funnel"]["attended"], [e.attended for e in report.editions]),
            ],
            title=t["charts"]["trend"], number=fmt.number, font_family=chart_font,
        ),
    }  # fmt: skip
    summary = t["summary"].format(
        title=ev.title,
        dates=_date_range(ev, fmt, t),
        host=ev.host_city,
        invited=fmt.number(f.invited),
        cities=fmt.number(len(report.by_city)),
        countries=fmt.number(len(report.by_country)),
        answered=fmt.number(f.answered),
        answered_pct=fmt.percent(f.answered, f.invited),
        accepted=fmt.number(f.accepted),
        attended=fmt.number(f.attended),
        attended_pct=fmt.percent(f.attended, f.invited),
        people=fmt.number(f.people + report.walk_in_people),
        partners=fmt.number(report.partners_present),
        present_countries=fmt.number(report.countries_present),
        walk_ins=fmt.number(len(report.walk_ins)),
        agreements=fmt.number(len(report.agreements)),
    )
    sizes = [d.size for d in report.delegations]
    return {
        "r": report,
        "t": t,
        "fmt": fmt,
        "lang": fmt.lang,
        "title": ev.title,
        "dates": _date_range(ev, fmt, t),
        "summary": summary,
        "svg": svg,
        "edition_labels": trend_labels,
        "generated": fmt.timestamp(generated_dt),
        "rsvp_label": t["rsvp"],
        "delegation_stats": {
            "count": len(sizes),
            "people": sum(sizes),
            "largest": max(sizes, default=0),
            "mean": (sum(sizes) / len(sizes)) if sizes else 0.0,
        },
        "bucket_labels": t["response"]["buckets"],
        "print_list_rows": PRINT_LIST_ROWS,
        "contacts_in_print": len(report.contacts) <= PDF_CONTACT_ROWS,
    }


def _date_range(ev: EventFacts, fmt: Formatter, t: Mapping[str, Any]) -> str:
    if ev.end_dt is None:
        return fmt.date(ev.start_dt)
    return fmt.date_range(ev.start_dt, ev.end_dt)


def _edition_label(e: EditionFigures, t: Mapping[str, Any], fmt: Formatter) -> str:
    if e.edition is not None:
        return str(t["edition"]).format(n=e.edition)
    return fmt.date(e.start_date, "yyyy") if e.start_date else "?"


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
