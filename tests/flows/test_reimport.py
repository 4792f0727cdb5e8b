"""Re-importing a known partner or contact, on both databases: an empty optional cell keeps
the stored value, "-" clears it, and `--dry-run` lists each field that would change (the dry
run runs no flow, so these tests need no Prefect API)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import City, Contact, Tie
from db.session import session_scope
from flows.cli import main
from flows.partners import _run_import

HEADER = "city,native_name,country_code,timezone,language,established_on,precision,source,note"
FIRST = "Tokyo,東京都,JP,Asia/Tokyo,ja,1979-03-14,day,FAO page,first sister city"
CONTACTS = "city,country_code,name_native,name_latin,email,language,title,office,salutation_fr"
SATO = "Tokyo,JP,佐藤 花子,Hanako Sato,sato@tokyo.example,ja,知事,国際課,Madame la Gouverneure,"


def _csv(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _import(path: Path, kind: str) -> list[str]:
    result = _run_import(path, kind, skip_invalid=False, dry_run=False)
    assert (result.imported, result.problems) == (True, [])
    return result.changes


def _tie() -> tuple[object, ...]:
    with session_scope() as session:
        tie = session.scalars(select(Tie)).one()
        return (
            tie.established_on.isoformat() if tie.established_on else None,
            tie.precision,
            tie.source,
            tie.note,
            tie.status,
        )


def test_reimport_partner_with_empty_optional_cells_keeps_stored_values(
    amity_db: str, tmp_path: Path
) -> None:
    _import(_csv(tmp_path, "first.csv", HEADER, FIRST), "partners")
    before = _tie()

    changes = _import(
        _csv(tmp_path, "again.csv", HEADER, "Tokyo,東京都,JP,Asia/Tokyo,ja,,,,"), "partners"
    )

    assert (changes, _tie()) == ([], before)
    assert before == ("1979-03-14", "day", "FAO page", "first sister city", "active")


def test_reimport_partner_dash_clears_a_value(amity_db: str, tmp_path: Path) -> None:
    _import(_csv(tmp_path, "first.csv", HEADER, FIRST), "partners")

    changes = _import(
        _csv(tmp_path, "again.csv", HEADER, "Tokyo,東京都,JP,Asia/Tokyo,ja,-,,,-"), "partners"
    )

    assert changes == [
        "Tokyo: established_on datetime.date(1979, 3, 14) -> None",
        "Tokyo: precision 'day' -> 'unknown'",
        "Tokyo: note 'first sister city' -> ''",
    ]
    assert _tie() == (None, "unknown", "FAO page", "", "active")


def test_reimport_contact_empty_cells_keep_and_dash_clears(amity_db: str, tmp_path: Path) -> None:
    _import(_csv(tmp_path, "partners.csv", HEADER, FIRST), "partners")
    _import(_csv(tmp_path, "first.csv", CONTACTS, SATO.rstrip(",")), "contacts")

    changes = _import(
        _csv(
            tmp_path,
            "again.csv",
            CONTACTS,
            "Tokyo,JP,佐藤 花子,Hanako Sato,sato@tokyo.example,ja,,-,",
        ),
        "contacts",
    )

    with session_scope() as session:
        sato = session.scalars(select(Contact)).one()
        stored = (sato.title, sato.office, sato.salutations)
    assert (changes, stored) == (
        ["sato@tokyo.example: office '国際課' -> ''"],
        ("知事", "", {"fr": "Madame la Gouverneure"}),
    )


def test_partners_import_dry_run_lists_each_field_that_would_change_and_writes_nothing(
    amity_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(_csv(tmp_path, "first.csv", HEADER, FIRST), "partners")
    changed = _csv(
        tmp_path,
        "changed.csv",
        HEADER + ",status",
        "Tokyo,東京都,JP,Asia/Tokyo,ja,1979-03,month,,-,suspended",
    )

    code = main(["partners", "import", str(changed), "--dry-run"])

    assert (code, capsys.readouterr().out.splitlines()) == (
        0,
        [
            "validated changed.csv (partners): 1 rows, 0 created, 1 updated, 0 unchanged, "
            "0 rejected",
            "  changed Tokyo: established_on datetime.date(1979, 3, 14) -> "
            "datetime.date(1979, 3, 1)",
            "  changed Tokyo: precision 'day' -> 'month'",
            "  changed Tokyo: status 'active' -> 'suspended'",
            "  changed Tokyo: note 'first sister city' -> ''",
        ],
    )
    assert _tie() == ("1979-03-14", "day", "FAO page", "first sister city", "active")
    with session_scope() as session:
        assert session.scalars(select(City.name).order_by(City.name)).all() == [
            "Beijing",
            "Tokyo",
        ]
