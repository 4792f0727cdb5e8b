"""Formal invitation letters in the contact's language, as HTML (for PDF) and plain text.

Plain data in (``LetterInput``), plain strings out (``RenderedLetter``). Everything that
depends on a locale (dates, times, time-zone names) is formatted here with Babel; the
per-language wording lives in ``templates/letters/lang/<code>.txt.j2`` and the page layout in
``templates/letters/letter.html.j2``.

Years of friendship ("our Nth year of friendship") are counted at ``letter_date``: the year
the tie was established is the 1st year and each anniversary starts the next one. When the
date is known only to the month, the anniversary is taken as the 1st of that month; when
only the year is known, as 1 January (so the year of establishment is always the 1st year).
A tie made on 29 February reaches its anniversary on 1 March in common years. Unknown
precision, no date, or a letter dated before the tie: the sentence is left out.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, get_timezone_name
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from flows.domain import address, i18n, scripts

Precision = Literal["day", "month", "year", "unknown"]

#: Languages with a shipped letter; anything else gets the English letter (is_fallback=True).
SHIPPED_LANGUAGES: tuple[str, ...] = (
    "zh", "en", "ja", "ko", "es", "fr", "de", "ru", "ar",
    "pt", "it", "nl", "tr", "uk", "th", "vi", "id",
)  # fmt: skip
FALLBACK_LANGUAGE = "en"
RTL_LANGUAGES = frozenset({"ar"})

# Region defaults for dates: English letters use British dates ("14 March 2029") whatever
# the contact's region; Portuguese follows the contact (pt-BR), else Portugal.
#: where a contact's region changes a letter's dates (pt-PT against the office's pt-BR);
#: elsewhere the office's one locale per language (i18n.REGION_DEFAULTS) writes every letter
_REGIONS_THAT_COUNT = {"pt": frozenset({"BR", "PT"})}

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "letters"

# Scripts a reader of each language reads natively: a native-script name is used in a
# letter only when all its letters are in these scripts (東京都 in a zh letter, Tokyo in de).
Localized = Mapping[str, str]  #: BCP 47 primary subtag -> text; "en" always present


@dataclass(frozen=True)
class Recipient:
    """The partner contact the letter is addressed to."""

    name: str  #: in the native script (小池百合子)
    name_latin: str  #: in Latin script (Yuriko Koike)
    family_name: str  #: native script; "" = not recorded
    family_name_latin: str  #: Latin script; "" = not recorded
    title: str  #: as the contact's records give it, in their language (東京都知事, Maire de Lyon)
    honorific: str  #: as given, never guessed (Ms., Frau, господин, 様); may be ""
    office: str  #: as given, in the contact's language
    rank: str  #: one of address.RANKS
    gender: str  #: "female", "male" or "" (not recorded)
    city: Localized  #: the contact's city by language
    timezone: str  #: IANA zone
    language: str  #: BCP 47 tag of the preferred language
    salutations: Localized = field(
        default_factory=dict
    )  #: the organizer's own salutation per language


@dataclass(frozen=True)
class Person:
    names: Localized  #: the name as written for readers of each language
    titles: Localized


@dataclass(frozen=True)
class Signatory(Person):
    ranks: tuple[str, ...] = ()  #: addressee ranks this person signs for; () = everyone else


@dataclass(frozen=True)
class Host:
    """The inviting office (the home city), in every letter language."""

    names: Localized
    addresses: Localized  #: postal address as printed in the letterhead
    city: Localized
    language: str  #: e.g. "zh"
    signatories: tuple[Signatory, ...]
    contact: Person  #: who answers questions about the event
    telephone: str
    email: str  #: the reply address
    #: str.format patterns with {year} and {n}; "en" is used for languages not listed
    reference_patterns: Localized


@dataclass(frozen=True)
class Session:
    """One agenda item; times are UTC-aware."""

    titles: Localized
    rooms: Localized
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Practical:
    """What the host offers a delegation; empty values are left out of the letter."""

    delegation_size: int | None = None  #: persons per delegation the host receives
    accommodation: Localized = field(default_factory=dict)
    costs: Localized = field(default_factory=dict)
    visa_support: bool = False  #: visa support letters on request


@dataclass(frozen=True)
class EventInfo:
    """The event; ``titles`` exclude the edition number."""

    titles: Localized
    kind: str
    series: str | None
    edition: int | None
    venues: Localized
    venue_addresses: Localized
    timezone: str
    start: datetime
    end: datetime
    sessions: tuple[Session, ...] = ()
    practical: Practical = field(default_factory=Practical)


@dataclass(frozen=True)
class LetterInput:
    recipient: Recipient
    host: Host
    event: EventInfo
    letter_date: date
    reference_year: int
    reference_number: int  #: the invitation's number in the office's yearly counter
    is_bilingual: bool = False
    established_on: date | None = None
    precision: Precision = "unknown"
    rsvp_by: date | None = None
    encloses_programme: bool = False  #: True when the PDF programme is attached


@dataclass(frozen=True)
class Fallback:
    """A printed value missing in ``language``; ``used`` is the language printed instead."""

    language: str
    field: str  #: "event.venue", "session[2].room", "host.signatory.title", ...
    used: str


@dataclass(frozen=True)
class RenderedLetter:
    language: str  #: language of the (first) letter actually used
    requested_language: str  #: primary subtag of the contact's preferred language
    is_fallback: bool
    languages: tuple[str, ...]  #: every language in the letter, letter language first
    subject: str  #: e-mail subject, in ``language``
    html: str  #: standalone page (for the PDF and the HTML file)
    html_fragment: str  #: the letter body alone, for an e-mail's text/html part
    text: str  #: plain text, for an e-mail's text/plain part
    reference: str = ""  #: as printed in the letter language
    fallbacks: tuple[Fallback, ...] = ()  #: every value printed in another language
    problems: tuple[str, ...] = ()  #: forms of address the data cannot make, "<lang>: ..."


# --- environment -------------------------------------------------------------------------


def _configure(env: Environment) -> Environment:
    env.filters["en_ordinal"] = en_ordinal
    env.filters["bidi"] = bidi_html
    env.filters["keep_words"] = keep_words
    return env


@functools.lru_cache(maxsize=8)
def _environment(template_dir: Path | None) -> Environment:
    options: dict[str, Any] = {
        "autoescape": select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        "undefined": StrictUndefined,
        "keep_trailing_newline": True,
        "auto_reload": False,
    }
    shipped = FileSystemLoader(TEMPLATE_DIR)
    if template_dir is None:
        return _configure(Environment(loader=shipped, **options))  # noqa: S701 (select_autoescape)
    # Organizer templates override shipped ones file by file, and all of them run sandboxed.
    loader = ChoiceLoader([FileSystemLoader(template_dir), shipped])
    return _configure(SandboxedEnvironment(loader=loader, **options))


def make_environment(template_dir: Path | None = None) -> Environment:
    """The cached letter Environment: shipped templates, or a sandbox over an organizer folder."""
    return _environment(None if template_dir is None else Path(template_dir).resolve())


# --- small helpers -----------------------------------------------------------------------


def en_ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))  # fmt: skip
_ZH_DIGITS = "零一二三四五六七八九"


def roman(n: int) -> str:
    out = []
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def zh_number(n: int) -> str:
    """Chinese numerals for 1..99 (第十二届); larger numbers stay in digits."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _ZH_DIGITS[ones]
    return ("" if tens == 1 else _ZH_DIGITS[tens]) + "十" + (_ZH_DIGITS[ones] if ones else "")


def _edition_title(title: str, n: int | None, lang: str) -> str:
    if n is None:
        return _isolate(title) if lang in RTL_LANGUAGES else title
    match lang:
        case "zh":
            return f"第{zh_number(n)}届{title}"
        case "ja":
            return f"第{n}回{title}"
        case "ko":
            return f"제{n}회 {title}"
        case "de":
            return f"{n}. {title}"
        case "es" | "ru":  # Roman numerals avoid gender and case agreement of an ordinal
            return f"{roman(n)} {title}"
        case "fr":
            return f"{title} ({n}{'re' if n == 1 else 'e'} édition)"
        case "ar":
            return f"{_isolate(title)} (الدورة {n})"
        case _:
            return f"{en_ordinal(n)} {title}"


def event_title(event: EventInfo, lang: str) -> str:
    """The event's name in ``lang`` (English when missing) with its edition, as ``lang`` words it."""
    return _edition_title(
        event.titles.get(lang) or event.titles[FALLBACK_LANGUAGE], event.edition, lang
    )


def choose_signatory(host: Host, rank: str) -> Signatory:
    """The first signatory whose ranks include ``rank``, else the first who signs for all."""
    for signatory in host.signatories:
        if rank and rank in signatory.ranks:
            return signatory
    for signatory in host.signatories:
        if not signatory.ranks:
            return signatory
    raise ValueError(
        f"no signatory for rank {rank!r} and none with ranks = [] in the office config"
    )


def format_reference(host: Host, lang: str, year: int, n: int) -> str:
    """The reference as printed in ``lang``: its pattern, or the "en" one, with {year} and {n}."""
    pattern = host.reference_patterns.get(lang) or host.reference_patterns[FALLBACK_LANGUAGE]
    return pattern.format(year=year, n=n)


def friendship_year(established_on: date | None, precision: str, on: date) -> int | None:
    """The running year of the tie at ``on`` (1 = the year it was made); see module doc."""
    if established_on is None or precision not in ("day", "month", "year"):
        return None
    e = established_on
    if precision == "day":
        anniversary = (e.month, e.day)
    elif precision == "month":
        anniversary = (e.month, 1)
    else:
        anniversary = (1, 1)
    if on.year < e.year or (on.year == e.year and (on.month, on.day) < anniversary):
        return None
    completed = on.year - e.year - (1 if (on.month, on.day) < anniversary else 0)
    return completed + 1


_scripts = scripts.scripts
_fits = scripts.fits


def _same(text: str) -> str:
    return text


_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def _isolate(text: str) -> str:
    """Wrap text that is not purely Arabic in FSI…PDI (Unicode bidi isolation)."""
    if not text or _scripts(text) <= {"Arabic"}:
        return text
    return f"\u2068{text.translate(_BIDI_CONTROLS)}\u2069"


def _ltr(text: str) -> str:
    """Wrap text that must read left to right (telephone, e-mail, reference) in LRI…PDI."""
    return f"\u2066{text.translate(_BIDI_CONTROLS)}\u2069" if text else text


def bidi_html(text: str) -> Markup:
    """Escape ``text`` for HTML and wrap its isolated runs (FSI/LRI…PDI) in ``<bdi>``.

    The control characters stay inside: WeasyPrint ignores ``unicode-bidi: isolate`` but
    Pango honours the isolates, and browsers and mail clients honour ``<bdi>``.
    """
    html = escape(text)
    if "\u2069" not in html:  # left-to-right letters: nothing to wrap
        return html
    return Markup(  # noqa: S704 (escaped first; only our own tags are added)
        str(html)
        .replace("\u2068", "<bdi>\u2068")
        .replace("\u2066", '<bdi dir="ltr">\u2066')
        .replace("\u2069", "\u2069</bdi>")
    )


_HANGUL_WORD = re.compile(r"[^\s<>]*[\uac00-\ud7a3][^\s<>]*")


def keep_words(html: str, lang: str) -> Markup:
    """Korean breaks lines between words only: each Hangul word becomes one unbreakable span.

    This is ``word-break: keep-all``, which WeasyPrint does not support (browsers get the CSS too).
    """
    if lang != "ko":
        return Markup(html)  # noqa: S704 (already rendered by an autoescaping template)
    return Markup(_HANGUL_WORD.sub(r'<span class="w">\g<0></span>', str(html)))  # noqa: S704


def _in_script(native: str, fallback: str, lang: str) -> str:
    """``native`` when a reader of ``lang`` reads its script, else ``fallback`` (if any)."""
    if native and _fits(native, lang):
        return native
    return fallback or native


def _person_name(names: Localized, lang: str) -> str:
    """A person's name for readers of ``lang``: theirs, else one in a script they read, else "en"."""
    if names.get(lang):
        return names[lang]
    for name in names.values():
        if name and _fits(name, lang):
            return name
    return names.get(FALLBACK_LANGUAGE) or next(iter(names.values()), "")


def letter_language(
    tag: str, available: frozenset[str] | tuple[str, ...] = SHIPPED_LANGUAGES
) -> tuple[str, str, bool]:
    """(requested primary subtag, language used, is_fallback) for a BCP 47 tag."""
    requested = i18n.primary(tag)
    if requested in available:
        return requested, requested, False
    return requested, FALLBACK_LANGUAGE, True


def _locale(lang: str, region: str = "") -> Locale:
    """The Babel locale of a letter language: the one rule of flows.domain.i18n."""
    counts = region in _REGIONS_THAT_COUNT.get(lang, ())
    return i18n.locale_for(f"{lang}-{region}" if counts else lang)


def _region(tag: str) -> str:
    parts = tag.replace("_", "-").split("-")[1:]
    return next((p.upper() for p in parts if len(p) == 2 and p.isalpha()), "")


@functools.lru_cache(maxsize=1024)
def _long_date(day: date, loc: Locale) -> str:
    return format_date(day, "long", locale=loc)


@functools.lru_cache(maxsize=128)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _aware(dt: datetime, what: str) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {dt!r}")
    return dt


def _offset(dt: datetime) -> str:
    offset = dt.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _moment(dt: datetime, zone: ZoneInfo, loc: Locale) -> dict[str, str]:
    local = dt.astimezone(zone)
    return {
        "date": format_date(local.date(), "full", locale=loc),
        "long_date": format_date(local.date(), "long", locale=loc),
        "short_date": format_skeleton("MMMEd", local, locale=loc),
        "time": format_time(local, "HH:mm", locale=loc),
        "zone": get_timezone_name(local, "long", locale=loc),
        "offset": _offset(local),
        "day": local.date().isoformat(),
    }


@functools.lru_cache(maxsize=2048)
def _times(
    loc: Locale,
    event_tz: str,
    recipient_tz: str,
    start: datetime,
    end: datetime,
    sessions: tuple[tuple[datetime, datetime], ...],
) -> dict[str, Any]:
    """Every locale-dependent time string of one letter; shared by all letters alike."""
    ez, rz = _zone(event_tz), _zone(recipient_tz)
    start_e, start_r = _moment(start, ez, loc), _moment(start, rz, loc)
    end_e = _moment(end, ez, loc)
    same_zone = event_tz == recipient_tz or (
        start_e["offset"] == start_r["offset"] and start_e["zone"] == start_r["zone"]
    )
    rows = []
    for s_start, s_end in sessions:
        a, b = _moment(s_start, ez, loc), _moment(s_end, ez, loc)
        ra, rb = _moment(s_start, rz, loc), _moment(s_end, rz, loc)
        rows.append(
            {
                "date": a["short_date"],
                "start": a["time"],
                "end": b["time"],
                "local_start": ra["time"],
                "local_end": rb["time"],
                # the recipient's day is named only where it differs from the event's day
                "local_date": "" if ra["day"] == a["day"] else ra["short_date"],
            }
        )
    return {
        "start": start_e,
        "end": end_e,
        "start_local": start_r,
        "same_zone": same_zone,
        "same_day": start_e["day"] == end_e["day"],
        "session_rows": rows,
    }


# --- rendering ---------------------------------------------------------------------------


class _Lookup:
    """Looks values up in one letter language and notes each one printed in another."""

    def __init__(self, lang: str, fallbacks: list[Fallback]) -> None:
        self.lang = lang
        self.fallbacks = fallbacks

    def __call__(self, values: Localized, field: str) -> str:
        text = values.get(self.lang)
        if text or not values:  # an empty mapping is an empty value, not a missing translation
            return text or ""
        used = (
            FALLBACK_LANGUAGE
            if values.get(FALLBACK_LANGUAGE)
            else next((code for code, value in values.items() if value), self.lang)
        )
        self.fallbacks.append(Fallback(self.lang, field, used))
        return values.get(used, "")


def _version(
    inp: LetterInput,
    lang: str,
    *,
    is_primary: bool,
    fallbacks: list[Fallback],
    problems: list[str],
) -> dict[str, Any]:
    """The context of one language version of the letter."""
    r, h, e = inp.recipient, inp.host, inp.event
    region = _region(r.language) if is_primary else ""
    loc = _locale(lang, region)
    times = _times(
        loc,
        e.timezone,
        r.timezone,
        _aware(e.start, "event start"),
        _aware(e.end, "event end"),
        tuple((_aware(s.start, "session start"), _aware(s.end, "session end")) for s in e.sessions),
    )
    pick = _Lookup(lang, fallbacks)
    # In right-to-left letters every field in another script is a first-strong isolate, so
    # "57 Yunhe East Street" or "Beijing, 1" keep their order inside Arabic sentences; the
    # HTML layout turns the isolates into <bdi>.
    rtl = lang in RTL_LANGUAGES
    iso = _isolate if rtl else _same
    ltr = _ltr if rtl else _same

    name = _in_script(r.name, r.name_latin, lang)
    # the family name in the script of the name printed; "" lets address.py derive it
    is_native = bool(r.name) and name == r.name
    family_name = r.family_name if is_native else r.family_name_latin
    city = pick(r.city, "recipient.city")
    # The contact's title and office are recorded in their language: printed only in a version
    # in that language, else the rank names the office ("Mayor of Lyon" in zh: 里昂市长; a
    # Japanese 国際課長 is not Chinese although a Chinese reader reads its characters).
    own = letter_language(r.language)[0] == lang and _fits(r.title + r.office, lang)
    title = r.title if own else ""
    office = r.office if own else ""
    form = address.address_form(
        address.Addressee(
            lang=lang,
            rank=r.rank,
            gender=r.gender,
            name=iso(name),
            family_name=iso(family_name),
            honorific=r.honorific if _fits(r.honorific, lang) else "",
            title=iso(title),
            office=iso(office),
            city=iso(city),
            salutation_override=r.salutations.get(lang, ""),
        )
    )
    problems.extend(f"{lang}: {problem}" for problem in form.problems)

    signatory = choose_signatory(h, r.rank)
    practical = e.practical
    return {
        "lang": lang,
        "dir": "rtl" if rtl else "ltr",
        "is_primary": is_primary,
        "salutation": form.salutation,
        "addressee": list(form.block),
        "vocative": form.vocative,
        "recipient": {
            "name": iso(name),
            "family_name": iso(family_name),
            "title": iso(title or address.rank_title(r.rank, r.gender, lang, city)),
            "office": iso(office),
            "city": iso(city),
            "rank": r.rank,
            "gender": r.gender,
        },
        "host": {
            "office": iso(pick(h.names, "host.name")),
            "address": iso(pick(h.addresses, "host.address")),
            "city": iso(pick(h.city, "host.city")),
            "signatory": {
                "name": iso(_person_name(signatory.names, lang)),
                "title": iso(pick(signatory.titles, "host.signatory.title")),
            },
            "contact": {
                "name": iso(_person_name(h.contact.names, lang)),
                "title": iso(pick(h.contact.titles, "host.contact.title")),
            },
            "telephone": ltr(h.telephone.replace(" ", "\u00a0")),  # one line
            "email": ltr(h.email),
        },
        "event": {
            "title": _edition_title(pick(e.titles, "event.title"), e.edition, lang),
            "kind": e.kind,
            "venue": iso(pick(e.venues, "event.venue")),
            "venue_address": iso(pick(e.venue_addresses, "event.venue_address")),
            "sessions": [
                dict(
                    row,
                    # "09:00–12:00" would read "12:00–09:00" inside right-to-left text
                    span=ltr(f"{row['start']}–{row['end']}"),
                    local_span=ltr(f"{row['local_start']}–{row['local_end']}"),
                    title=iso(pick(s.titles, f"session[{i}].title")),
                    room=iso(pick(s.rooms, f"session[{i}].room")),
                )
                for i, (s, row) in enumerate(zip(e.sessions, times["session_rows"], strict=True))
            ],
            **times,
        },
        "practical": {
            "delegation_size": practical.delegation_size,
            "accommodation": iso(pick(practical.accommodation, "practical.accommodation")),
            "costs": iso(pick(practical.costs, "practical.costs")),
            "visa_support": practical.visa_support,
        },
        "friendship_year": friendship_year(inp.established_on, inp.precision, inp.letter_date),
        "letter_date": _long_date(inp.letter_date, loc),
        "letter_month": inp.letter_date.month,
        "rsvp_by": _long_date(inp.rsvp_by, loc) if inp.rsvp_by else "",
        "reference": ltr(format_reference(h, lang, inp.reference_year, inp.reference_number)),
        "encloses_programme": inp.encloses_programme,
    }


_LANGUAGES_BY_ENV: weakref.WeakKeyDictionary[Environment, frozenset[str]] = (
    weakref.WeakKeyDictionary()
)


def _available_languages(env: Environment) -> frozenset[str]:
    """Shipped languages plus any ``lang/<code>.txt.j2`` an organizer folder adds."""
    found = _LANGUAGES_BY_ENV.get(env)
    if found is None:
        names = env.list_templates(
            filter_func=lambda n: n.startswith("lang/") and n.endswith(".txt.j2")
        )
        found = frozenset(SHIPPED_LANGUAGES) | {n[5:-7] for n in names}
        _LANGUAGES_BY_ENV[env] = found
    return found


def render_letter(inp: LetterInput, *, env: Environment | None = None) -> RenderedLetter:
    """Render the letter for ``inp.recipient`` in their language (plus the host's if bilingual)."""
    if FALLBACK_LANGUAGE not in inp.event.titles:
        raise ValueError("event.titles must have an 'en' entry")
    env = env or make_environment()
    available = _available_languages(env)
    requested, lang, is_fallback = letter_language(inp.recipient.language, available)
    languages = [lang]
    if inp.is_bilingual:
        _, host_lang, _ = letter_language(inp.host.language, available)
        if host_lang != lang:
            languages.append(host_lang)
    fallbacks: list[Fallback] = []
    problems: list[str] = []
    versions = []
    for i, code in enumerate(languages):
        version = _version(inp, code, is_primary=i == 0, fallbacks=fallbacks, problems=problems)
        # The wording of each language is a template module: its top-level {% set %} values
        # (subject, salutation, paragraphs...) are placed by the layout templates.
        version["t"] = env.get_template(f"lang/{code}.txt.j2").make_module({"v": version})
        versions.append(version)
    context = {"versions": versions, "primary": versions[0]}
    fragment = env.get_template("fragment.html.j2").render(context)
    # the fragment comes from an autoescaping template, so it is already safe HTML
    page = env.get_template("letter.html.j2").render(context, fragment=Markup(fragment))  # noqa: S704
    text = env.get_template("letter.txt.j2").render(context)
    return RenderedLetter(
        language=lang,
        requested_language=requested,
        is_fallback=is_fallback,
        languages=tuple(languages),
        # a subject is one line of plain text: no isolates, which mail clients show as boxes
        subject=" ".join(str(versions[0]["t"].subject).translate(_BIDI_CONTROLS).split()),
        html=page,
        html_fragment=fragment,
        text=text,
        reference=versions[0]["reference"].translate(_BIDI_CONTROLS),
        fallbacks=tuple(dict.fromkeys(fallbacks)),
        problems=tuple(dict.fromkeys(problems)),
    )
