"""The import flows against a real Prefect API and both databases."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import City, Contact, Tie
from db.session import session_scope
from flows.partners import import_city_names, import_contacts, import_partners

pytestmark = pytest.mark.usefixtures("prefect_api")
DATA = Path(__file__).resolve().parents[2] / "config" / "data"
HEADER = "city,native_name,country_code,timezone,language,established_on,precision,source,note\n"
TOKYO = "Tokyo,東京都,JP,Asia/Tokyo,ja,1979-03-14,day,FAO,\n"
CAIRO = "Cairo,القاهرة,EG,Africa/Cairo,ar,1990-05-26,day,FAO,\n"
IDF = "Île-de-France,Île-de-France,FR,Europe/Paris,fr,1987,year,,\n"


def _write(tmp_path: Path, body: str, name: str = "partners.csv") -> str:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return str(path)


def _counts() -> tuple[int, int]:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(City)), s.scalar(
            select(func.count()).select_from(Tie)
        )


def test_import_partners_reference_file_loads_27_ties(amity_db: str) -> None:
    result = import_partners(str(DATA / "beijing_partners.csv"))
    assert (result["created"], result["problems"], result["imported"]) == (27, [], True)
    assert _counts() == (28, 27)  # 27 partners + the home city


def test_import_partners_same_file_twice_changes_nothing(amity_db: str, tmp_path: Path) -> None:
    path = _write(tmp_path, TOKYO + CAIRO + IDF)
    import_partners(path)
    again = import_partners(path)
    assert (again["created"], again["updated"], again["unchanged"], again["changes"]) == (
        0,
        0,
        3,
        [],
    )


def test_import_partners_changed_row_updates_and_says_what(amity_db: str, tmp_path: Path) -> None:
    import_partners(_write(tmp_path, TOKYO + CAIRO))
    result = import_partners(
        _write(tmp_path, TOKYO.replace("1979-03-14,day", "1979-03,month") + CAIRO)
    )
    assert result["updated"] == 1
    assert result["changes"] == [
        "Tokyo: established_on datetime.date(1979, 3, 14) -> datetime.date(1979, 3, 1)",
        "Tokyo: precision 'day' -> 'month'",
    ]
    with session_scope() as s:
        tie = s.scalars(select(Tie).join(Tie.partner_city).where(City.name == "Tokyo")).one()
        assert (tie.precision, tie.anniversary_md) == ("month", 301)


def test_import_partners_bad_row_imports_nothing(amity_db: str, tmp_path: Path) -> None:
    result = import_partners(
        _write(tmp_path, TOKYO + "Atlantis,Atlantis,XX,Asia/Tokyo,ja,,,,\n" + CAIRO)
    )
    assert result["imported"] is False
    assert result["problems"] == [
        "partners.csv:3: country_code='XX': not an ISO 3166-1 alpha-2 country code"
    ]
    assert _counts() == (0, 0)


def test_import_partners_skip_invalid_imports_valid_rows_and_writes_rejects(
    amity_db: str, tmp_path: Path
) -> None:
    result = import_partners(
        _write(tmp_path, TOKYO + "Atlantis,Atlantis,XX,Asia/Tokyo,ja,,,,\n" + CAIRO),
        skip_invalid=True,
    )
    assert (result["created"], result["rejected"]) == (2, 1)
    rejects = Path(result["rejects_path"]).read_text(encoding="utf-8")
    assert rejects.splitlines()[1].startswith("3,Atlantis,Atlantis,XX,")
    assert rejects.splitlines()[1].endswith("country_code: not an ISO 3166-1 alpha-2 country code")


def test_import_partners_dry_run_writes_nothing(amity_db: str, tmp_path: Path) -> None:
    result = import_partners(_write(tmp_path, TOKYO), dry_run=True)
    assert (result["created"], result["imported"]) == (1, False)
    assert _counts() == (0, 0)


def test_import_partners_names_round_trip_in_every_script(amity_db: str, tmp_path: Path) -> None:
    import_partners(
        _write(
            tmp_path, TOKYO + CAIRO + IDF + "Moscow,Москва,RU,Europe/Moscow,ru,1995-05-16,day,,\n"
        )
    )
    with session_scope() as s:
        names = dict(
            s.execute(select(City.name, City.native_name).where(City.is_home.is_(False))).all()
        )
    assert names == {
        "Tokyo": "東京都",
        "Cairo": "القاهرة",
        "Île-de-France": "Île-de-France",
        "Moscow": "Москва",
    }


def test_import_contacts_unknown_city_imports_nothing(amity_db: str, tmp_path: Path) -> None:
    import_partners(_write(tmp_path, TOKYO))
    path = tmp_path / "contacts.csv"
    path.write_text(
        "city,country_code,name_native,name_latin,email,language\n"
        "Tokyo,JP,山田 花子,Hanako Yamada,hanako@tokyo.example.org,ja\n"
        "Osaka,JP,佐藤,Sato,sato@osaka.example.org,ja\n",
        encoding="utf-8",
    )
    result = import_contacts(str(path))
    assert result["problems"] == ["contacts.csv:3: city='Osaka': no partner city Osaka (JP)"]
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 0


def test_import_contacts_demo_file_after_reference_partners(amity_db: str) -> None:
    import_partners(str(DATA / "beijing_partners.csv"))
    import_partners(str(DATA / "beijing_partners_later.csv"))
    result = import_contacts(str(DATA / "demo_contacts.csv"))
    assert (result["created"], result["problems"]) == (39, [])
    assert import_contacts(str(DATA / "demo_contacts.csv"))["unchanged"] == 39


def test_import_city_names_gives_every_reference_city_its_names(amity_db: str) -> None:
    for name in ("beijing_partners.csv", "beijing_partners_later.csv"):
        import_partners(str(DATA / name))
    result = import_city_names(str(DATA / "city_names.yaml"))
    assert (result["problems"], result["imported"], result["updated"]) == ([], True, 39)
    with session_scope() as s:
        moscow = s.scalars(select(City).where(City.name == "Moscow")).one()
        beijing = s.scalars(select(City).where(City.is_home.is_(True))).one()
        assert (moscow.names["zh"], moscow.names["ru"], beijing.names["ru"]) == (
            "莫斯科",
            "Москва",
            "Пекин",
        )
    assert import_city_names(str(DATA / "city_names.yaml"))["unchanged"] == 39


def test_import_city_names_unknown_city_changes_nothing(amity_db: str, tmp_path: Path) -> None:
    import_partners(_write(tmp_path, TOKYO))
    path = tmp_path / "names.yaml"
    path.write_text("cities:\n  Tokyo: {fr: Tokyo}\n  Osaka: {fr: Osaka}\n", encoding="utf-8")
    result = import_city_names(str(path))
    assert result["problems"] == ["names.yaml:0: city='Osaka': no such city in the registry"]
    with session_scope() as s:
        assert s.scalars(select(City.names).where(City.name == "Tokyo")).one() == {}


def test_import_contacts_keeps_rank_gender_and_salutations(amity_db: str, tmp_path: Path) -> None:
    import_partners(_write(tmp_path, TOKYO))
    path = tmp_path / "contacts.csv"
    path.write_text(
        "city,country_code,name_native,name_latin,email,language,rank,gender,family_name,"
        "family_name_latin,salutation_en\n"
        "Tokyo,JP,山田 花子,Hanako Yamada,hanako@tokyo.example.org,ja,governor,female,山田,"
        'Yamada,"Your Excellency,"\n',
        encoding="utf-8",
    )
    assert import_contacts(str(path))["problems"] == []
    with session_scope() as s:
        c = s.scalars(select(Contact)).one()
        assert (c.rank, c.gender, c.family_name, c.family_name_latin, c.salutations) == (
            "governor",
            "female",
            "山田",
            "Yamada",
            {"en": "Your Excellency,"},
        )
