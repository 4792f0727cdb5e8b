import datetime as dt
from pathlib import Path

import pytest

from flows.domain.registry import (
    ImportFileError,
    language_problem,
    parse_established,
    read_city_names,
    read_rows,
    validate_contacts,
    validate_partners,
)

DATA = Path(__file__).resolve().parents[3] / "config" / "data"
HEADER = "city,native_name,country_code,timezone,language,established_on,precision,source,note\n"


def _partners(tmp_path: Path, body: str, name: str = "p.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return validate_partners(name, read_rows(path, list_key="partners"))


def test_reference_partners_are_27_in_24_countries_with_2_unknown() -> None:
    path = DATA / "beijing_partners.csv"
    result = validate_partners(path.name, read_rows(path, list_key="partners"))
    assert result.problems == []
    assert len(result.records) == 27
    assert len({r.country_code for r in result.records}) == 24
    assert sorted(r.city for r in result.records if r.precision == "unknown") == [
        "Islamabad",
        "Kyiv",
    ]


def test_reference_names_survive_in_every_script() -> None:
    path = DATA / "beijing_partners.csv"
    natives = {
        r.city: r.native_name
        for r in validate_partners(path.name, read_rows(path, list_key="partners")).records
    }
    assert natives["Tokyo"] == "東京都"
    assert natives["Moscow"] == "Москва"
    assert natives["Cairo"] == "القاهرة"


@pytest.mark.parametrize(
    ("value", "precision", "expected"),
    [
        ("1979-03-14", "day", dt.date(1979, 3, 14)),
        ("1979-03", "month", dt.date(1979, 3, 1)),
        ("1979", "year", dt.date(1979, 1, 1)),
        ("", "unknown", None),
        ("", "", None),
    ],
)
def test_parse_established_truncates_to_precision(value, precision, expected) -> None:
    assert parse_established(value, precision) == (expected, None)


@pytest.mark.parametrize(
    ("value", "precision"),
    [
        ("1979-03", "day"),
        ("1979-03-14", "month"),
        ("1979-02-30", "day"),
        ("1979", "unknown"),
        ("1979", "week"),
    ],
)
def test_parse_established_refuses_date_not_matching_precision(value, precision) -> None:
    date, reason = parse_established(value, precision)
    assert date is None
    assert reason


def test_validate_partners_names_file_row_column_value_and_reason(tmp_path: Path) -> None:
    result = _partners(
        tmp_path,
        "Tokyo,東京都,JP,Asia/Tokyo,ja,1979-03-14,day,,\n"
        "Atlantis,Atlantis,XX,Atlantis/Capital,zz-!!,1979-03,day,,\n"
        "Tokyo,東京都,JP,Asia/Tokyo,ja,1979-03-14,day,,\n",
    )
    assert [str(p) for p in result.problems] == [
        "p.csv:3: country_code='XX': not an ISO 3166-1 alpha-2 country code",
        "p.csv:3: timezone='Atlantis/Capital': not an IANA time zone",
        "p.csv:3: language='zz-!!': not a valid BCP 47 language tag",
        "p.csv:3: established_on='1979-03': "
        "does not match precision 'day' (expected e.g. 1979-03-14)",
        "p.csv:4: city='Tokyo': duplicate of row 2 (Tokyo, JP)",
    ]
    assert [r.city for r in result.records] == ["Tokyo"]


def test_validate_partners_counts_lines_of_quoted_multiline_fields(tmp_path: Path) -> None:
    result = _partners(
        tmp_path,
        'Tokyo,東京都,JP,Asia/Tokyo,ja,1979-03-14,day,,"two\nlines"\n'
        "Lima,Lima,PE,America/Lima,es,1983-11,month,,\n"
        "Nowhere,,PE,America/Lima,es,,,,\n",
    )
    assert [(p.row, p.column) for p in result.problems] == [(5, "native_name")]


def test_validate_partners_requires_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("city,native_name\nTokyo,東京都\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="missing column"):
        validate_partners("p.csv", read_rows(path, list_key="partners"))


def test_validate_partners_reads_yaml(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "partners:\n"
        "  - {city: Cairo, native_name: القاهرة, country_code: EG, timezone: Africa/Cairo,"
        " language: ar, established_on: 1990-05-26, precision: day}\n"
        "  - {city: Kyiv, native_name: Київ, country_code: UA,"
        " timezone: Europe/Kyiv, language: uk}\n",
        encoding="utf-8",
    )
    result = validate_partners("p.yaml", read_rows(path, list_key="partners"))
    assert result.problems == []
    assert [(r.city, r.established_on, r.precision) for r in result.records] == [
        ("Cairo", dt.date(1990, 5, 26), "day"),
        ("Kyiv", None, "unknown"),
    ]


def test_validate_contacts_refuses_bad_email_and_header_injection(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "contacts:\n"
        "  - {city: Tokyo, country_code: JP, name_native: 山田, name_latin: Yamada,"
        " email: not-an-address, language: ja}\n"
        '  - {city: Tokyo, country_code: JP, name_native: "Eve\\nBcc: x@evil.example",'
        " name_latin: Eve, email: eve@tokyo.example.org, language: ja}\n",
        encoding="utf-8",
    )
    result = validate_contacts("c.yaml", read_rows(path, list_key="contacts"))
    assert [(p.row, p.column) for p in result.problems] == [(1, "email"), (2, "name_native")]
    assert result.records == []


def test_validate_contacts_reads_rank_gender_family_name_and_salutations(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "city,country_code,name_native,name_latin,email,language,rank,gender,family_name,"
        "salutation_fr\n"
        "Lyon,FR,Anne Roux,Anne Roux,anne@lyon.example.org,fr,Mayor,Female,Roux,"
        '"Madame la Maire et chère amie,"\n',
        encoding="utf-8",
    )
    result = validate_contacts("c.csv", read_rows(path, list_key="contacts"))
    assert result.problems == []
    record = result.records[0]
    assert (record.rank, record.gender, record.family_name, record.salutations) == (
        "mayor",
        "female",
        "Roux",
        {"fr": "Madame la Maire et chère amie,"},
    )


def test_validate_contacts_names_unknown_rank_gender_and_salutation_language(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "city,country_code,name_native,name_latin,email,language,rank,gender,salutation_xx-1\n"
        "Lyon,FR,Anne Roux,Anne Roux,anne@lyon.example.org,fr,queen,f,Hello\n",
        encoding="utf-8",
    )
    result = validate_contacts("c.csv", read_rows(path, list_key="contacts"))
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (2, "salutation_xx-1", "Hello"),
        (2, "rank", "queen"),
        (2, "gender", "f"),
    ]
    assert result.records == []


def test_read_city_names_shipped_file_has_every_partner_in_every_letter_language() -> None:
    names = read_city_names(DATA / "city_names.yaml")
    partners = [
        row["city"]
        for file in ("beijing_partners.csv", "beijing_partners_later.csv")
        for _, row in read_rows(DATA / file, list_key="partners")
    ]
    letter_languages = {"en", "zh", "ja", "ko", "es", "fr", "de", "ru", "ar"}
    letter_languages |= {"pt", "it", "nl", "tr", "uk", "th", "vi", "id"}
    assert sorted(names) == sorted(["Beijing", *partners])
    assert {
        c: sorted(letter_languages - set(n)) for c, n in names.items() if letter_languages - set(n)
    } == {}
    assert (names["Moscow"]["zh"], names["Beijing"]["fr"], names["Cairo"]["ar"]) == (
        "莫斯科",
        "Pékin",
        "القاهرة",
    )


def test_read_city_names_names_file_city_and_language_of_a_bad_entry(tmp_path: Path) -> None:
    path = tmp_path / "names.yaml"
    path.write_text(
        "cities:\n  Lyon:\n    fr: Lyon\n    not-a-lang!: Lyon\n    de: ''\n", encoding="utf-8"
    )
    with pytest.raises(ImportFileError) as err:
        read_city_names(path)
    assert str(err.value).splitlines() == [
        f"{path}: cities.Lyon.not-a-lang!: {language_problem('not-a-lang!')}",
        f"{path}: cities.Lyon.de='': must be a one-line name",
    ]
