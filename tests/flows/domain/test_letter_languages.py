"""Letters in pt, it, nl, tr, uk, th, vi and id: whole golden letters, no English, no fallback.

For each language: the head of a partner city (a woman) and an official (a man), both
fictional. The golden files are read by a reader of the language; rewrite them with
AMITY_UPDATE_GOLDEN=1 only after such a reading.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from flows.domain.letters import Recipient, render_letter
from tests.flows.domain.letter_fixtures import CITIES, letter_input, with_event
from tests.goldens import golden

LANGUAGES = ("pt", "it", "nl", "tr", "uk", "th", "vi", "id")


def _contact(
    name: str, name_latin: str, family: str, family_latin: str, title: str, honorific: str,
    office: str, rank: str, gender: str, city: str, timezone: str, language: str,
) -> Recipient:  # fmt: skip
    return Recipient(
        name, name_latin, family, family_latin, title, honorific, office, rank, gender,
        CITIES[city], timezone, language,
    )  # fmt: skip


RECIPIENTS: dict[str, Recipient] = {
    "pt-head": _contact(
        "Ana Souza", "Ana Souza", "Souza", "Souza", "Prefeita do Rio de Janeiro", "Exma. Sra.",
        "Prefeitura da Cidade do Rio de Janeiro", "mayor", "female", "Rio de Janeiro",
        "America/Sao_Paulo", "pt-BR",
    ),
    "pt-official": _contact(
        "Carlos Pereira", "Carlos Pereira", "Pereira", "Pereira",
        "Coordenador de Relações Internacionais", "Sr.", "Prefeitura da Cidade do Rio de Janeiro",
        "director", "male", "Rio de Janeiro", "America/Sao_Paulo", "pt-BR",
    ),
    "it-head": _contact(
        "Giulia Rossi", "Giulia Rossi", "Rossi", "Rossi", "Sindaca di Roma", "On.",
        "Roma Capitale", "mayor", "female", "Rome", "Europe/Rome", "it",
    ),
    "it-official": _contact(
        "Marco Bianchi", "Marco Bianchi", "Bianchi", "Bianchi",
        "Direttore del Dipartimento Relazioni Internazionali", "Dott.", "Roma Capitale",
        "director", "male", "Rome", "Europe/Rome", "it-IT",
    ),
    "nl-head": _contact(
        "Femke de Vries", "Femke de Vries", "de Vries", "de Vries", "Burgemeester van Amsterdam",
        "Mevrouw", "Gemeente Amsterdam", "mayor", "female", "Amsterdam", "Europe/Amsterdam", "nl",
    ),
    "nl-official": _contact(
        "Pieter Jansen", "Pieter Jansen", "Jansen", "Jansen", "Directeur Internationale Zaken",
        "De heer", "Gemeente Amsterdam", "director", "male", "Amsterdam", "Europe/Amsterdam",
        "nl-NL",
    ),
    "tr-head": _contact(
        "Ayşe Yılmaz", "Ayşe Yılmaz", "Yılmaz", "Yılmaz", "Ankara Büyükşehir Belediye Başkanı",
        "Sayın", "Ankara Büyükşehir Belediyesi", "mayor", "female", "Ankara", "Europe/Istanbul",
        "tr",
    ),
    "tr-official": _contact(
        "Mehmet Demir", "Mehmet Demir", "Demir", "Demir", "Dış İlişkiler Dairesi Başkanı",
        "Sayın", "Ankara Büyükşehir Belediyesi", "director", "male", "Ankara", "Europe/Istanbul",
        "tr-TR",
    ),
    "uk-head": _contact(
        "Олена Коваленко", "Olena Kovalenko", "Коваленко", "Kovalenko", "Київський міський голова",
        "пані", "Київська міська державна адміністрація", "mayor", "female", "Kyiv", "Europe/Kyiv",
        "uk",
    ),
    "uk-official": _contact(
        "Андрій Шевченко", "Andrii Shevchenko", "Шевченко", "Shevchenko",
        "Директор Департаменту міжнародних зв’язків", "пан",
        "Київська міська державна адміністрація", "director", "male", "Kyiv", "Europe/Kyiv",
        "uk-UA",
    ),
    "th-head": _contact(
        "ศิริพร วงศ์สวัสดิ์", "Siriporn Wongsawat", "วงศ์สวัสดิ์", "Wongsawat",
        "ผู้ว่าราชการกรุงเทพมหานคร", "", "กรุงเทพมหานคร", "governor", "female", "Bangkok",
        "Asia/Bangkok", "th",
    ),
    "th-official": _contact(
        "สมชาย ใจดี", "Somchai Jaidee", "ใจดี", "Jaidee", "ผู้อำนวยการกองการต่างประเทศ", "นาย",
        "สำนักงานปลัดกรุงเทพมหานคร", "director", "male", "Bangkok", "Asia/Bangkok", "th-TH",
    ),
    "vi-head": _contact(
        "Trần Thị Mai", "Tran Thi Mai", "Trần", "Tran",
        "Chủ tịch Ủy ban nhân dân thành phố Hà Nội", "Bà", "Ủy ban nhân dân thành phố Hà Nội",
        "mayor", "female", "Hanoi", "Asia/Ho_Chi_Minh", "vi",
    ),
    "vi-official": _contact(
        "Nguyễn Văn An", "Nguyen Van An", "Nguyễn", "Nguyen",
        "Giám đốc Sở Ngoại vụ thành phố Hà Nội", "Ông", "Sở Ngoại vụ thành phố Hà Nội",
        "director", "male", "Hanoi", "Asia/Ho_Chi_Minh", "vi-VN",
    ),
    "id-head": _contact(
        "Siti Rahmawati", "Siti Rahmawati", "", "", "Gubernur Provinsi DKI Jakarta", "Ibu",
        "Pemerintah Provinsi DKI Jakarta", "governor", "female", "Jakarta", "Asia/Jakarta", "id",
    ),
    "id-official": _contact(
        "Budi Santoso", "Budi Santoso", "", "", "Kepala Biro Kerja Sama Daerah", "Bapak",
        "Pemerintah Provinsi DKI Jakarta", "director", "male", "Jakarta", "Asia/Jakarta",
        "id-ID",
    ),
}  # fmt: skip

# Words of the English template that must never show in another language's letter.
ENGLISH = re.compile(
    r"\b(Dear|Invitation|invite|programme|Yours|sincerely|honour|behalf|Enclosure|Our ref"
    r"|Session|Room|Your time|delegation|persons|request|telephone|e-mail at|calendar"
    r"|Mayor|Director|Office)\b"
)


def render(key: str):
    return render_letter(letter_input("en", recipient=RECIPIENTS[key]))


@pytest.mark.parametrize("key", list(RECIPIENTS))
def test_letter_matches_golden(key: str) -> None:
    letter = render(key)

    golden(f"letters/{key}.txt", f"Subject: {letter.subject}\n\n{letter.text}")
    golden(f"letters/{key}.fragment.html", letter.html_fragment)


@pytest.mark.parametrize("key", list(RECIPIENTS))
def test_letter_is_in_the_contacts_language_without_fallback(key: str) -> None:
    lang = key.split("-", 1)[0]

    letter = render(key)

    assert (letter.language, letter.is_fallback, letter.languages) == (lang, False, (lang,))
    assert letter.fallbacks == ()  # every printed value exists in the letter's language
    assert letter.problems == ()  # the data forms the salutation and the address block


@pytest.mark.parametrize("key", list(RECIPIENTS))
def test_letter_has_no_english_template_words(key: str) -> None:
    letter = render(key)

    for text in (letter.subject, letter.text, letter.html_fragment):
        assert ENGLISH.findall(text) == []


# Per language: the friendship year (49th at the fixtures' letter date), a delegation of 3
# and the enclosure line, as a reader of the language writes them.
PHRASES: dict[str, tuple[str, str, str]] = {
    "pt": ("o 49º ano", "delegação de até 3 pessoas", "Anexo: programação"),
    "it": ("il 49º anno", "un massimo di 3 persone", "Allegato: programma"),
    "nl": ("het 49e jaar", "ten hoogste 3 personen", "Bijlage: programma"),
    "tr": ("dostluğun 49. yılını", "En fazla 3 kişiden oluşan", "Ek: Program"),
    "uk": ("49-й рік дружби", "чисельністю до 3 осіб", "Додаток: програма заходу"),
    "th": ("ปีที่ 49 แห่ง", "จำนวนไม่เกิน 3 คน", "สิ่งที่ส่งมาด้วย กำหนดการ"),
    "vi": ("năm thứ 49", "gồm tối đa 3 người", "Gửi kèm: Chương trình"),
    "id": ("tahun ke-49", "sebanyak-banyaknya 3 orang", "Lampiran: susunan acara"),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_letter_carries_friendship_year_practical_details_reply_and_enclosure(
    lang: str,
) -> None:
    letter = render(f"{lang}-head")
    text = " ".join(letter.text.split())  # the renderer keeps a telephone number on one line

    for phrase in PHRASES[lang]:
        assert phrase in text
    assert "fao@beijing.example.org" in text  # where to reply
    assert "+86 10 5555 0142" in text  # the contact person's telephone
    assert letter.reference in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_unknown_tie_leaves_the_friendship_sentence_out(lang: str) -> None:
    inp = letter_input("en", recipient=RECIPIENTS[f"{lang}-head"], precision="unknown")

    assert PHRASES[lang][0] not in render_letter(inp).text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("pt", "delegação de uma pessoa"),
        ("it", "composta da una persona"),
        ("nl", "delegatie van één persoon"),
        ("tr", "Tek kişilik bir heyeti"),
        ("uk", "делегацію з однієї особи"),
        ("th", "คณะผู้แทนจำนวน 1 คน"),
        ("vi", "gồm 1 người"),
        ("id", "sebanyak 1 (satu) orang"),
    ],
)
def test_one_delegate_is_worded_in_the_singular(lang: str, expected: str) -> None:
    inp = letter_input("en", recipient=RECIPIENTS[f"{lang}-head"])
    one = with_event(inp, practical=dataclasses.replace(inp.event.practical, delegation_size=1))

    assert expected in render_letter(one).text


@pytest.mark.parametrize(
    ("n", "expected"), [(2, "до 2 осіб"), (21, "до 21 особи"), (11, "до 11 осіб")]
)
def test_ukrainian_delegation_size_takes_the_genitive_of_its_number(n: int, expected: str) -> None:
    inp = letter_input("en", recipient=RECIPIENTS["uk-head"])
    many = with_event(inp, practical=dataclasses.replace(inp.event.practical, delegation_size=n))

    assert expected in render_letter(many).text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_one_day_event_without_rsvp_date_or_enclosure_renders(lang: str) -> None:
    inp = letter_input("en", recipient=RECIPIENTS[f"{lang}-official"], rsvp_by=None,
                       encloses_programme=False)  # fmt: skip
    one_day = with_event(inp, end=inp.event.sessions[0].end, sessions=inp.event.sessions[:1])

    letter = render_letter(one_day)

    assert ENGLISH.findall(letter.text) == []
    assert not letter.is_fallback
