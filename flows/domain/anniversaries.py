"""Anniversaries of friendship-city ties: dates, due reminders, wording, digest and .ics.

Pure: plain data in, plain data out. The clock (``today``, ``stamp``) and calendar UIDs are
passed in so that every output is deterministic and golden-testable.

Reminder policy (the rules the office relies on):

* A tie's anniversary for milestone *m* is its establishment date *m* years later, taken at
  its precision: the day; the 1st of the month ("March 2029"); 1 January ("in 2029").
  Unknown dates are never reminded; the digest lists them for someone to fill in.
* 29 February: in common years the anniversary falls on the last day of February
  (``"feb28"``, the default) or on 1 March (``"mar1"``).
* Each (tie, milestone) has one reminder per lead time; a reminder is due on the first run on
  or after its lead date (anniversary minus lead days).
* Catch-up: lead dates that passed since the previous run (``since``) are decided now, once.
  If several lead dates of the same anniversary are pending (the scheduler was down), only the
  most urgent one (the shortest lead) is sent; the earlier ones are recorded as
  ``"superseded"`` and their suggested actions are shown in the sent reminder, so no step is
  silently lost and staff do not get five mails for one anniversary.
  A pending reminder whose anniversary has already passed is recorded as ``"missed"``.
* The first run ever (``since=None``) does not dig up history: anniversaries before today
  are ignored; for coming ones the most urgent passed lead time is sent.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import icalendar
from babel import Locale
from babel.dates import format_date, format_skeleton
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

# re-exported: flows.reminders reads `dom.office_today`
from flows.domain.clock import office_today as office_today
from flows.domain.vocabulary import PRECISIONS

Precision = Literal["day", "month", "year", "unknown"]
Feb29Policy = Literal["feb28", "mar1"]
SkipReason = Literal["missed", "superseded"]

FEB29_POLICIES: tuple[str, ...] = ("feb28", "mar1")
DEFAULT_FEB29: Feb29Policy = "feb28"
DEFAULT_MILESTONES: tuple[int, ...] = (
    5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 70, 75, 80, 90, 100,
)  # fmt: skip
DEFAULT_LEAD_DAYS: tuple[int, ...] = (365, 180, 90, 30, 7)
LANGUAGES: tuple[str, ...] = ("en", "zh")

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
PRODID = "-//amity//anniversaries//EN"


# ---------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Contact:
    """A person at the partner city, as the digest shows them."""

    name: str
    title: str = ""
    email: str = ""


@dataclass(frozen=True)
class PastEvent:
    """An earlier event held with the partner (``when`` already worded, e.g. "September 1997")."""

    title: str
    when: str = ""


@dataclass(frozen=True)
class TieRecord:
    """What the anniversary logic needs about one tie; contacts/events only for the digest."""

    tie_id: int
    partner: str
    established_on: date | None
    precision: str
    partner_native: str = ""
    country: str = ""
    contacts: tuple[Contact, ...] = ()
    events: tuple[PastEvent, ...] = ()


@dataclass(frozen=True)
class DueReminder:
    """A reminder to send now; ``superseded`` are earlier lead times of it that were never sent."""

    tie_id: int
    milestone: int
    lead_days: int
    anniversary: date
    lead_date: date
    superseded: tuple[int, ...] = ()

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.tie_id, self.milestone, self.lead_days)


@dataclass(frozen=True)
class SkippedReminder:
    """A reminder decided without sending: its anniversary passed, or a later lead replaced it."""

    tie_id: int
    milestone: int
    lead_days: int
    anniversary: date
    lead_date: date
    reason: SkipReason

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.tie_id, self.milestone, self.lead_days)


@dataclass(frozen=True)
class Anniversary:
    """One milestone of one tie on a date (for listings and calendars)."""

    tie_id: int
    milestone: int
    on: date


# ---------------------------------------------------------------------------- dates


def _check_policy(feb29: str) -> None:
    if feb29 not in FEB29_POLICIES:
        raise ValueError(f"unknown 29 February policy {feb29!r}; expected one of {FEB29_POLICIES}")


def _on_day(year: int, month: int, day: int, feb29: str) -> date:
    if month == 2 and day == 29 and not _calendar.isleap(year):
        return date(year, 3, 1) if feb29 == "mar1" else date(year, 2, 28)
    return date(year, month, day)


def reference_date(established_on: date | None, precision: str) -> date | None:
    """The date a tie is reminded against in its own year (1st of month, 1 January), or None."""
    if established_on is None or precision == "unknown":
        return None
    if precision == "day":
        return established_on
    if precision == "month":
        return established_on.replace(day=1)
    if precision == "year":
        return date(established_on.year, 1, 1)
    raise ValueError(f"unknown precision {precision!r}; expected one of {PRECISIONS}")


def anniversary_date(
    established_on: date | None,
    precision: str,
    years: int,
    *,
    feb29: str = DEFAULT_FEB29,
) -> date | None:
    """The date of the ``years``-th anniversary, or None when the establishment date is unknown."""
    _check_policy(feb29)
    ref = reference_date(established_on, precision)
    if ref is None:
        return None
    return _on_day(ref.year + years, ref.month, ref.day, feb29)


def month_day_key(established_on: date | None, precision: str) -> int | None:
    """The indexed ``MMDD`` key of a tie's anniversary (314 for 14 March, 229 for 29 February)."""
    ref = reference_date(established_on, precision)
    return None if ref is None else ref.month * 100 + ref.day


def candidate_keys(
    *,
    today: date,
    since: date | None,
    lead_days: Sequence[int] = DEFAULT_LEAD_DAYS,
    milestones: Sequence[int] = DEFAULT_MILESTONES,
    feb29: str = DEFAULT_FEB29,
) -> tuple[frozenset[int], frozenset[int]]:
    """(month-day keys, establishment years) that can hold a reminder decided today.

    A superset for an indexed database query; ``due_reminders`` makes the exact decision.
    The anniversaries in play are those whose lead date lies in (since, today] for some
    lead time; on a first run (``since=None``) every anniversary from today to the longest
    lead ahead (a one-off wide query).
    """
    _check_policy(feb29)
    days: set[date] = set()
    if since is None:
        days.update(today + timedelta(days=n) for n in range(max(lead_days, default=0) + 1))
    else:
        for lead in lead_days:
            first = since + timedelta(days=lead + 1)
            last = today + timedelta(days=lead)
            days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    keys: set[int] = set()
    years: set[int] = set()
    for day in days:
        keys.add(day.month * 100 + day.day)
        leap_stand_in = (2, 28) if feb29 == "feb28" else (3, 1)
        if (day.month, day.day) == leap_stand_in and not _calendar.isleap(day.year):
            keys.add(229)
        years.update(day.year - m for m in milestones)
    return frozenset(keys), frozenset(years)


def anniversaries_between(
    ties: Iterable[TieRecord],
    *,
    start: date,
    end: date,
    milestones: Sequence[int] = DEFAULT_MILESTONES,
    feb29: str = DEFAULT_FEB29,
) -> list[Anniversary]:
    """Milestone anniversaries falling in [start, end], by date then tie."""
    found: list[Anniversary] = []
    for tie in ties:
        for milestone in milestones:
            on = anniversary_date(tie.established_on, tie.precision, milestone, feb29=feb29)
            if on is not None and start <= on <= end:
                found.append(Anniversary(tie.tie_id, milestone, on))
    return sorted(found, key=lambda a: (a.on, a.tie_id, a.milestone))


def due_reminders(
    ties: Iterable[TieRecord],
    *,
    today: date,
    milestones: Sequence[int] = DEFAULT_MILESTONES,
    lead_days: Sequence[int] = DEFAULT_LEAD_DAYS,
    already_done: set[tuple[int, int, int]] | frozenset[tuple[int, int, int]] = frozenset(),
    since: date | None = None,
    feb29: str = DEFAULT_FEB29,
) -> tuple[list[DueReminder], list[SkippedReminder]]:
    """Decide today's reminders: (to send, decided without sending). See the module docstring.

    ``already_done`` holds the (tie_id, milestone, lead_days) keys already in the ledger, in
    any state; ``since`` is the office date of the previous run (None on the first run).
    """
    _check_policy(feb29)
    due: list[DueReminder] = []
    skipped: list[SkippedReminder] = []
    leads = [(lead, timedelta(days=lead)) for lead in sorted(set(lead_days), reverse=True)]
    if not leads:
        return due, skipped
    # Only anniversaries between the floor and the longest lead ahead can be decided today;
    # bounding the years first skips most (tie, milestone) pairs without date arithmetic.
    floor = today if since is None else since
    latest = today + leads[0][1]
    wanted = sorted(set(milestones))
    for tie in ties:
        ref = reference_date(tie.established_on, tie.precision)
        if ref is None:
            continue
        for milestone in wanted:
            year = ref.year + milestone
            if year < floor.year or year > latest.year:
                continue
            on = _on_day(year, ref.month, ref.day, feb29)
            if on > latest or (since is None and on < today):
                continue
            pending = [
                (lead, on - delta)
                for lead, delta in leads
                if on - delta <= today
                and (since is None or on - delta > since)
                and (tie.tie_id, milestone, lead) not in already_done
            ]
            if not pending:
                continue
            if on < today:
                skipped.extend(
                    SkippedReminder(tie.tie_id, milestone, lead, on, lead_on, "missed")
                    for lead, lead_on in pending
                )
                continue
            (urgent, urgent_on), earlier = pending[-1], pending[:-1]
            due.append(
                DueReminder(
                    tie.tie_id, milestone, urgent, on, urgent_on, tuple(lead for lead, _ in earlier)
                )
            )
            skipped.extend(
                SkippedReminder(tie.tie_id, milestone, lead, on, lead_on, "superseded")
                for lead, lead_on in earlier
            )
    due.sort(key=lambda r: (r.anniversary, r.tie_id, r.milestone))
    skipped.sort(key=lambda r: (r.anniversary, r.tie_id, r.milestone, -r.lead_days))
    return due, skipped


# ---------------------------------------------------------------------------- wording

# A bare "en" reads dates the international way ("14 March 2029"); a full tag such as
# "en_US" keeps its own order. Chinese means the mainland's simplified script.
_DEFAULT_REGION = {"en": "en_001", "zh": "zh_Hans_CN"}

_ACTIONS: dict[str, dict[int, str]] = {
    "en": {
        365: "Plan a delegation visit and the anniversary programme; budget them for next year.",
        180: "Agree the programme with the partner city and invite its delegation.",
        90: "Confirm the delegations, venue and commemorative events; order gifts and prints.",
        30: "Send a congratulatory letter from the mayor.",
        7: "Prepare the mayor's message and a press release for the day.",
    },
    "zh": {
        365: "筹划代表团互访和周年纪念活动，并列入下一年度预算。",
        180: "与友好城市商定纪念活动方案，并发出代表团邀请。",
        90: "确认双方代表团、场地和纪念活动；准备礼品和宣传材料。",
        30: "以市长名义致贺信。",
        7: "准备市长致辞和当天的新闻稿。",
    },
}

_KNOWN = {
    "en": {
        "day": "exact day on record",
        "month": "only the month is on record; reminded against the 1st",
        "year": "only the year is on record; reminded against 1 January",
    },
    "zh": {
        "day": "有确切日期",
        "month": "仅知月份，按当月1日提醒",
        "year": "仅知年份，按1月1日提醒",
    },
}

_FEB29_NOTE = {
    "en": {
        "feb28": "Established on 29 February: in common years it is kept on 28 February.",
        "mar1": "Established on 29 February: in common years it is kept on 1 March.",
    },
    "zh": {
        "feb28": "建立日为2月29日：平年在2月28日纪念。",
        "mar1": "建立日为2月29日：平年在3月1日纪念。",
    },
}


def _language(tag: str) -> str:
    lang = tag.replace("-", "_").split("_")[0].lower()
    if lang not in LANGUAGES:
        raise ValueError(f"no anniversary wording for language {tag!r}; have {LANGUAGES}")
    return lang


@cache
def _locale(tag: str) -> Locale:
    # Parsing a Locale per call doubles rendering cost; tags are few, so cache them all.
    normalized = tag.replace("-", "_")
    return Locale.parse(_DEFAULT_REGION.get(normalized.lower(), normalized))


def ordinal(milestone: int, language: str) -> str:
    """The milestone in words: "第50周年" / "50th anniversary"."""
    if _language(language) == "zh":
        return f"第{milestone}周年"
    teens = 11 <= milestone % 100 <= 13
    suffix = "th" if teens else {1: "st", 2: "nd", 3: "rd"}.get(milestone % 10, "th")
    return f"{milestone}{suffix} anniversary"


def date_text(on: date, precision: str, language: str) -> str:
    """The date as well as it is known: "14 March 2029", "March 2029", "in 2029"."""
    lang, locale = _language(language), _locale(language)
    if precision == "day":
        return format_date(on, "long", locale=locale)
    if precision == "month":
        return format_skeleton("yMMMM", on, locale=locale)
    if precision == "year":
        year = format_skeleton("y", on, locale=locale)
        return year if lang == "zh" else f"in {year}"
    raise ValueError(f"no date to word for precision {precision!r}")


def known_text(precision: str, language: str) -> str:
    """How the establishment date is known, in words."""
    return _KNOWN[_language(language)][precision]


def suggested_action(lead_days: int, language: str) -> str:
    """The step to take at this lead time; a configured lead between the defaults takes the
    action of the nearest default at or below it (what still fits the time left)."""
    actions = _ACTIONS[_language(language)]
    fitting = [lead for lead in actions if lead <= lead_days]
    return actions[max(fitting) if fitting else min(actions)]


def feb29_note(tie: TieRecord, language: str, feb29: str = DEFAULT_FEB29) -> str:
    """The stated 29 February policy for ties made on that day, else ""."""
    _check_policy(feb29)
    born = tie.established_on
    if tie.precision == "day" and born is not None and (born.month, born.day) == (2, 29):
        return _FEB29_NOTE[_language(language)][feb29]
    return ""


def _days_left_text(days: int, language: str) -> str:
    # Negative only when a digest claimed one day is delivered later (a resumed run).
    if _language(language) == "zh":
        if days == 0:
            return "今天"
        return f"还有{days}天" if days > 0 else f"已过{-days}天"
    if days == 0:
        return "today"
    if abs(days) == 1:
        return "in 1 day" if days > 0 else "1 day ago"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


# ---------------------------------------------------------------------------- digest


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    markdown: str


@dataclass(frozen=True)
class DigestInput:
    """Everything one day's digest shows; ``ties`` must hold every tie the reminders name."""

    today: date
    home_city: str
    due: Sequence[DueReminder]
    ties: Mapping[int, TieRecord]
    missed: Sequence[SkippedReminder] = ()
    undated: Sequence[TieRecord] = ()
    #: how many undated ties there are in all, when ``undated`` lists only the first few
    undated_total: int | None = None
    feb29: str = DEFAULT_FEB29


def digest_context(digest: DigestInput, language: str) -> dict[str, Any]:
    """The template context: every value already worded in ``language``."""
    lang = _language(language)
    items = []
    for reminder in digest.due:
        tie = digest.ties[reminder.tie_id]
        items.append(
            {
                "tie_id": tie.tie_id,
                "partner": tie.partner,
                "partner_native": tie.partner_native if tie.partner_native != tie.partner else "",
                "country": tie.country,
                "ordinal": ordinal(reminder.milestone, lang),
                "milestone": reminder.milestone,
                "date": date_text(reminder.anniversary, tie.precision, language),
                "iso_date": reminder.anniversary.isoformat(),
                "known": known_text(tie.precision, lang),
                "established": date_text(tie.established_on, tie.precision, language)
                if tie.established_on
                else "",
                "feb29_note": feb29_note(tie, lang, digest.feb29),
                "days_left": _days_left_text((reminder.anniversary - digest.today).days, lang),
                "lead_days": reminder.lead_days,
                "action": suggested_action(reminder.lead_days, lang),
                "earlier_actions": [suggested_action(d, lang) for d in reminder.superseded],
                "contacts": tie.contacts,
                "events": tie.events,
            }
        )
    missed = [
        {
            "partner": digest.ties[m.tie_id].partner,
            "ordinal": ordinal(m.milestone, lang),
            "date": date_text(m.anniversary, digest.ties[m.tie_id].precision, language),
            "lead_days": m.lead_days,
        }
        for m in digest.missed
        if m.reason == "missed"
    ]
    undated = [
        {"tie_id": t.tie_id, "partner": t.partner, "partner_native": t.partner_native}
        for t in digest.undated
    ]
    return {
        "today": format_date(digest.today, "long", locale=_locale(language)),
        "home_city": digest.home_city,
        "items": items,
        "missed": missed,
        "undated": undated,
        "undated_more": max(0, (digest.undated_total or len(undated)) - len(undated)),
    }


@cache
def _mail_env() -> Environment:
    # One environment for the digest family; StrictUndefined stops a run on a missing field
    # before anything is sent.
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR / "mail"),
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_digest(digest: DigestInput, language: str) -> RenderedMail:
    """Subject, plain text, HTML and Markdown of the daily digest in ``language`` (zh, en)."""
    lang = _language(language)
    context = digest_context(digest, language)
    env = _mail_env()
    subject = env.get_template(f"digest.{lang}.subject.txt").render(context).strip()
    return RenderedMail(
        subject=subject,
        text=env.get_template(f"digest.{lang}.txt").render(context),
        html=env.get_template(f"digest.{lang}.html").render(context),
        markdown=env.get_template(f"digest.{lang}.md").render(context),
    )


# ---------------------------------------------------------------------------- calendar

_ICS_TEXT = {
    "en": {
        "summary": "Anniversary: {home}–{partner} friendship-city tie (since {year})",
        "established": "Established {date} ({known}).",
        "alarm": "Tomorrow: anniversary of the {home}–{partner} tie.",
        "calname": "{home}: friendship-city anniversaries",
    },
    "zh": {
        "summary": "{home}与{partner}友好城市关系纪念日（{year}年建立）",
        "established": "建立于{date}（{known}）。",
        "alarm": "明天是{home}与{partner}友好城市关系纪念日。",
        "calname": "{home}友好城市纪念日",
    },
}


class _Recur(icalendar.vRecur):
    # icalendar writes BYMONTHDAY before BYMONTH; RFC 5545 allows any order, and month
    # first reads the way the policy is stated (and searched for): BYMONTH=2;BYMONTHDAY=-1.
    canonical_order = (
        "RSCALE", "FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY",
        "BYWEEKDAY", "BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS", "WKST", "SKIP",
    )  # fmt: skip


def _rrule(tie: TieRecord, feb29: str) -> _Recur:
    born = tie.established_on
    if tie.precision == "day" and born is not None and (born.month, born.day) == (2, 29):
        # Last day of February every year, or day 60 of the year (29 Feb / 1 Mar).
        if feb29 == "feb28":
            return _Recur({"FREQ": "YEARLY", "BYMONTH": 2, "BYMONTHDAY": -1})
        return _Recur({"FREQ": "YEARLY", "BYYEARDAY": 60})
    return _Recur({"FREQ": "YEARLY"})


def anniversary_event(
    tie: TieRecord,
    *,
    uid: str,
    stamp: datetime,
    home_city: str,
    language: str = "en",
    feb29: str = DEFAULT_FEB29,
) -> icalendar.Event:
    """The yearly all-day VEVENT of a tie's anniversary (from its establishment day on)."""
    _check_policy(feb29)
    lang = _language(language)
    start = reference_date(tie.established_on, tie.precision)
    if start is None:
        raise ValueError(f"tie {tie.tie_id} has no known establishment date")
    words = _ICS_TEXT[lang]
    description = words["established"].format(
        date=date_text(start, tie.precision, language), known=known_text(tie.precision, lang)
    )
    note = feb29_note(tie, lang, feb29)
    if note:
        description = f"{description} {note}"
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(days=1))
    event.add("rrule", _rrule(tie, feb29))
    event.add(
        "summary", words["summary"].format(home=home_city, partner=tie.partner, year=start.year)
    )
    event.add("description", description)
    event.add("transp", "TRANSPARENT")
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    # Floating all-day start: -PT15H rings at 09:00 the day before in the reader's zone.
    alarm.add("trigger", timedelta(hours=-15))
    alarm.add("description", words["alarm"].format(home=home_city, partner=tie.partner))
    event.add_component(alarm)
    return event


def _calendar_shell(name: str | None) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if name:
        cal.add("x-wr-calname", name)
    return cal


def anniversary_ics(
    tie: TieRecord,
    *,
    uid: str,
    stamp: datetime,
    home_city: str,
    language: str = "en",
    feb29: str = DEFAULT_FEB29,
) -> bytes:
    """One tie's anniversary as a .ics file (the digest's attachment)."""
    cal = _calendar_shell(None)
    cal.add_component(
        anniversary_event(
            tie, uid=uid, stamp=stamp, home_city=home_city, language=language, feb29=feb29
        )
    )
    return cal.to_ical()


def anniversaries_calendar(
    ties: Iterable[tuple[TieRecord, str]],
    *,
    stamp: datetime,
    home_city: str,
    language: str = "en",
    feb29: str = DEFAULT_FEB29,
) -> bytes:
    """The subscription calendar: every dated tie's yearly anniversary; (tie, uid) pairs in."""
    lang = _language(language)
    cal = _calendar_shell(_ICS_TEXT[lang]["calname"].format(home=home_city))
    for tie, uid in ties:
        if reference_date(tie.established_on, tie.precision) is None:
            continue
        cal.add_component(
            anniversary_event(
                tie, uid=uid, stamp=stamp, home_city=home_city, language=language, feb29=feb29
            )
        )
    return cal.to_ical()
