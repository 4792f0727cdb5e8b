"""Invitation letters: golden files per language and rank, fallbacks, references, layout, safety."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from flows.domain.letters import (
    TEMPLATE_DIR,
    Fallback,
    Practical,
    RenderedLetter,
    choose_signatory,
    event_title,
    format_reference,
    friendship_year,
    make_environment,
    render_letter,
)
from tests.flows.domain.letter_fixtures import (
    EVENT,
    HOST,
    letter_input,
    with_event,
    with_recipient,
)

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "letters"
UPDATE = os.environ.get("AMITY_UPDATE_GOLDEN") == "1"


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    expected = path.read_bytes().decode("utf-8")  # bytes: byte-exact, no newline translation
    assert actual == expected, f"{name} differs from its golden file (AMITY_UPDATE_GOLDEN=1)"


# --- golden files ------------------------------------------------------------------------

#: the nine languages this module writes; the others' templates bring their own goldens
CORE_LANGUAGES = ("zh", "en", "ja", "ko", "es", "fr", "de", "ru", "ar")


def check_letter(name: str, letter: RenderedLetter) -> None:
    check_golden(f"{name}.txt", f"Subject: {letter.subject}\n\n{letter.text}")
    check_golden(f"{name}.html", letter.html_fragment)


@pytest.mark.parametrize("key", [*CORE_LANGUAGES, *(f"{lang}-official" for lang in CORE_LANGUAGES)])
def test_render_letter_matches_golden_per_language_and_rank(key: str) -> None:
    letter = render_letter(letter_input(key))

    check_letter(key, letter)
    lang = key.split("-")[0]
    assert (letter.language, letter.is_fallback, letter.languages) == (lang, False, (lang,))
    assert letter.fallbacks == ()


@pytest.mark.parametrize("lang", [lang for lang in CORE_LANGUAGES if lang != "zh"])
def test_render_letter_bilingual_with_chinese_matches_golden(lang: str) -> None:
    letter = render_letter(letter_input(lang, is_bilingual=True))

    check_letter(f"{lang}-zh", letter)
    assert letter.languages == (lang, "zh")
    assert letter.html.count("<article ") == 2


def test_render_letter_page_matches_golden() -> None:
    check_golden("page.html", render_letter(letter_input("fr")).html)


# --- language choice ---------------------------------------------------------------------


def test_render_letter_unshipped_language_falls_back_to_english() -> None:
    letter = render_letter(letter_input("el"))

    assert (letter.requested_language, letter.language, letter.is_fallback) == ("el", "en", True)
    assert (
        letter.subject
        == "Invitation to the 2027 Beijing International Friendship Cities Conference"
    )
    assert letter.html.startswith('<!DOCTYPE html>\n<html lang="en" dir="ltr">')


def test_render_letter_region_subtag_uses_the_language() -> None:
    letter = render_letter(with_recipient(letter_input("zh"), language="zh-Hans-CN"))

    assert (letter.language, letter.is_fallback) == ("zh", False)


def test_render_letter_english_dates_are_british_whatever_the_region() -> None:
    letter = render_letter(letter_input("en-official"))  # en-US

    assert "Beijing, 10 May 2027\n" in letter.text
    assert "by 31 July 2027," in letter.text


def test_render_letter_bilingual_same_language_as_host_has_one_version() -> None:
    letter = render_letter(letter_input("zh", is_bilingual=True))

    assert letter.languages == ("zh",)
    assert letter.html.count("<article ") == 1


def test_render_letter_bilingual_fallback_adds_host_language() -> None:
    letter = render_letter(letter_input("el", is_bilingual=True))

    assert (letter.languages, letter.is_fallback) == (("en", "zh"), True)


def test_render_letter_arabic_is_right_to_left_with_latin_runs_isolated() -> None:
    letter = render_letter(letter_input("ar"))

    assert letter.html.startswith('<!DOCTYPE html>\n<html lang="ar" dir="rtl">')
    assert '<article class="letter" lang="ar" dir="rtl">' in letter.html
    assert '<bdi dir="ltr">\u2066fao@beijing.example.org\u2069</bdi>' in letter.html
    assert '<bdi dir="ltr">\u206609:00–12:00\u2069</bdi>' in letter.html
    assert "\u2066+86\u00a010\u00a05555\u00a00142\u2069" in letter.text
    assert letter.subject == "دعوة: مؤتمر بكين الدولي للمدن الصديقة 2027"


# --- every word in the reader's language -------------------------------------------------


def test_render_letter_missing_venue_translation_is_a_fallback() -> None:
    venues = {k: v for k, v in EVENT.venues.items() if k != "de"}
    letter = render_letter(with_event(letter_input("de"), venues=venues))

    assert letter.fallbacks == (Fallback(language="de", field="event.venue", used="en"),)
    assert "Veranstaltungsort: China National Convention Center," in letter.text


def test_render_letter_missing_values_name_each_field_and_version() -> None:
    sessions = (
        EVENT.sessions[0],
        dataclasses.replace(EVENT.sessions[1], rooms={"en": "Room 301"}),
        *EVENT.sessions[2:],
    )
    titles = {k: v for k, v in EVENT.titles.items() if k != "zh"}
    inp = with_event(letter_input("ko", is_bilingual=True), sessions=sessions, titles=titles)

    letter = render_letter(inp)

    assert letter.fallbacks == (
        Fallback("ko", "session[1].room", "en"),
        Fallback("zh", "event.title", "en"),
        Fallback("zh", "session[1].room", "en"),
    )


@pytest.mark.parametrize("lang", ["ru", "fr", "ko"])
def test_render_letter_translated_office_prints_no_latin_office_name(lang: str) -> None:
    letter = render_letter(letter_input(lang))

    assert "Foreign Affairs Office" not in letter.text
    assert "Foreign Affairs Office" not in letter.html
    assert HOST.names[lang] in letter.text


def test_render_letter_signatory_follows_the_addressee_rank() -> None:
    to_mayor = render_letter(letter_input("en"))
    to_director = render_letter(letter_input("en-official"))

    assert "Yours sincerely,\n\nChen Ming\nVice Mayor of Beijing\n" in to_mayor.text
    assert "Yours sincerely,\n\nLi Hua\nDirector-General, Foreign Affairs" in to_director.text


def test_choose_signatory_without_match_takes_the_one_for_everyone_else() -> None:
    assert choose_signatory(HOST, "governor").names["en"] == "Chen Ming"
    assert choose_signatory(HOST, "minister").names["en"] == "Li Hua"
    assert choose_signatory(HOST, "").names["en"] == "Li Hua"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh", "京外办函〔2027〕23号"), ("en", "BJFAO/2027/0023"), ("ja", "BJFAO/2027/0023")],
)
def test_format_reference_per_language(lang: str, expected: str) -> None:
    assert format_reference(HOST, lang, 2027, 23) == expected


def test_render_letter_prints_the_reference_in_the_reference_line_and_rsvp() -> None:
    letter = render_letter(letter_input("zh"))

    assert letter.reference == "京外办函〔2027〕23号"
    assert "\n\n京外办函〔2027〕23号\n" in letter.text
    assert "并注明编号京外办函〔2027〕23号。" in letter.text


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("en", "Enclosure: programme"),
        ("fr", "P.\u00a0J.\u00a0: programme"),
        ("de", "Anlage: Programm"),
        ("ru", "Приложение: программа мероприятия."),
        ("zh", "附件：日程安排"),
        ("ja", "添付資料：プログラム"),
        ("ko", "붙임: 행사 프로그램 1부."),
        ("es", "Anexo: programa"),
        ("ar", "المرفقات: البرنامج"),
    ],
)
def test_render_letter_enclosure_line_only_with_the_programme(lang: str, line: str) -> None:
    with_programme = render_letter(letter_input(lang))
    without = render_letter(letter_input(lang, encloses_programme=False))

    assert f'<p class="enclosure">{line}</p>' in with_programme.html_fragment.replace(
        '<span class="w">', ""
    ).replace("</span>", "")
    assert (line in with_programme.text, line in without.text) == (True, False)


def test_render_letter_says_how_to_reply_and_whom_to_ask() -> None:
    letter = render_letter(letter_input("en"))

    assert (
        "quoting the reference BJFAO/2027/0023, by replying to fao@beijing.example.org or by "
        "accepting or declining the calendar invitation sent with this letter."
    ) in letter.text
    assert (
        "please contact Wang Fang, Protocol Division, by telephone on "
        "+86\u00a010\u00a05555\u00a00142 or by e-mail at fao@beijing.example.org."
    ) in letter.text


def test_render_letter_practical_details_in_the_letter_language() -> None:
    letter = render_letter(letter_input("fr"))

    assert "Nous serons heureux d’accueillir une délégation de 3 personnes au plus." in letter.text
    assert EVENT.practical.accommodation["fr"] in letter.text
    assert "Des lettres d’invitation destinées à l’obtention des visas" in letter.text


def test_render_letter_without_practical_details_leaves_the_paragraph_out() -> None:
    letter = render_letter(with_event(letter_input("en"), practical=Practical()))

    assert "delegation" not in letter.text
    assert letter.fallbacks == ()


def test_render_letter_keeps_the_sign_off_together() -> None:
    fragment = render_letter(letter_input("de")).html_fragment

    sign_off = fragment.split('<div class="sign-off">', 1)[1].split("</div>", 1)[0]
    assert sign_off.startswith("\n<p>Wir freuen uns sehr darauf, Sie begrüßen zu dürfen.</p>")
    assert '<p class="signature">' in sign_off


# --- wording -----------------------------------------------------------------------------


def test_render_letter_japanese_greeting_and_friendship_year() -> None:
    letter = render_letter(letter_input("ja"))

    assert "拝啓　新緑の候、" in letter.text  # May
    assert "本年、北京と東京都は友好都市として49年目を迎えております。" in letter.text


def test_render_letter_shows_event_zone_and_recipient_zone() -> None:
    letter = render_letter(letter_input("en-official"))

    expected = (
        "The opening session begins on Tuesday, 14 September 2027 at 09:00 China Standard Time "
        "(UTC+08:00), which is 21:00 on Monday, 13 September 2027 in New York City "
        "(Eastern Daylight Time, UTC-04:00)."
    )
    assert expected in letter.text
    assert "<th>Your time (Eastern Daylight Time)</th>" in letter.html


def test_render_letter_same_zone_shows_one_time() -> None:
    letter = render_letter(letter_input("zh"))  # Tianjin shares Beijing's zone

    assert "开幕时间为2027年9月14日星期二09:00（中国标准时间，UTC+08:00）。" in letter.text
    assert "当地时间" not in letter.text


def test_render_letter_unknown_tie_date_omits_friendship_year() -> None:
    letter = render_letter(letter_input("en", precision="unknown"))

    assert "year of their friendship" not in letter.text


def test_render_letter_month_precision_still_counts_years() -> None:
    letter = render_letter(letter_input("en", established_on=date(1980, 10, 1), precision="month"))

    assert "share the 47th year of their friendship" in letter.text


def test_render_letter_html_in_fields_is_shown_as_text() -> None:
    inp = with_recipient(
        letter_input("en"),
        name="<script>alert(1)</script>",
        name_latin="<script>alert(1)</script>",
        office='Office & "Partners" <b>',
    )

    letter = render_letter(inp)

    assert "<script>" not in letter.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in letter.html
    assert "Office &amp; &#34;Partners&#34; &lt;b&gt;" in letter.html


def test_render_letter_naive_datetime_is_refused() -> None:
    event = dataclasses.replace(EVENT, start=datetime(2027, 9, 14, 9, 0))

    with pytest.raises(ValueError, match="timezone-aware"):
        render_letter(letter_input("en", event=event))


def test_render_letter_without_english_title_is_refused() -> None:
    event = dataclasses.replace(EVENT, titles={"zh": "北京国际友好城市大会"})

    with pytest.raises(ValueError, match="'en' entry"):
        render_letter(letter_input("zh", event=event))


# --- numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "12th Beijing–Tokyo Urban Symposium"),
        ("zh", "第十二届北京—东京城市论坛"),
        ("ja", "第12回北京・東京都市シンポジウム"),
        ("ko", "제12회 베이징·도쿄 도시 심포지엄"),
        ("fr", "Symposium urbain Pékin-Tokyo (12e édition)"),
        ("de", "12. Stadtsymposium Peking–Tokio"),
        ("ru", "XII Городской симпозиум Пекин — Токио"),
        ("pt", "12th Beijing–Tokyo Urban Symposium"),  # no Portuguese title: the English one
    ],
)
def test_event_title_words_the_edition_per_language(lang: str, expected: str) -> None:
    titles = {
        "en": "Beijing–Tokyo Urban Symposium",
        "zh": "北京—东京城市论坛",
        "ja": "北京・東京都市シンポジウム",
        "ko": "베이징·도쿄 도시 심포지엄",
        "fr": "Symposium urbain Pékin-Tokyo",
        "de": "Stadtsymposium Peking–Tokio",
        "ru": "Городской симпозиум Пекин — Токио",
    }
    event = dataclasses.replace(EVENT, titles=titles, edition=12)

    assert event_title(event, lang) == expected


@pytest.mark.parametrize(
    ("established", "precision", "on", "expected"),
    [
        (date(1979, 3, 14), "day", date(2025, 3, 13), 46),
        (date(1979, 3, 14), "day", date(2025, 3, 14), 47),
        (date(1979, 3, 14), "day", date(1979, 3, 14), 1),
        (date(1979, 3, 14), "day", date(1979, 3, 13), None),
        (date(1980, 10, 1), "month", date(2025, 9, 30), 45),
        (date(1980, 10, 1), "month", date(2025, 10, 1), 46),
        (date(2005, 1, 1), "year", date(2025, 1, 1), 21),
        (date(2005, 1, 1), "year", date(2005, 12, 31), 1),
        (date(2004, 2, 29), "day", date(2025, 2, 28), 21),
        (date(2004, 2, 29), "day", date(2025, 3, 1), 22),
        (date(1979, 3, 14), "unknown", date(2025, 3, 14), None),
        (None, "day", date(2025, 3, 14), None),
    ],
)
def test_friendship_year_counts_from_the_first_year(
    established: date | None, precision: str, on: date, expected: int | None
) -> None:
    assert friendship_year(established, precision, on) == expected


# --- environment -------------------------------------------------------------------------


def test_make_environment_is_cached_and_strict() -> None:
    env = make_environment()

    assert make_environment() is env
    assert make_environment(None) is env
    assert not isinstance(env, SandboxedEnvironment)
    with pytest.raises(UndefinedError):
        env.from_string("{{ missing }}").render()


def test_make_environment_organizer_folder_is_sandboxed(tmp_path: Path) -> None:
    (tmp_path / "probe.html.j2").write_text("{{ ''.__class__.__mro__ }}", encoding="utf-8")
    env = make_environment(tmp_path)

    assert isinstance(env, SandboxedEnvironment)
    assert make_environment(tmp_path) is env
    with pytest.raises(SecurityError):
        env.get_template("probe.html.j2").render()


def test_render_letter_organizer_template_cannot_reach_python_internals(tmp_path: Path) -> None:
    (tmp_path / "lang").mkdir()
    hostile = (TEMPLATE_DIR / "lang" / "en.txt.j2").read_text(encoding="utf-8")
    hostile += "{%- set subject = v.__class__.__mro__[1].__subclasses__() -%}\n"
    (tmp_path / "lang" / "en.txt.j2").write_text(hostile, encoding="utf-8")

    with pytest.raises(SecurityError):
        render_letter(letter_input("en"), env=make_environment(tmp_path))


def test_render_letter_organizer_folder_adds_a_language(tmp_path: Path) -> None:
    (tmp_path / "lang").mkdir()
    english = (TEMPLATE_DIR / "lang" / "en.txt.j2").read_text(encoding="utf-8")
    greek = english.replace('"Invitation to the "', '"Πρόσκληση: "')
    (tmp_path / "lang" / "el.txt.j2").write_text(greek, encoding="utf-8")
    inp = with_recipient(letter_input("en"), language="el-GR")

    letter = render_letter(inp, env=make_environment(tmp_path))

    assert (letter.language, letter.is_fallback) == ("el", False)
    assert letter.subject == "Πρόσκληση: 2027 Beijing International Friendship Cities Conference"


def test_render_letter_organizer_template_missing_field_stops(tmp_path: Path) -> None:
    (tmp_path / "lang").mkdir()
    english = (TEMPLATE_DIR / "lang" / "en.txt.j2").read_text(encoding="utf-8")
    (tmp_path / "lang" / "en.txt.j2").write_text(
        english + "{%- set subject = subject ~ v.recipient.fax -%}\n", encoding="utf-8"
    )

    with pytest.raises(UndefinedError, match="fax"):
        render_letter(letter_input("en"), env=make_environment(tmp_path))


def test_letters_and_pdf_import_no_prefect_or_sqlalchemy() -> None:
    code = (
        "import sys, flows.domain.letters, flows.domain.pdf; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'sqlalchemy', 'db'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"


def test_render_letter_reports_forms_of_address_the_data_cannot_make() -> None:
    inp = with_recipient(letter_input("fr", is_bilingual=True), gender="", honorific="")

    letter = render_letter(inp)

    assert letter.problems
    assert all(p.startswith("fr: ") for p in letter.problems)
    assert len(set(letter.problems)) == len(letter.problems)
