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
from pathlib import Path
from typing import Any, Literal

import icalendar
from babel.dates import format_skeleton

# re-exported: flows.reminders reads `dom.office_today`
from flows.domain import i18n
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
LANGUAGES: tuple[str, ...] = ("en", "zh", "ja")

MAIL_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail"
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

# The words are gettext messages (templates/locale/<lang>/LC_MESSAGES/amity.po), dates are
# i18n's one style per language; a region in the tag still wins ("en_US": "March 14, 2029").


_ACTIONS: dict[int, str] = {
    365: i18n.N_(
        "Plan a delegation visit and the anniversary programme; budget them for next year."
    ),
    180: i18n.N_("Agree the programme with the partner city and invite its delegation."),
    90: i18n.N_("Confirm the delegations, venue and commemorative events; order gifts and prints."),
    30: i18n.N_("Send a congratulatory letter from the mayor."),
    7: i18n.N_("Prepare the mayor's message and a press release for the day."),
}


def _language(tag: str) -> str:
    lang = i18n.primary(tag)
    if lang not in LANGUAGES:
        raise ValueError(f"no anniversary wording for language {tag!r}; have {LANGUAGES}")
    return lang


def ordinal(milestone: int, language: str) -> str:
    """The milestone in words: "50th anniversary", "第50周年", "50周年".

    The form follows the language's CLDR ordinal rules (English: one/two/few/other).
    """
    _language(language)
    form = i18n.locale_for(language).ordinal_form(milestone)
    if form == "one":
        text = i18n.pgettext("ordinal, CLDR form one", "%(num)sst anniversary", language)
    elif form == "two":
        text = i18n.pgettext("ordinal, CLDR form two", "%(num)snd anniversary", language)
    elif form == "few":
        text = i18n.pgettext("ordinal, CLDR form few", "%(num)srd anniversary", language)
    else:
        text = i18n.pgettext("ordinal, CLDR form other", "%(num)sth anniversary", language)
    return text % {"num": milestone}


def date_text(on: date, precision: str, language: str, *, bare_year: bool = False) -> str:
    """The date as well as it is known: "14 March 2029", "March 2029", "in 2029".

    ``bare_year``: a year alone without "in" ("2019"), as a list of past events shows it.
    """
    _language(language)
    if precision == "day":
        return i18n.format_date(on, language)
    locale = i18n.locale_for(language)
    if precision == "month":
        return format_skeleton("yMMMM", on, locale=locale)
    if precision == "year":
        year = format_skeleton("y", on, locale=locale)
        if bare_year:
            return year
        return i18n.pgettext("a date known only by its year", "in %(year)s", language, year=year)
    raise ValueError(f"no date to word for precision {precision!r}")


def known_text(precision: str, language: str) -> str:
    """How the establishment date is known, in words."""
    lang = _language(language)
    if precision == "day":
        return i18n.gettext("exact day on record", lang)
    if precision == "month":
        return i18n.gettext("only the month is on record; reminded against the 1st", lang)
    if precision == "year":
        return i18n.gettext("only the year is on record; reminded against 1 January", lang)
    raise KeyError(precision)


def suggested_action(lead_days: int, language: str) -> str:
    """The step to take at this lead time; a configured lead between the defaults takes the
    action of the nearest default at or below it (what still fits the time left)."""
    lang = _language(language)
    fitting = [lead for lead in _ACTIONS if lead <= lead_days]
    return i18n.gettext(_ACTIONS[max(fitting) if fitting else min(_ACTIONS)], lang)


def feb29_note(tie: TieRecord, language: str, feb29: str = DEFAULT_FEB29) -> str:
    """The stated 29 February policy for ties made on that day, else ""."""
    _check_policy(feb29)
    lang = _language(language)
    born = tie.established_on
    if tie.precision == "day" and born is not None and (born.month, born.day) == (2, 29):
        if feb29 == "mar1":
            return i18n.gettext(
                "Established on 29 February: in common years it is kept on 1 March.", lang
            )
        return i18n.gettext(
            "Established on 29 February: in common years it is kept on 28 February.", lang
        )
    return ""


def _days_left_text(days: int, language: str) -> str:
    # Negative only when a digest claimed one day is delivered later (a resumed run).
    lang = _language(language)
    if days == 0:
        return i18n.pgettext("when an anniversary falls", "today", lang)
    if days > 0:
        return i18n.ngettext("in %(num)s day", "in %(num)s days", days, lang)
    return i18n.ngettext("%(num)s day ago", "%(num)s days ago", -days, lang)


# ---------------------------------------------------------------------------- digest


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    markdown: str


@dataclass(frozen=True)
class FailingAddress:
    """A contact whose e-mail address bounced (and has not been changed since)."""

    name: str
    city: str
    email: str


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
    #: contacts whose address bounced: invitations to them never arrive until it is corrected
    bounced: Sequence[FailingAddress] = ()


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
        "lang": language,
        "html_lang": _html_lang(language),
        "today": i18n.format_date(digest.today, language),
        "home_city": digest.home_city,
        "items": items,
        "missed": missed,
        "undated": undated,
        "undated_more": max(0, (digest.undated_total or len(undated)) - len(undated)),
        "bounced": [{"name": c.name, "city": c.city, "email": c.email} for c in digest.bounced],
    }


def _html_lang(language: str) -> str:
    """The ``lang`` attribute of the HTML part: the language and its script where CLDR names
    one ("zh-Hans"), else the language alone ("en", "ja")."""
    locale = i18n.locale_for(language)
    return "-".join(p for p in (locale.language, locale.script) if p)


def render_digest(digest: DigestInput, language: str) -> RenderedMail:
    """Subject, plain text, HTML and Markdown of the daily digest in ``language`` (en, zh, ja).

    One set of templates (``templates/mail/digest.*.j2``) for every language; their words
    come from the gettext catalogs.
    """
    _language(language)
    context = digest_context(digest, language)
    env = i18n.make_environment(MAIL_TEMPLATES)
    return RenderedMail(
        subject=env.get_template("digest.subject.txt.j2").render(context).strip(),
        text=env.get_template("digest.txt.j2").render(context),
        html=env.get_template("digest.html.j2").render(context),
        markdown=env.get_template("digest.md.j2").render(context),
    )


# ---------------------------------------------------------------------------- calendar


def _ics_summary(home: str, partner: str, year: int, lang: str) -> str:
    return i18n.pgettext(
        "anniversary calendar entry",
        "Anniversary: %(home)s–%(partner)s friendship-city tie (since %(year)s)",
        lang,
        home=home,
        partner=partner,
        year=year,
    )


def _ics_established(day: str, known: str, lang: str) -> str:
    return i18n.pgettext(
        "anniversary calendar entry",
        "Established %(date)s (%(known)s).",
        lang,
        date=day,
        known=known,
    )


def _ics_alarm(home: str, partner: str, lang: str) -> str:
    return i18n.pgettext(
        "anniversary calendar entry",
        "Tomorrow: anniversary of the %(home)s–%(partner)s tie.",
        lang,
        home=home,
        partner=partner,
    )


def _ics_calname(home: str, lang: str) -> str:
    return i18n.pgettext(
        "anniversary calendar", "%(home)s: friendship-city anniversaries", lang, home=home
    )


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
    description = _ics_established(
        date_text(start, tie.precision, language), known_text(tie.precision, lang), lang
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
    event.add("summary", _ics_summary(home_city, tie.partner, start.year, lang))
    event.add("description", description)
    event.add("transp", "TRANSPARENT")
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    # Floating all-day start: -PT15H rings at 09:00 the day before in the reader's zone.
    alarm.add("trigger", timedelta(hours=-15))
    alarm.add("description", _ics_alarm(home_city, tie.partner, lang))
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
    cal = _calendar_shell(_ics_calname(home_city, lang))
    for tie, uid in ties:
        if reference_date(tie.established_on, tie.precision) is None:
            continue
        cal.add_component(
            anniversary_event(
                tie, uid=uid, stamp=stamp, home_city=home_city, language=language, feb29=feb29
            )
        )
    return cal.to_ical()
