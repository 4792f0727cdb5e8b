"""The one i18n layer: tags to locales, catalogs complete for every language, one date style."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from flows.domain import i18n

ROOT = Path(__file__).resolve().parents[3]
MORNING = datetime(2029, 3, 14, 1, 0, 5, tzinfo=UTC)  # 09:00:05 in Beijing, 10:00:05 in Tokyo


#: each gettext domain and the mapping `pybabel extract -F` reads for it
DOMAINS = {i18n.DOMAIN: "babel.cfg", i18n.CALENDAR_DOMAIN: "babel-calendar.cfg"}


def _extracted(domain: str = i18n.DOMAIN) -> set[tuple[str | None, str]]:
    """(context, msgid) of every message `pybabel extract -F <mapping>` finds for ``domain``."""
    with (ROOT / DOMAINS[domain]).open() as fp:
        method_map, options_map = parse_mapping_cfg(fp)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.add((context, msgid))
    return found


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("zh", "zh_Hans_CN"),
        ("zh-TW", "zh_Hant_TW"),
        ("en", "en_GB"),
        ("en-US", "en_US"),
        ("pt", "pt_BR"),
        ("pt-PT", "pt_PT"),
        ("es", "es_ES"),
        ("fr", "fr_FR"),
        ("de", "de_DE"),
        ("ar", "ar"),
        ("ja", "ja_JP"),
        ("ko_KR", "ko_KR"),
    ],
)
def test_locale_for_region_defaults_and_region_in_tag_wins(tag: str, expected: str) -> None:
    assert str(i18n.locale_for(tag)) == expected


def test_locale_for_office_defaults_override() -> None:
    assert str(i18n.locale_for("en", region_defaults={"en": "en_US"})) == "en_US"


def test_locale_for_unknown_tag_raises() -> None:
    with pytest.raises(ValueError, match="no locale for language tag 'xx-yy'"):
        i18n.locale_for("xx-yy")


def test_primary_is_the_language_subtag() -> None:
    assert [i18n.primary(t) for t in ("zh-Hant-TW", "pt_BR", "EN")] == ["zh", "pt", "en"]


def test_format_date_one_style_per_language() -> None:
    day = date(2029, 3, 14)

    assert [i18n.format_date(day, lang) for lang in ("en", "zh", "ja")] == [
        "14 March 2029",
        "2029年3月14日",
        "2029年3月14日",
    ]


def test_format_time_and_span_never_show_seconds() -> None:
    end = MORNING.replace(hour=9)

    assert i18n.format_time(MORNING, "ja", tz="Asia/Tokyo") == "10:00"
    assert i18n.format_span(MORNING, end, "ja", tz="Asia/Tokyo") == (
        "2029年3月14日 10:00–18:00 (Asia/Tokyo)"
    )
    assert i18n.format_datetime(MORNING, "en", tz="Asia/Shanghai") == "14 March 2029, 09:00"


def test_format_date_range_in_the_long_style() -> None:
    a, b = date(2024, 9, 26), date(2024, 10, 2)

    assert i18n.format_date_range(a, b, "en") == "26 September\u2009–\u20092 October 2024"
    assert i18n.format_date_range(a, b, "ja") == "2024年9月26日～10月2日"


def test_place_name_registry_then_native_in_script_then_english() -> None:
    names = {"zh": "东京"}

    assert i18n.place_name(names, "zh", native="東京都", english="Tokyo") == "东京"
    assert i18n.place_name({}, "zh", native="東京都", english="Tokyo") == "東京都"
    assert i18n.place_name({}, "zh", native="서울", english="Seoul") == "Seoul"
    assert i18n.place_name({}, "de", native="Köln", english="Cologne") == "Köln"
    assert i18n.place_name({}, "en", native="Hà Nội", english="Hanoi") == "Hanoi"


def test_ngettext_by_the_language_plural_rules() -> None:
    one = i18n.ngettext("%(num)s partner city", "%(num)s partner cities", 1, "en")
    many = i18n.ngettext("%(num)s partner city", "%(num)s partner cities", 1200, "en")

    assert (one, many) == ("1 partner city", "1,200 partner cities")
    assert i18n.ngettext("%(num)s partner city", "%(num)s partner cities", 2, "zh") == "2个友好城市"


def test_environment_renders_in_the_template_language() -> None:
    env = i18n.make_environment(ROOT / "templates" / "reports")
    template = env.from_string('{{ _("Summary") }} · {{ day | date }} · {{ n | number(1) }}')

    assert [
        template.render(lang=lang, day=date(2029, 3, 14), n=1234.5) for lang in ("en", "zh")
    ] == [
        "Summary · 14 March 2029 · 1,234.5",
        "概要 · 2029年3月14日 · 1,234.5",
    ]


def test_environment_without_lang_stops_the_render() -> None:
    env = i18n.make_environment(ROOT / "templates" / "reports")

    with pytest.raises(LookupError, match="'lang'"):
        env.from_string('{{ _("Summary") }}').render()


def test_babel_cfg_finds_the_report_and_mail_templates() -> None:
    msgids = {msgid for _, msgid in _extracted()}

    assert {"Post-event report", "Other countries", "Update: %(title)s", "Dear %(name)s,"} <= msgids


@pytest.mark.parametrize("domain", DOMAINS)
def test_template_pot_is_current(domain: str) -> None:
    with (ROOT / "templates" / "locale" / f"{domain}.pot").open("rb") as fp:
        pot = {
            (m.context, m.id[0] if isinstance(m.id, tuple) else m.id) for m in read_po(fp) if m.id
        }

    assert pot == _extracted(domain)


@pytest.mark.parametrize(
    ("domain", "lang"),
    [(domain, lang) for domain in DOMAINS for lang in i18n.available_languages(domain=domain)],
)
def test_every_catalog_has_every_message_translated(domain: str, lang: str) -> None:
    path = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    messages = {
        (m.context, m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog if m.id
    }

    missing = _extracted(domain) - set(messages)
    untranslated = [
        key for key, m in messages.items()
        if not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]  # fmt: skip
    fuzzy = [key for key, m in messages.items() if m.fuzzy]
    assert (sorted(missing, key=str), untranslated, fuzzy) == ([], [], [])


def test_catalogs_cover_the_report_and_mail_languages() -> None:
    assert {"en", "zh", "ja"} <= set(i18n.available_languages())


def test_calendar_catalogs_cover_the_change_line_languages() -> None:
    assert set(i18n.available_languages(domain=i18n.CALENDAR_DOMAIN)) == {
        "ar", "de", "en", "es", "fr", "ja", "ko", "ru", "zh",
    }  # fmt: skip


def test_language_without_catalog_raises() -> None:
    with pytest.raises(LookupError, match="no catalog for language 'tlh'"):
        i18n.translations("tlh")
