"""Reading an event's attendance sheet (CSV) into records, with every problem located.

One row per invited contact (``contact`` = e-mail or contact id, ``attended`` yes/no,
``delegation_size``, ``notes``) or per walk-in who was not invited (``contact`` left empty,
``walk_in_name`` and ``walk_in_city`` filled, optionally ``walk_in_country``). Row numbers are
the spreadsheet's: the header is row 1. Nothing is resolved against a database here: the
caller passes the event's invitees.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from flows.domain.registry import country_problem, has_line_break

#: Accepted spellings of each column (case and surrounding spaces do not matter).
COLUMNS: Mapping[str, tuple[str, ...]] = {
    "contact": ("contact", "email", "e-mail", "contact_id", "id", "联系人", "邮箱"),
    "attended": ("attended", "present", "出席"),
    "delegation_size": ("delegation_size", "delegation size", "size", "代表团人数", "人数"),
    "notes": ("notes", "note", "备注"),
    "walk_in_name": ("walk_in_name", "walk-in name", "name", "姓名"),
    "walk_in_city": ("walk_in_city", "walk-in city", "city", "城市"),
    "walk_in_country": ("walk_in_country", "walk-in country", "country", "国家"),
}
YES = frozenset({"yes", "y", "true", "1", "x", "是", "出席"})
NO = frozenset({"no", "n", "false", "0", "否", "缺席"})
#: the row of a problem with the whole sheet (no rows, a missing column)
FILE_LEVEL = 0
#: Larger delegations exist, but in a sheet they are almost always a typo (40 for 4).
MAX_DELEGATION = 200


@dataclass(frozen=True)
class AttendanceRecord:
    row: int
    contact_id: int
    attended: bool
    delegation_size: int  #: 0 when the contact did not attend
    notes: str


@dataclass(frozen=True)
class WalkInRecord:
    row: int
    name: str
    city: str
    country: str | None  #: ISO 3166-1 alpha-2, upper case
    delegation_size: int
    notes: str


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        # after the file name: "sheet.csv:3: attended='maybe': must be yes or no"
        if self.row == FILE_LEVEL:
            return f" {self.reason}"
        return f"{self.row}: {self.column}={self.value!r}: {self.reason}"


@dataclass(frozen=True)
class AttendanceSheet:
    records: tuple[AttendanceRecord, ...]
    walk_ins: tuple[WalkInRecord, ...]
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_attendance_csv(
    text: str, *, invitees_by_email: Mapping[str, int], invitee_ids: Collection[int]
) -> AttendanceSheet:
    """Parse the sheet; rows with a problem are left out and reported in ``errors``.

    ``invitees_by_email`` maps case-folded e-mail addresses of the event's invited contacts
    to their ids, ``invitee_ids`` holds their ids; any other contact is an error.
    """
    text = text.removeprefix("\ufeff")  # spreadsheet exports often start with a BOM
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text.split("\n", 1)[0], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        return AttendanceSheet((), (), (RowError(1, "header", "", "the file is empty"),))
    columns, header_errors = _header(rows[0])
    if header_errors:
        return AttendanceSheet((), (), tuple(header_errors))
    if not any(any(cell.strip() for cell in raw) for raw in rows[1:]):
        empty = RowError(FILE_LEVEL, "", "", "no rows below the header")
        return AttendanceSheet((), (), (empty,))

    records: list[AttendanceRecord] = []
    walk_ins: list[WalkInRecord] = []
    errors: list[RowError] = []
    seen_contacts: dict[int, int] = {}
    seen_walk_ins: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in raw):
            continue
        cells = {key: raw[i].strip() if i < len(raw) else "" for key, i in columns.items()}
        row = _Row(number, cells)
        fail = row.fail

        attended = _yes_no(cells.get("attended", ""))
        if attended is None:
            fail("attended", "must be yes or no")
        size = _size(cells.get("delegation_size", ""), attended, fail)
        notes = cells.get("notes", "")
        reference = cells.get("contact", "")
        if reference:
            contact_id = _resolve(reference, invitees_by_email, invitee_ids, fail)
            if contact_id is not None and contact_id in seen_contacts:
                fail("contact", f"already given on row {seen_contacts[contact_id]}")
            if not row.errors and contact_id is not None and attended is not None:
                seen_contacts[contact_id] = number
                records.append(AttendanceRecord(number, contact_id, attended, size or 0, notes))
        else:
            name, city = cells.get("walk_in_name", ""), cells.get("walk_in_city", "")
            country = cells.get("walk_in_country", "").upper() or None
            if not name:
                fail("contact", "neither a contact nor a walk-in name")
            if name and not city:
                fail("walk_in_city", "a walk-in needs a city")
            if country is not None and (reason := country_problem(country)):
                fail("walk_in_country", reason)
            for column in ("walk_in_name", "walk_in_city"):
                if has_line_break(cells.get(column, "")):
                    fail(column, "must be one line")
            if attended is False:
                fail("attended", "a walk-in who did not attend has no place in the sheet")
            key = (name.casefold(), city.casefold())
            if name and key in seen_walk_ins:
                fail("walk_in_name", f"already given on row {seen_walk_ins[key]}")
            if not row.errors:
                seen_walk_ins[key] = number
                walk_ins.append(WalkInRecord(number, name, city, country, size or 1, notes))
        errors += row.errors
    return AttendanceSheet(tuple(records), tuple(walk_ins), tuple(errors))


def _header(cells: list[str]) -> tuple[dict[str, int], list[RowError]]:
    spelled = {alias.casefold(): key for key, aliases in COLUMNS.items() for alias in aliases}
    columns: dict[str, int] = {}
    errors: list[RowError] = []
    for i, cell in enumerate(cells):
        key = spelled.get(cell.strip().removeprefix("\ufeff").casefold())
        if key is None:
            errors.append(RowError(1, f"column {i + 1}", cell, "unknown column"))
        elif key in columns:
            errors.append(RowError(1, f"column {i + 1}", cell, f"{key} given twice"))
        else:
            columns[key] = i
    missing = [key for key in ("attended",) if key not in columns]
    if "contact" not in columns and "walk_in_name" not in columns:
        missing.append("contact (or walk_in_name)")
    if missing:
        errors.append(RowError(FILE_LEVEL, "", "", f"missing column(s): {', '.join(missing)}"))
    return columns, errors


def _yes_no(value: str) -> bool | None:
    v = value.strip().casefold()
    return True if v in YES else False if v in NO else None


def _size(value: str, attended: bool | None, fail: _Fail) -> int | None:
    if not value:
        return 1 if attended else 0
    try:
        size = int(value)
    except ValueError:
        fail("delegation_size", "must be a whole number")
        return None
    if attended is None and size < 0:
        fail("delegation_size", "must be 0 or more")
    elif attended and not 1 <= size <= MAX_DELEGATION:
        fail("delegation_size", f"must be between 1 and {MAX_DELEGATION} for an attendee")
    elif attended is False and size != 0:
        fail("delegation_size", "must be 0 or empty when the contact did not attend")
    return size


def _resolve(
    reference: str, by_email: Mapping[str, int], ids: Collection[int], fail: _Fail
) -> int | None:
    if "@" in reference:
        found = by_email.get(reference.casefold())
    elif reference.isdigit():
        found = int(reference) if int(reference) in ids else None
    else:
        fail("contact", "neither an e-mail address nor a contact id")
        return None
    if found is None:
        fail("contact", "unknown contact: not invited to this event")
    return found


@dataclass
class _Row:
    number: int
    cells: Mapping[str, str]
    errors: list[RowError] = field(default_factory=list)

    def fail(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.number, column, self.cells.get(column, ""), reason))


class _Fail(Protocol):
    """The per-row callback that records a problem with one column."""

    def __call__(self, column: str, reason: str) -> None: ...
