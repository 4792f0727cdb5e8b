"""The one i18n layer: language tag → locale, gettext catalogs, the Jinja environment, formats.

Everything a person reads goes through here, so that a language looks the same in a letter,
an e-mail, a calendar text and a report:

- ``locale_for(tag)`` is the one rule from a BCP 47 tag to a Babel ``Locale`` (region defaults
  below; a region in the tag wins), parsed once per tag;
- ``translations(lang)`` reads ``templates/locale/<lang>/LC_MESSAGES/amity.po``; the
  ``calendar`` domain (``calendar.po``) holds the few lines calendars' change notes say, in
  more languages than the mails and reports are written in (each domain's catalogs are
  complete, so a language is offered where its whole domain is translated);
- ``make_environment(folder)`` is the one Jinja environment factory (``jinja2.ext.i18n`` with
  newstyle gettext; the language is the template's ``lang`` variable, so one environment
  serves every language and every thread);
- ``format_date`` / ``format_time`` / ``format_datetime`` / ``format_span`` / ``format_number``:
  ONE date style per language ("14 March 2029", "2029年3月14日"), times as ``HH:mm``.

Catalogs are compiled in memory from the ``.po`` files (``read_po`` + ``write_mo``, ~5 ms per
language, once per process) rather than committed as ``.mo``: translators edit the ``.po`` in
Poedit or Weblate and the change is live, with no build step to forget and no binary that can
go stale next to its source. ``tests/flows/domain/test_i18n.py`` checks every catalog against
what ``pybabel extract`` finds.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.core import get_global
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from flows.domain import scripts

__all__ = [
    "CALENDAR_DOMAIN",
    "DOMAIN",
    "LOCALE_DIR",
    "N_",
    "REGION_DEFAULTS",
    "available_languages",
    "format_date",
    "format_date_range",
    "format_datetime",
    "format_number",
    "format_percent",
    "format_span",
    "format_time",
    "gettext",
    "locale_for",
    "make_environment",
    "ngettext",
    "pgettext",
    "place_name",
    "primary",
    "sentence_separator",
    "text_direction",
    "translations",
    "writes_in_script",
]

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "templates" / "locale"
DOMAIN = "amity"
#: the lines saying what changed in a calendar (``babel-calendar.cfg``, ``calendar.pot``)
CALENDAR_DOMAIN = "calendar"
#: the language the msgids are written in
SOURCE_LANGUAGE = "en"

#: Language → locale when a tag names no region. Offices may pass their own (``region_defaults``),
#: e.g. ``{"en": "en_US"}``, or per contact ``pt-PT``: a region in the tag always wins.
REGION_DEFAULTS: Mapping[str, str] = {
    "zh": "zh_Hans_CN",
    "en": "en_GB",
    "pt": "pt_BR",
    "es": "es_ES",
    "fr": "fr_FR",
    "de": "de_DE",
    "ar": "ar",  # Modern Standard Arabic, no country's variant
}

#: One time pattern for every language: 24-hour clock, never seconds.
TIME_PATTERN = "HH:mm"
#: One date style for every language (CLDR "long": "14 March 2029", "2029年3月14日").
DATE_FORMAT = "long"

_RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "yi", "dv", "ug", "ckb", "sd"})


# --- tags and locales ----------------------------------------------------------------------


def primary(tag: str) -> str:
    """The primary language subtag, lower-cased: ``zh-Hant-TW`` → ``zh``, ``pt_BR`` → ``pt``."""
    return tag.replace("_", "-").split("-", 1)[0].strip().lower()


def locale_for(tag: str, *, region_defaults: Mapping[str, str] | None = None) -> Locale:
    """The Babel locale for a BCP 47 tag; raises ``ValueError`` for a tag Babel does not know.

    A region in the tag wins (``pt-PT``, ``zh-TW``, ``en-US``); otherwise ``region_defaults``
    (or ``REGION_DEFAULTS``) decides, then CLDR's likely subtags (``ja`` → ``ja_JP``).
    """
    defaults = REGION_DEFAULTS if region_defaults is None else region_defaults
    return _locale_for(tag, tuple(sorted(defaults.items())))


@cache
def _locale_for(tag: str, defaults: tuple[tuple[str, str], ...]) -> Locale:
    parts = [p for p in tag.replace("_", "-").strip().split("-") if p]
    if not parts:
        raise ValueError("empty language tag")
    lang = parts[0].lower()
    script = next((p.title() for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
    region = next(
        (
            p.upper()
            for p in parts[1:]
            if (len(p) == 2 and p.isalpha()) or (len(p) == 3 and p.isdigit())
        ),
        None,
    )
    try:
        if region is not None:
            return Locale.parse("_".join(p for p in (lang, script, region) if p))
        if script is None and lang in dict(defaults):
            return Locale.parse(dict(defaults)[lang])
        likely = get_global("likely_subtags").get(f"{lang}_{script}" if script else lang)
        if likely:
            return Locale.parse(likely)
        return Locale.parse("_".join(p for p in (lang, script) if p))
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"no locale for language tag {tag!r}: {exc}") from None


#: Languages that write sentences one after the other without a space.
_NO_SPACE_BETWEEN_SENTENCES = frozenset({"zh", "ja", "th", "lo", "my", "km"})


def sentence_separator(tag: str) -> str:
    """What goes between two sentences: a space, or nothing in Chinese, Japanese, Thai…"""
    return "" if primary(tag) in _NO_SPACE_BETWEEN_SENTENCES else " "


def text_direction(tag: str) -> str:
    """``rtl`` or ``ltr`` for the language of ``tag``."""
    return "rtl" if primary(tag) in _RTL_LANGUAGES else "ltr"


# --- scripts and place names -------------------------------------------------------------


def writes_in_script(text: str, lang: str) -> bool:
    """True when ``text`` has letters and all are in scripts readers of ``lang`` read
    (the one rule of flows.domain.scripts, which letters and forms of address use too)."""
    return bool(scripts.scripts(text)) and scripts.fits(text, primary(lang))


def place_name(names: Mapping[str, str], lang: str, *, native: str | None, english: str) -> str:
    """A place's name for a reader of ``lang``.

    The registry's form in that language (``names``, {lang: name}) first; else the native
    name when it is written in the reader's script (東京都 for a Chinese reader, Köln for a
    German one); else the English name (also for English readers: "Hanoi", not "Hà Nội").
    """
    lang = primary(lang)
    if names.get(lang):
        return names[lang]
    if lang != SOURCE_LANGUAGE and native and writes_in_script(native, lang):
        return native
    return names.get(SOURCE_LANGUAGE) or english


# --- catalogs ----------------------------------------------------------------------------


def N_(message: str) -> str:
    """Marks a message for ``pybabel extract`` where it is defined; translate it where used."""
    return message


def available_languages(locale_dir: Path = LOCALE_DIR, domain: str = DOMAIN) -> tuple[str, ...]:
    """The languages that have a catalog of ``domain``, sorted."""
    return _available_languages(locale_dir, domain)


@cache
def _available_languages(locale_dir: Path, domain: str) -> tuple[str, ...]:
    return tuple(
        sorted(p.parent.parent.name for p in locale_dir.glob(f"*/LC_MESSAGES/{domain}.po"))
    )


def translations(
    lang: str, locale_dir: Path = LOCALE_DIR, domain: str = DOMAIN
) -> NullTranslations:
    """The gettext catalog of ``lang`` (its primary subtag), compiled in memory once.

    English is the source language: without an ``en`` catalog the msgids are shown as they
    are. Any other language without a catalog raises ``LookupError``: a silent English
    fallback is what the catalogs are there to prevent.
    """
    return _translations(primary(lang), locale_dir, domain)


@cache
def _translations(lang: str, locale_dir: Path, domain: str = DOMAIN) -> NullTranslations:
    path = locale_dir / lang / "LC_MESSAGES" / f"{domain}.po"
    if not path.is_file():
        if lang == SOURCE_LANGUAGE:
            return NullTranslations()
        raise LookupError(f"no catalog for language {lang!r} (expected {path})")
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=lang, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=domain)


def gettext(message: str, lang: str, *, domain: str = DOMAIN, **variables: Any) -> str:
    """``message`` translated into ``lang``, with ``%(name)s`` placeholders filled in."""
    text = translations(lang, domain=domain).gettext(message)
    return text % variables if variables else text


def pgettext(context: str, message: str, lang: str, **variables: Any) -> str:
    """``message`` in ``context`` (a hint for translators) translated into ``lang``."""
    text = str(translations(lang).pgettext(context, message))
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, lang: str, **variables: Any) -> str:
    """The form of ``singular``/``plural`` for ``n`` by the language's plural rules.

    ``%(num)s`` is ``n`` formatted for the language unless ``num`` is passed.
    """
    text = translations(lang).ngettext(singular, plural, n)
    variables.setdefault("num", format_number(n, lang))
    return text % variables


# --- formats -----------------------------------------------------------------------------


def _zone(tz: tzinfo | str | None) -> tzinfo | None:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _as_date(value: date | datetime, tz: tzinfo | str | None) -> date:
    if isinstance(value, datetime):
        zone = _zone(tz)
        return (value.astimezone(zone) if zone is not None else value).date()
    return value


def format_date(value: date | datetime | None, lang: str, *, tz: tzinfo | str | None = None) -> str:
    """The date in the language's one style ("14 March 2029"); a datetime is shown in ``tz``."""
    if value is None:
        return "–"
    return babel_dates.format_date(_as_date(value, tz), DATE_FORMAT, locale=locale_for(lang))


def format_date_range(
    start: date | datetime, end: date | datetime, lang: str, *, tz: tzinfo | str | None = None
) -> str:
    """Two dates as one range in the same style as ``format_date``: "26–29 September 2024".

    CLDR's range patterns ("26–29 Sept 2024") use abbreviated months; the month is written
    as wide as the language's long date writes it: "September" in English; Chinese and
    Japanese abbreviated months ("9月") already are their long form.
    """
    a, b = _as_date(start, tz), _as_date(end, tz)
    if a == b:
        return format_date(a, lang)
    locale = locale_for(lang)
    field = "y" if a.year != b.year else "M" if a.month != b.month else "d"
    parts = locale.interval_formats.get("yMMMd", {}).get(field)
    if not parts:
        return f"{format_date(a, lang)} – {format_date(b, lang)}"
    if re.search(r"MMMM|LLLL", str(locale.date_formats[DATE_FORMAT].pattern)):
        parts = [re.sub(r"(?<![ML])(M{3}|L{3})(?![ML])", "MMMM", part) for part in parts]
    first, second = parts
    return babel_dates.format_date(a, first, locale=locale) + babel_dates.format_date(
        b, second, locale=locale
    )


def format_time(value: datetime, lang: str, *, tz: tzinfo | str | None = None) -> str:
    """The time as ``HH:mm`` in ``tz`` (never seconds)."""
    return babel_dates.format_time(value, TIME_PATTERN, tzinfo=_zone(tz), locale=locale_for(lang))


def format_datetime(value: datetime, lang: str, *, tz: tzinfo | str | None = None) -> str:
    """Date and time joined the language's way: "14 March 2029, 09:00", "2029年3月14日 09:00"."""
    pattern = str(locale_for(lang).datetime_formats["medium"])
    return pattern.replace("{1}", format_date(value, lang, tz=tz)).replace(
        "{0}", format_time(value, lang, tz=tz)
    )


def format_span(start: datetime, end: datetime, lang: str, *, tz: tzinfo | str) -> str:
    """When an event runs, in ``tz``, with the zone's name: "14 March 2029, 09:00–17:00 (Asia/Tokyo)"."""
    zone_name = tz if isinstance(tz, str) else str(tz)
    if _as_date(start, tz) == _as_date(end, tz):
        shown = f"{format_datetime(start, lang, tz=tz)}–{format_time(end, lang, tz=tz)}"
    else:
        shown = f"{format_datetime(start, lang, tz=tz)} – {format_datetime(end, lang, tz=tz)}"
    return f"{shown} ({zone_name})"


def format_number(value: float, lang: str, digits: int = 0) -> str:
    """A number with the language's separators and ``digits`` decimals."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=locale_for(lang))


def format_percent(part: float, whole: float, lang: str) -> str:
    """``part`` of ``whole`` as a whole percentage in the language's style; "–" when whole is 0."""
    if not whole:
        return "–"
    return babel_numbers.format_percent(part / whole, format="#,##0%", locale=locale_for(lang))


# --- the Jinja environment ---------------------------------------------------------------


def _lang_of(context: Context, lang: str | None) -> str:
    if lang is not None:
        return lang
    value = context.get("lang")
    if not isinstance(value, str):
        raise LookupError("the template needs a 'lang' variable (the reader's language)")
    return value


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(_lang_of(context, None)).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(_lang_of(context, None)).ngettext(singular, plural, n)


@pass_context
def _pgettext(context: Context, ctxt: str, message: str) -> str:
    return str(translations(_lang_of(context, None)).pgettext(ctxt, message))


@pass_context
def _npgettext(context: Context, ctxt: str, singular: str, plural: str, n: int) -> str:
    return translations(_lang_of(context, None)).npgettext(ctxt, singular, plural, n)


def _filter(func: Callable[..., str]) -> Callable[..., str]:
    @pass_context
    def jinja_filter(
        context: Context, value: Any, *args: Any, lang: str | None = None, **kw: Any
    ) -> str:
        return func(value, _lang_of(context, lang), *args, **kw)

    jinja_filter.__name__ = func.__name__
    return jinja_filter


def make_environment(
    folder: Path,
    *,
    sandbox_dir: Path | None = None,
    trim_blocks: bool = True,
) -> Environment:
    """The Jinja environment for the templates in ``folder`` (one per folder, cached).

    Autoescape for HTML/XML/SVG (also ``*.html.j2``), ``StrictUndefined`` so a missing field
    stops the run before anything is sent, trailing newlines kept, ``jinja2.ext.i18n`` with
    newstyle gettext (``_()``, ``ngettext()``, ``{% trans %}``) reading the catalog of the
    template's ``lang`` variable, and the filters ``date``, ``time``, ``datetime``, ``number``
    (``{{ d | date }}``, ``{{ n | number(1) }}``; ``lang=`` overrides the template's language).
    With ``sandbox_dir``, templates there (organizers' own) override those of ``folder`` and
    everything renders in a ``SandboxedEnvironment``.
    """
    return _make_environment(folder.resolve(), sandbox_dir and sandbox_dir.resolve(), trim_blocks)


@cache
def _make_environment(folder: Path, sandbox_dir: Path | None, trim_blocks: bool) -> Environment:
    loader: FileSystemLoader | ChoiceLoader = FileSystemLoader(folder)
    cls = Environment
    if sandbox_dir is not None:
        loader = ChoiceLoader([FileSystemLoader(sandbox_dir), loader])
        cls = SandboxedEnvironment
    env = cls(
        loader=loader,
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "svg", "html.j2"),
            default_for_string=False,
        ),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=trim_blocks,
        lstrip_blocks=trim_blocks,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )
    env.globals["sentence_separator"] = sentence_separator
    env.globals["text_direction"] = text_direction
    env.filters["date"] = _filter(format_date)
    env.filters["time"] = _filter(format_time)
    env.filters["datetime"] = _filter(format_datetime)
    env.filters["number"] = _filter(format_number)
    return env
