"""Invitation letters: golden files per language, fallback, salutations, time zones, safety."""

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
    SHIPPED_LANGUAGES,
    TEMPLATE_DIR,
    event_title,
    friendship_year,
    make_environment,
    render_letter,
)
from tests.flows.domain.letter_fixtures import EVENT, HOST, letter_input, with_recipient

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


@pytest.mark.parametrize("lang", SHIPPED_LANGUAGES)
def test_render_letter_matches_golden_per_language(lang: str) -> None:
    letter = render_letter(letter_input(lang))

    check_golden(f"{lang}.html", letter.html)
    check_golden(f"{lang}.txt", f"Subject: {letter.subject}\n\n{letter.text}")
    assert (letter.language, letter.is_fallback, letter.languages) == (lang, False, (lang,))


def test_render_letter_bilingual_ja_zh_matches_golden() -> None:
    letter = render_letter(letter_input("ja", is_bilingual=True))

    check_golden("ja-zh.html", letter.html)
    check_golden("ja-zh.txt", f"Subject: {letter.subject}\n\n{letter.text}")
    assert letter.languages == ("ja", "zh")
    assert letter.html.count("<article ") == 2


# --- language choice ---------------------------------------------------------------------


def test_render_letter_unshipped_language_falls_back_to_english() -> None:
    letter = render_letter(letter_input("sr"))

    assert (letter.requested_language, letter.language, letter.is_fallback) == ("sr", "en", True)
    assert letter.subject == "Invitation to the 12th Beijing–Tokyo Urban Symposium"
    assert letter.html.startswith('<!DOCTYPE html>\n<html lang="en" dir="ltr">')
    # the Serbian honorific is foreign to an English sentence: it stays out of the salutation
    assert "Dear Marko Jovanović," in letter.text


def test_render_letter_region_subtag_uses_the_language() -> None:
    letter = render_letter(with_recipient(letter_input("zh"), language="zh-Hans-CN"))

    assert (letter.language, letter.is_fallback) == ("zh", False)


def test_render_letter_bilingual_same_language_as_host_has_one_version() -> None:
    letter = render_letter(letter_input("zh", is_bilingual=True))

    assert letter.languages == ("zh",)
    assert letter.html.count("<article ") == 1


def test_render_letter_bilingual_fallback_adds_host_language() -> None:
    letter = render_letter(letter_input("sr", is_bilingual=True))

    assert (letter.languages, letter.is_fallback) == (("en", "zh"), True)


def test_render_letter_arabic_is_right_to_left() -> None:
    letter = render_letter(letter_input("ar"))

    assert letter.html.startswith('<!DOCTYPE html>\n<html lang="ar" dir="rtl">')
    assert '<article class="letter" lang="ar" dir="rtl">' in letter.html
    assert letter.subject == "دعوة: \u2068Beijing–Tokyo Urban Symposium\u2069 (الدورة 12)"


# --- wording -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "honorific", "expected"),
    [
        ("en", "Ms.", "Dear Ms. Jane Morgan,"),
        ("en", "", "Dear Jane Morgan,"),
        ("zh", "先生", "尊敬的李明市长先生："),
        ("ko", "", "존경하는 김민준 서울특별시장님께"),
        ("es", "Sra.", "Estimada Sra. Lucía Fernández:"),
        ("es", "Sr.", "Estimado Sr. Lucía Fernández:"),
        ("es", "", "Estimado/a Lucía Fernández:"),
        ("fr", "Madame", "Madame la Maire de Paris,"),
        ("fr", "Monsieur", "Monsieur le Maire de Paris,"),
        ("fr", "", "Madame, Monsieur,"),
        ("de", "Herr", "Sehr geehrter Herr Regierender Bürgermeister,"),
        ("de", "Frau", "Sehr geehrte Frau Regierender Bürgermeister,"),
        ("de", "Dr.", "Sehr geehrte/r Dr. Thomas Becker,"),
        ("ru", "госпожа", "Уважаемая госпожа Анна Петрова!"),
        ("ru", "господин", "Уважаемый господин Анна Петрова!"),
        ("ar", "السيد", "حضرة السيد أحمد حسن المحترم،"),
        ("ar", "", "حضرة أحمد حسن،"),
    ],
)
def test_render_letter_salutation_follows_given_honorific(
    lang: str, honorific: str, expected: str
) -> None:
    letter = render_letter(with_recipient(letter_input(lang), honorific=honorific))

    salutation = letter.html.split('<p class="salutation">', 1)[1].split("</p>", 1)[0]
    assert salutation == expected


def test_render_letter_japanese_addressee_uses_sama_and_seasonal_greeting() -> None:
    letter = render_letter(letter_input("ja"))

    assert "東京都知事　山田花子　様" in letter.text
    assert "拝啓　初秋の候、" in letter.text  # September
    assert "本年、北京と東京都は友好都市として47年目を迎えております。" in letter.text


def test_render_letter_shows_event_zone_and_recipient_zone() -> None:
    letter = render_letter(letter_input("en"))

    expected = (
        "The opening session begins on Tuesday, October 14, 2025 at 09:30 China Standard Time "
        "(UTC+08:00), which is 21:30 on Monday, October 13, 2025 in New York City "
        "(Eastern Daylight Time, UTC-04:00)."
    )
    assert expected in letter.text
    assert "<th>Your time (Eastern Daylight Time)</th>" in letter.html


def test_render_letter_same_zone_shows_one_time() -> None:
    letter = render_letter(letter_input("zh"))  # Tianjin shares Beijing's zone

    assert "开幕时间为2025年10月14日星期二09:30（中国标准时间，UTC+08:00）。" in letter.text
    assert "当地时间" not in letter.text


def test_render_letter_unknown_tie_date_omits_friendship_year() -> None:
    letter = render_letter(letter_input("en", precision="unknown"))

    assert "year of their friendship" not in letter.text


def test_render_letter_month_precision_still_counts_years() -> None:
    letter = render_letter(letter_input("en", established_on=date(1980, 10, 1), precision="month"))

    assert "share the 45th year of their friendship" in letter.text


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
    assert "Dear Ms. <script>alert(1)</script>," in letter.text  # plain text stays plain


def test_render_letter_naive_datetime_is_refused() -> None:
    event = dataclasses.replace(EVENT, start=datetime(2025, 10, 14, 9, 30))

    with pytest.raises(ValueError, match="timezone-aware"):
        render_letter(letter_input("en", event=event))


def test_render_letter_without_english_title_is_refused() -> None:
    event = dataclasses.replace(EVENT, titles={"zh": "北京—东京城市论坛"})

    with pytest.raises(ValueError, match="'en' entry"):
        render_letter(letter_input("zh", event=event))


def test_render_letter_uses_english_signatory_outside_host_language() -> None:
    letter = render_letter(letter_input("de"))

    assert letter.text.endswith(
        "Mit freundlichen Grüßen\n\nWang Wei\nDirector\n"
        "Foreign Affairs Office of the People's Government of Beijing Municipality\n"
    )
    assert HOST.signatory_name not in letter.text


# --- numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "12th Beijing–Tokyo Urban Symposium"),
        ("zh", "第十二届北京—东京城市论坛"),
        ("ja", "第12回北京・東京都市シンポジウム"),
        ("ko", "제12회 Beijing–Tokyo Urban Symposium"),
        ("es", "XII Beijing–Tokyo Urban Symposium"),
        ("fr", "Beijing–Tokyo Urban Symposium (12e édition)"),
        ("de", "12. Beijing–Tokyo Urban Symposium"),
        ("ru", "XII Beijing–Tokyo Urban Symposium"),
    ],
)
def test_event_title_words_the_edition_per_language(lang: str, expected: str) -> None:
    assert event_title(EVENT, lang) == expected


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
    portuguese = english.replace('"Invitation to the "', '"Convite: "')
    (tmp_path / "lang" / "pt.txt.j2").write_text(portuguese, encoding="utf-8")
    inp = with_recipient(letter_input("en"), language="pt-BR")

    letter = render_letter(inp, env=make_environment(tmp_path))

    assert (letter.language, letter.is_fallback) == ("pt", False)
    assert letter.subject == "Convite: 12th Beijing–Tokyo Urban Symposium"


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
