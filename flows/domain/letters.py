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
import unicodedata
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
from markupsafe import Markup

Precision = Literal["day", "month", "year", "unknown"]

#: Languages with a shipped letter; anything else gets the English letter (is_fallback=True).
SHIPPED_LANGUAGES: tuple[str, ...] = ("zh", "en", "ja", "ko", "es", "fr", "de", "ru", "ar")
FALLBACK_LANGUAGE = "en"
RTL_LANGUAGES = frozenset({"ar"})

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "letters"

# Scripts a reader of each language reads natively: a native-script name is used in a
# letter only when all its letters are in these scripts (東京都 in a zh letter, Tokyo in de).
_LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    "zh": frozenset({"Han"}),
    "ja": frozenset({"Han", "Kana"}),
    "ko": frozenset({"Hangul"}),  # Hanja is rare in modern Korean: 北京 becomes "Beijing"
    "ru": frozenset({"Cyrillic"}),
    "ar": frozenset({"Arabic"}),
    "en": frozenset({"Latin"}),
    "es": frozenset({"Latin"}),
    "fr": frozenset({"Latin"}),
    "de": frozenset({"Latin"}),
}


@dataclass(frozen=True)
class Recipient:
    """The partner contact the letter is addressed to."""

    name: str  #: in the native script (小池百合子)
    name_latin: str  #: in Latin script (Yuriko Koike)
    title: str  #: as the contact's records give it (東京都知事, Mayor of Lyon)
    honorific: str  #: given data, never guessed (Ms., Frau, господин, 様); may be ""
    office: str
    city: str  #: Latin/English name
    city_native: str
    timezone: str  #: IANA zone
    language: str  #: BCP 47 tag of the preferred language


@dataclass(frozen=True)
class Host:
    """The inviting office (the home city)."""

    office: str  #: in the host language
    office_en: str
    address: str  #: postal address in the host language
    city: str
    city_native: str
    language: str  #: e.g. "zh"
    signatory_name: str  #: in the host language's script
    signatory_title: str  #: in the host language
    signatory_name_latin: str = ""
    signatory_title_en: str = ""
    address_en: str = ""


@dataclass(frozen=True)
class Session:
    """One agenda item; times are UTC-aware."""

    title: str
    start: datetime
    end: datetime
    room: str = ""
    #: optional per-language titles; ``title`` is used for languages not listed
    titles: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EventInfo:
    """The event; ``titles`` (lang -> name, "en" required) exclude the edition number."""

    titles: Mapping[str, str]
    kind: str
    series: str | None
    edition: int | None
    venue: str
    venue_address: str
    timezone: str
    start: datetime
    end: datetime
    sessions: tuple[Session, ...] = ()


@dataclass(frozen=True)
class LetterInput:
    recipient: Recipient
    host: Host
    event: EventInfo
    letter_date: date
    reference: str
    is_bilingual: bool = False
    established_on: date | None = None
    precision: Precision = "unknown"
    rsvp_by: date | None = None


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


# --- environment -------------------------------------------------------------------------


def _configure(env: Environment) -> Environment:
    env.filters["en_ordinal"] = en_ordinal
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


def event_title(event: EventInfo, lang: str) -> str:
    """The event's name in ``lang`` with its edition, worded as that language does."""
    title = event.titles.get(lang) or event.titles[FALLBACK_LANGUAGE]
    n = event.edition
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


def _script(ch: str) -> str | None:
    if not (unicodedata.category(ch).startswith("L") or ch in "々〆・ー"):
        return None
    name = unicodedata.name(ch, "")
    if name.startswith(("CJK", "IDEOGRAPHIC")):
        return "Han"
    if name.startswith(("HIRAGANA", "KATAKANA")):
        return "Kana"
    return name.split(" ", 1)[0].capitalize() or None


@functools.lru_cache(maxsize=4096)
def _scripts(text: str) -> frozenset[str]:
    return frozenset(s for s in map(_script, text) if s)


def _fits(text: str, lang: str) -> bool:
    return _scripts(text) <= _LANGUAGE_SCRIPTS.get(lang, frozenset({"Latin"}))


def _same(text: str) -> str:
    return text


def _isolate(text: str) -> str:
    """Wrap text that is not purely Arabic in FSI…PDI (Unicode bidi isolation)."""
    if not text or _scripts(text) <= {"Arabic"}:
        return text
    return f"\u2068{text}\u2069"


def _in_script(native: str, fallback: str, lang: str) -> str:
    """``native`` when a reader of ``lang`` reads its script, else ``fallback`` (if any)."""
    if native and _fits(native, lang):
        return native
    return fallback or native


def letter_language(
    tag: str, available: frozenset[str] | tuple[str, ...] = SHIPPED_LANGUAGES
) -> tuple[str, str, bool]:
    """(requested primary subtag, language used, is_fallback) for a BCP 47 tag."""
    requested = tag.replace("_", "-").split("-", 1)[0].lower()
    if requested in available:
        return requested, requested, False
    return requested, FALLBACK_LANGUAGE, True


@functools.lru_cache(maxsize=64)
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


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
    lang: str,
    event_tz: str,
    recipient_tz: str,
    start: datetime,
    end: datetime,
    sessions: tuple[tuple[datetime, datetime], ...],
) -> dict[str, Any]:
    """Every locale-dependent time string of one letter; shared by all letters alike."""
    loc = _locale(lang)
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


def _version(inp: LetterInput, lang: str, *, is_primary: bool) -> dict[str, Any]:
    """The context of one language version of the letter."""
    r, h, e = inp.recipient, inp.host, inp.event
    loc = _locale(lang)
    times = _times(
        lang,
        e.timezone,
        r.timezone,
        _aware(e.start, "event start"),
        _aware(e.end, "event end"),
        tuple((_aware(s.start, "session start"), _aware(s.end, "session end")) for s in e.sessions),
    )
    is_host_lang = lang == h.language
    # In right-to-left letters every field in another script is a first-strong isolate, so
    # "57 Yunhe East Street" or "Beijing, 1" keep their order inside Arabic sentences.
    iso = _isolate if lang in RTL_LANGUAGES else _same
    return {
        "lang": lang,
        "dir": "rtl" if lang in RTL_LANGUAGES else "ltr",
        "is_primary": is_primary,
        "recipient": {
            "name": iso(_in_script(r.name, r.name_latin, lang)),
            # honorific, title and office as given, for the address block; the *_fit forms
            # are "" when their script is foreign to the letter language, so that a salutation
            # never reads "Dear господин …" or "尊敬的 … Maire de Lyon".
            "honorific": iso(r.honorific.strip()),
            "title": iso(r.title),
            "office": iso(r.office),
            "honorific_fit": r.honorific.strip() if _fits(r.honorific, lang) else "",
            "title_fit": r.title if _fits(r.title, lang) else "",
            "office_fit": r.office if _fits(r.office, lang) else "",
            "city": iso(_in_script(r.city_native, r.city, lang)),
        },
        "host": {
            "office": iso(h.office if is_host_lang else _in_script(h.office, h.office_en, lang)),
            "address": iso(
                h.address if is_host_lang else _in_script(h.address, h.address_en, lang)
            ),
            "city": iso(_in_script(h.city_native, h.city, lang)),
            "signatory_name": iso(_in_script(h.signatory_name, h.signatory_name_latin, lang)),
            "signatory_title": iso(
                h.signatory_title
                if is_host_lang
                else _in_script(h.signatory_title, h.signatory_title_en, lang)
            ),
        },
        "event": {
            "title": event_title(e, lang),
            "kind": e.kind,
            "venue": iso(e.venue),
            "venue_address": iso(e.venue_address),
            "sessions": [
                dict(row, title=iso(s.titles.get(lang) or s.title), room=iso(s.room))
                for s, row in zip(e.sessions, times["session_rows"], strict=True)
            ],
            **times,
        },
        "friendship_year": friendship_year(inp.established_on, inp.precision, inp.letter_date),
        "letter_date": format_date(inp.letter_date, "long", locale=loc),
        "letter_month": inp.letter_date.month,
        "rsvp_by": format_date(inp.rsvp_by, "long", locale=loc) if inp.rsvp_by else "",
        "reference": iso(inp.reference),
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
    versions = []
    for i, code in enumerate(languages):
        version = _version(inp, code, is_primary=i == 0)
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
        subject=" ".join(str(versions[0]["t"].subject).split()),
        html=page,
        html_fragment=fragment,
        text=text,
    )
