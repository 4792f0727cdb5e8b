"""Reading attendance sheets: records, walk-ins, and errors located by row and column."""

from __future__ import annotations

from flows.domain.attendance import (
    AttendanceRecord,
    AttendanceSheet,
    RowError,
    WalkInRecord,
    parse_attendance_csv,
)

BY_EMAIL = {"sato@metro.tokyo.example": 1, "schmidt@berlin.example": 3}
IDS = {1, 3, 7}


def _parse(text: str) -> AttendanceSheet:
    return parse_attendance_csv(text, invitees_by_email=BY_EMAIL, invitee_ids=IDS)


def test_parse_attendance_reads_contacts_by_email_and_id() -> None:
    sheet = _parse(
        "contact,attended,delegation_size,notes\n"
        "Sato@Metro.Tokyo.example,yes,4,with interpreter\n"
        "3,no,,\n"
        "7,是,,\n"
    )

    assert sheet.errors == ()
    assert sheet.records == (
        AttendanceRecord(2, 1, True, 4, "with interpreter"),
        AttendanceRecord(3, 3, False, 0, ""),
        AttendanceRecord(4, 7, True, 1, ""),
    )


def test_parse_attendance_reads_walk_ins() -> None:
    sheet = _parse(
        "contact,attended,delegation_size,notes,walk_in_name,walk_in_city,walk_in_country\n"
        ",yes,3,came with Seoul,Bat-Erdene Dorj,Ulaanbaatar,mn\n"
    )

    assert (sheet.errors, sheet.records) == ((), ())
    assert sheet.walk_ins == (
        WalkInRecord(2, "Bat-Erdene Dorj", "Ulaanbaatar", "MN", 3, "came with Seoul"),
    )


def test_parse_attendance_unknown_contact_located_by_row() -> None:
    sheet = _parse("contact,attended\n1,yes\nnobody@example.org,yes\n99,no\n")

    assert sheet.errors == (
        RowError(3, "contact", "nobody@example.org", "unknown contact: not invited to this event"),
        RowError(4, "contact", "99", "unknown contact: not invited to this event"),
    )
    assert [r.contact_id for r in sheet.records] == [1]


def test_parse_attendance_malformed_values() -> None:
    sheet = _parse(
        "contact,attended,delegation_size,walk_in_name,walk_in_city\n"
        "1,maybe,2,,\n"
        "3,yes,lots,,\n"
        "7,no,2,,\n"
        ",yes,1,Guest,\n"
        ",yes,1,,\n"
        "Tokyo office,yes,1,,\n"
    )

    assert [(e.row, e.column, e.value, e.reason) for e in sheet.errors] == [
        (2, "attended", "maybe", "must be yes or no"),
        (3, "delegation_size", "lots", "must be a whole number"),
        (4, "delegation_size", "2", "must be 0 or empty when the contact did not attend"),
        (5, "walk_in_city", "", "a walk-in needs a city"),
        (6, "contact", "", "neither a contact nor a walk-in name"),
        (7, "contact", "Tokyo office", "neither an e-mail address nor a contact id"),
    ]
    assert (sheet.records, sheet.walk_ins, sheet.ok) == ((), (), False)


def test_parse_attendance_duplicate_contact_points_at_first_row() -> None:
    sheet = _parse("contact,attended\n1,yes\nsato@metro.tokyo.example,no\n")

    assert sheet.errors == (
        RowError(3, "contact", "sato@metro.tokyo.example", "already given on row 2"),
    )


def test_parse_attendance_header_problems() -> None:
    sheet = _parse("contact,came,delegation_size\n1,yes,1\n")

    assert sheet.errors == (
        RowError(1, "column 2", "came", "unknown column"),
        RowError(0, "", "", "missing column(s): attended"),
    )


def test_parse_attendance_semicolons_bom_and_blank_rows() -> None:
    sheet = _parse("\ufeffE-mail;Attended;Size\n\nschmidt@berlin.example;Y;2\n;;\n")

    assert (sheet.errors, sheet.records) == ((), (AttendanceRecord(3, 3, True, 2, ""),))


def test_parse_attendance_same_text_same_result() -> None:
    text = "contact,attended\n1,yes\n3,no\n"

    assert _parse(text) == _parse(text)
