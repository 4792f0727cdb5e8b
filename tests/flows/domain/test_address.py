"""Forms of address: salutations and address blocks per language, rank and gender."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from flows.domain.address import (
    GENDERS,
    LANGUAGE_NAMES,
    LANGUAGES,
    RANKS,
    Addressee,
    AddressForm,
    address_form,
    rank_title,
    readable,
)
from tests.goldens import golden

DATA = Path(__file__).resolve().parents[3] / "config" / "data"


def person(lang: str, rank: str, gender: str, name: str, **fields: str) -> Addressee:
    values = {"family_name": "", "honorific": "", "title": "", "office": "", "city": ""}
    return Addressee(lang=lang, rank=rank, gender=gender, name=name, **{**values, **fields})


# --- the examples -----------------------------------------------------------------


def test_salutation_en_female_mayor_uses_rank_and_family_name() -> None:
    a = person("en", "mayor", "female", "Aroha Williams", family_name="Williams", city="Wellington")

    form = address_form(a)

    assert form.salutation == "Dear Mayor Williams,"
    assert form.problems == ()


def test_salutation_fr_male_mayor_is_monsieur_le_maire() -> None:
    a = person("fr", "mayor", "male", "Julien Bernard", family_name="Bernard", city="Lyon")

    form = address_form(a)

    assert (form.salutation, form.vocative) == ("Monsieur le Maire,", "Monsieur le Maire")


def test_salutation_fr_female_mayor_is_madame_la_maire() -> None:
    a = person("fr", "mayor", "female", "Claire Martin", family_name="Martin", city="Lyon")

    assert address_form(a).salutation == "Madame la Maire,"


def test_salutation_de_male_mayor_is_herr_oberbuergermeister() -> None:
    a = person("de", "mayor", "male", "Thomas Müller", family_name="Müller", city="Köln")

    assert address_form(a).salutation == "Sehr geehrter Herr Oberbürgermeister,"


def test_salutation_de_mayor_takes_the_german_title_given() -> None:
    a = person("de", "mayor", "male", "Thomas Müller", title="Regierender Bürgermeister")

    assert address_form(a).salutation == "Sehr geehrter Herr Regierender Bürgermeister,"


def test_salutation_de_female_official_uses_family_name() -> None:
    a = person("de", "official", "female", "Anna Schmidt", family_name="Schmidt")

    assert address_form(a).salutation == "Sehr geehrte Frau Schmidt,"


def test_salutation_ru_male_official_uses_lower_case_gospodin_and_family_name() -> None:
    a = person("ru", "official", "male", "Иван Петров", family_name="Петров", city="Москва")

    assert address_form(a).salutation == "Уважаемый господин Петров!"


def test_salutation_es_male_mayor_is_estimado_senor_alcalde() -> None:
    a = person("es", "mayor", "male", "Martín Fernández", family_name="Fernández", city="Lima")

    assert address_form(a).salutation == "Estimado señor alcalde:"


def test_salutation_zh_mayor_with_han_name_is_family_name_and_office() -> None:
    a = person("zh", "mayor", "female", "王丽", family_name="王", city="新加坡")

    form = address_form(a)

    assert form.salutation == "尊敬的王市长："
    assert form.block == ("新加坡市长", "王丽阁下")


def test_salutation_zh_mayor_with_latin_name_is_office_and_gexia() -> None:
    a = person("zh", "mayor", "female", "Jane Doe", family_name="Doe", city="惠灵顿")

    assert address_form(a).salutation == "尊敬的惠灵顿市长阁下："


def test_block_ja_governor_has_kakka_after_the_name() -> None:
    a = person(
        "ja", "governor", "female", "山田 花子", title="知事", honorific="閣下", city="東京都"
    )

    form = address_form(a)

    assert (form.salutation, form.block) == ("", ("東京都知事", "山田 花子 閣下"))


def test_block_ja_official_has_sama_after_the_name() -> None:
    a = person("ja", "official", "male", "佐藤 健", title="国際課長", office="東京都国際課")

    assert address_form(a).block == ("東京都国際課", "国際課長", "佐藤 健 様")


# --- problems -----------------------------------------------------------------------------


def test_address_form_fr_gender_unknown_gives_a_problem_and_no_salutation() -> None:
    a = person("fr", "mayor", "", "Claire Martin", family_name="Martin", city="Lyon")

    form = address_form(a)

    assert form.salutation == ""
    assert form.problems == (
        "gender not recorded: French needs it for 'Madame la Maire,' / 'Monsieur le Maire,'",
    )


def test_address_form_fr_official_gender_unknown_never_says_madame_monsieur() -> None:
    a = person("fr", "official", "", "Claire Martin", family_name="Martin")

    form = address_form(a)

    assert form.salutation == ""
    assert len(form.problems) == 1


def test_address_form_en_gender_unknown_official_uses_full_name_and_reports() -> None:
    a = person("en", "official", "", "Jane Doe", family_name="Doe")

    form = address_form(a)

    assert form.salutation == "Dear Jane Doe,"
    assert form.problems == (
        "gender not recorded: English needs it for 'Dear Ms …,' / 'Dear Mr …,'",
    )


def test_address_form_rank_not_recorded_is_a_problem() -> None:
    a = person("en", "", "female", "Jane Doe", family_name="Doe")

    form = address_form(a)

    assert (form.salutation, form.problems) == ("Dear Ms Doe,", ("rank not recorded",))


def test_address_form_gender_unknown_is_taken_from_the_honorific() -> None:
    a = person("es", "mayor", "", "Lucía Torres", honorific="Excma. Sra.", city="Lima")

    form = address_form(a)

    assert form.salutation == "Estimada señora alcaldesa:"
    assert form.block == ("Excelentísima Señora Lucía Torres", "Alcaldesa de Lima", "Lima")
    assert form.problems == ()


def test_address_form_gender_contradicting_the_honorific_is_a_problem() -> None:
    a = person("de", "official", "male", "Anna Schmidt", family_name="Schmidt", honorific="Frau")

    assert address_form(a).problems == ("gender 'male' contradicts the honorific 'Frau'",)


def test_address_form_family_name_derived_from_two_latin_parts() -> None:
    a = person("en", "director", "male", "John Smith")

    assert address_form(a).salutation == "Dear Mr Smith,"


def test_address_form_family_name_derived_from_spaced_cjk_name() -> None:
    a = person("zh", "mayor", "male", "李 明", city="新加坡")

    assert address_form(a).salutation == "尊敬的李市长："


def test_address_form_family_name_not_derivable_is_a_problem() -> None:
    a = person("en", "director", "female", "Femke de Vries")

    form = address_form(a)

    assert form.salutation == "Dear Femke de Vries,"
    assert form.problems == (
        "family name not recorded (and not safely derivable from 'Femke de Vries'): "
        "English writes 'Dear Ms …,'",
    )


def test_address_form_override_wins_verbatim_without_problems() -> None:
    a = dataclasses.replace(
        person("fr", "", "", "Émilie Tremblay"), salutation_override="Madame la Mairesse,"
    )

    form = address_form(a)

    assert (form.salutation, form.problems) == ("Madame la Mairesse,", ())
    assert form.vocative == "Madame la Mairesse"


def test_address_form_english_title_in_french_letter_is_replaced() -> None:
    a = person("fr", "mayor", "female", "Émilie Tremblay", title="Mayor", city="Ottawa")

    form = address_form(a)

    assert form.block == ("Madame Émilie Tremblay", "Maire d’Ottawa", "Ottawa")
    assert form.problems == ("title 'Mayor' is English, not French; the French title is used",)


def test_address_form_unsupported_language_uses_english_rules() -> None:
    a = person("hu", "mayor", "male", "Péter Kovács", family_name="Kovács", city="Budapest")

    assert address_form(a).salutation == "Dear Mayor Kovács,"


def test_address_form_en_excellency_only_for_he() -> None:
    a = person("en", "mayor", "male", "John Smith", honorific="H.E.", city="Manila")

    form = address_form(a)

    assert form.salutation == "Your Excellency,"
    assert form.block == ("H.E. Mr John Smith", "Mayor of Manila", "Manila")


def test_address_form_en_worship_leads_the_office_line() -> None:
    a = person(
        "en", "mayor", "female", "Aroha Williams", honorific="Her Worship", city="Wellington"
    )

    form = address_form(a)

    assert form.salutation == "Dear Mayor Williams,"
    assert form.block == ("Her Worship the Mayor of Wellington", "Aroha Williams", "Wellington")


def test_address_form_es_companera_stays_in_the_block_only() -> None:
    a = person("es", "chair", "", "Yamilé Pérez", honorific="Compañera", title="Presidenta")

    form = address_form(a)

    assert form.salutation == "Estimada señora presidenta:"
    assert form.block[0] == "Compañera Yamilé Pérez"


# Honorifics as partner records give them, placed in front of the full name in a
# salutation by the old templates ("Dear Ms. Jane Doe,", "Уважаемый Господин Иван Петров!").
HONORIFICS = ("Ms.", "Mr.", "H.E.", "Sayın", "Господин", "Frau", "Sra.", "Ông", "Ibu", "السيد")
NAMES = {"Latin": ("Jane Doe", "Doe"), "ru": ("Иван Петров", "Петров"), "ar": ("أحمد حسن", "حسن")}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_salutation_never_puts_an_honorific_before_the_full_name(lang: str) -> None:
    name, family = NAMES.get(lang if lang in NAMES else "Latin", NAMES["Latin"])
    found = []
    for rank in (*RANKS, ""):
        for gender in GENDERS:
            for honorific in HONORIFICS:
                for fam in (family, ""):
                    a = person(lang, rank, gender, name, family_name=fam, honorific=honorific)
                    salutation = address_form(a).salutation
                    if f"{honorific} {name}" in salutation or f"{honorific}{name}" in salutation:
                        found.append(salutation)
    assert found == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_salutation_never_madame_monsieur_or_slashed_forms(lang: str) -> None:
    forms = [
        address_form(person(lang, rank, gender, "Jane Doe", family_name="Doe")).salutation
        for rank in (*RANKS, "")
        for gender in GENDERS
    ]

    assert [s for s in forms if "Madame, Monsieur" in s or "/" in s or "(-" in s] == []


def test_rank_title_examples() -> None:
    titles = [
        rank_title("mayor", "", "en", "Lyon"),
        rank_title("mayor", "female", "fr", "Lyon"),
        rank_title("mayor", "male", "zh", "里昂"),
        rank_title("mayor", "male", "ja", "リヨン"),
        rank_title("mayor", "male", "ja", "横浜市"),
        rank_title("mayor", "female", "fr", "Ottawa"),
        rank_title("mayor", "male", "ko", "부산광역시"),
        rank_title("governor", "male", "zh", "东京都"),
        rank_title("official", "male", "en", "Lyon"),
    ]

    assert titles == [
        "Mayor of Lyon",
        "Maire de Lyon",
        "里昂市长",
        "リヨン市長",
        "横浜市長",
        "Maire d’Ottawa",
        "부산광역시장",
        "东京都知事",
        "",
    ]


# --- golden files: every rank x gender per language ---------------------------------------


class Sample(NamedTuple):
    """One plausible partner contact per language: her name, his name, their city."""

    female: tuple[str, str]  # name, family name
    male: tuple[str, str]
    city: str
    note: str = ""


SAMPLES: dict[str, tuple[Sample, ...]] = {
    "en": (Sample(("Aroha Williams", "Williams"), ("James Taylor", "Taylor"), "Wellington"),),
    "zh": (
        Sample(("王丽", "王"), ("李明", "李"), "新加坡", "name in Han script"),
        Sample(("Jane Doe", "Doe"), ("John Smith", "Smith"), "惠灵顿", "name in Latin script"),
    ),
    "ja": (Sample(("山田 花子", "山田"), ("佐藤 健", "佐藤"), "横浜市"),),
    "ko": (Sample(("김지현", "김"), ("이민호", "이"), "부산광역시"),),
    "es": (Sample(("Lucía Torres", "Torres"), ("Martín Fernández", "Fernández"), "Lima"),),
    "fr": (Sample(("Claire Martin", "Martin"), ("Julien Bernard", "Bernard"), "Lyon"),),
    "de": (Sample(("Anna Schmidt", "Schmidt"), ("Thomas Müller", "Müller"), "Köln"),),
    "ru": (Sample(("Анна Смирнова", "Смирнова"), ("Иван Петров", "Петров"), "Бишкек"),),
    "ar": (Sample(("ليلى منصور", "منصور"), ("أحمد حسن", "حسن"), "القاهرة"),),
    "pt": (Sample(("Ana Souza", "Souza"), ("João Silva", "Silva"), "São Paulo"),),
    "it": (Sample(("Giulia Rossi", "Rossi"), ("Marco Bianchi", "Bianchi"), "Milano"),),
    "nl": (Sample(("Femke de Vries", "de Vries"), ("Jan Jansen", "Jansen"), "Rotterdam"),),
    "tr": (Sample(("Ayşe Yılmaz", "Yılmaz"), ("Mehmet Demir", "Demir"), "İzmir"),),
    "uk": (Sample(("Олена Коваленко", "Коваленко"), ("Андрій Шевченко", "Шевченко"), "Київ"),),
    "th": (Sample(("สมศรี ใจดี", "ใจดี"), ("สมชาย รักไทย", "รักไทย"), "เชียงใหม่"),),
    "vi": (Sample(("Trần Thị Lan", "Trần"), ("Nguyễn Văn An", "Nguyễn"), "Đà Nẵng"),),
    "id": (Sample(("Siti Rahma", ""), ("Budi Santoso", "Santoso"), "Surabaya"),),
}


def render(form: AddressForm) -> list[str]:
    lines = [f"salutation: {form.salutation or '(none)'}", "block:"]
    lines += [f"  {line}" for line in form.block]
    lines += [f"problem: {p}" for p in form.problems] or ["problems: none"]
    return lines


def render_grid(lang: str) -> str:
    out = [f"# Forms of address in {LANGUAGE_NAMES[lang]} ({lang}): every rank x gender."]
    out.append("# Honorific, title and office not recorded; the unknown gender uses her name.")
    for sample in SAMPLES[lang]:
        (her, her_family), (his, his_family) = sample.female, sample.male
        out += [
            "",
            f"# sample{f' ({sample.note})' if sample.note else ''}: {her} (family name "
            f"{her_family or 'not recorded'}), {his} (family name {his_family}); "
            f"city {sample.city}",
        ]
        for rank in (*RANKS, ""):
            for gender in GENDERS:
                name, family = (his, his_family) if gender == "male" else (her, her_family)
                a = person(lang, rank, gender, name, family_name=family, city=sample.city)
                out += ["", f"## {rank or '(rank not recorded)'} / {gender or 'gender unknown'}"]
                out += render(address_form(a))
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_address_forms_match_golden_per_language(lang: str) -> None:
    golden(f"address/{lang}.txt", render_grid(lang))


# --- the demo contacts --------------------------------------------------------------------


def demo_addressee(row: dict[str, str], cities: dict[str, dict[str, str]]) -> Addressee:
    """What a caller passes: the letter is in the contact's language when it is one of
    LANGUAGES (else English); the native name when its reader reads it (else the Latin
    one); the family name when it is in the printed name; title and office only when the
    letter is in the contact's own language."""
    contact_lang = row["language"].split("-")[0].lower()
    lang = contact_lang if contact_lang in LANGUAGES else "en"
    native = readable(row["name_native"], lang)
    name = row["name_native"] if native else row["name_latin"]
    family = row["family_name"] if row["family_name"] in name else ""
    own = lang == contact_lang
    return Addressee(
        lang=lang,
        rank=row["rank"],
        gender=row["gender"],
        name=name,
        family_name=family,
        honorific=row["honorific"],
        title=row["title"] if own and readable(row["title"], lang) else "",
        office=row["office"] if own and readable(row["office"], lang) else "",
        city=cities.get(row["city"], {}).get(lang, row["city"]),
    )


def render_demo() -> str:
    cities = yaml.safe_load((DATA / "city_names.yaml").read_text(encoding="utf-8"))["cities"]
    with (DATA / "demo_contacts.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = ["# Forms of address for config/data/demo_contacts.csv, in each contact's language."]
    for row in rows:
        a = demo_addressee(row, cities)
        fallback = "" if a.lang == row["language"] else f", {row['language']} -> en"
        out += ["", f"## {row['city']}: {a.name} ({a.lang}{fallback}; {a.rank}, {a.gender})"]
        out += render(address_form(a))
    return "\n".join(out) + "\n"


def test_demo_contacts_have_rank_gender_and_family_name() -> None:
    with (DATA / "demo_contacts.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))

    assert [r for r in rows if r["rank"] not in RANKS or r["gender"] not in GENDERS] == []
    assert [r["name_native"] for r in rows if r["family_name"] not in r["name_native"]] == []


def test_demo_contacts_address_forms_match_golden() -> None:
    golden("address/demo.txt", render_demo())
