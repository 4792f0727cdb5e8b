"""Every CSV amity writes is safe to open in a spreadsheet (OWASP: formula cells get a `'`)."""

from __future__ import annotations

import csv
import dataclasses
import io

from flows.domain.registry import Problem, rejects_csv
from flows.domain.report import compute_report, contacts_csv
from flows.domain.spreadsheet import safe_cell
from tests.flows.domain.test_report import NOW, fixture_input

EVIL = '=HYPERLINK("http://evil.example/x","Click")'


def test_safe_cell_prefixes_every_formula_start_and_leaves_the_rest() -> None:
    cells = [EVIL, "+1 555", "-2+3", "@SUM(A1)", "\tx", "\rx", "Tokyo", "", 42, -3, 1.5, None]

    assert [safe_cell(c) for c in cells] == [
        "'" + EVIL,
        "'+1 555",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "Tokyo",
        "",
        42,
        -3,
        1.5,
        None,
    ]


def test_report_contacts_csv_neutralises_a_formula_in_a_contact_name() -> None:
    data = fixture_input()
    first = dataclasses.replace(data.invitations[0], name=EVIL)
    data = dataclasses.replace(data, invitations=[first, *data.invitations[1:]])

    rows = list(csv.reader(io.StringIO(contacts_csv(compute_report(data, now=NOW)))))

    names = [row[1] for row in rows[1:]]
    assert "'" + EVIL in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_rejects_file_neutralises_what_the_rejected_row_held() -> None:
    row = {"city": "=cmd|'/C calc'!A0", "email": "@evil", "note": "-1"}
    problems = [Problem("contacts.csv", 2, "email", "@evil", "not an e-mail address")]

    text = rejects_csv(["city", "email", "note"], [(2, row)], problems)

    assert list(csv.reader(io.StringIO(text))) == [
        ["row", "city", "email", "note", "problems"],
        ["2", "'=cmd|'/C calc'!A0", "'@evil", "'-1", "email: not an e-mail address"],
    ]
