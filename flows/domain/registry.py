"""Partner and contact records: reading and validating import files (pure: rows in, records out)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

import langcodes
import pycountry
import yaml
from email_validator import EmailNotValidError, validate_email

from flows.domain.address import RANKS
from flows.domain.spreadsheet import safe_writer
from flows.domain.vocabulary import CITY_KINDS, TIE_KINDS, TIE_STATUSES

PARTNER_COLUMNS = (
    "city",
    "native_name",
    "country_code",
    "timezone",
    "language",
    "established_on",
    "precision",
    "source",
    "note",
)
PARTNER_REQUIRED = ("city", "native_name", "country_code", "timezone", "language")
#: optional partner columns, with their defaults
PARTNER_OPTIONAL = {
    "kind": "friendship_city",
    "status": "active",
    "city_kind": "municipality",
    "home_district": "",
}
CONTACT_COLUMNS = ("city", "country_code", "name_native", "name_latin", "email", "language")
CONTACT_OPTIONAL = {
    "title": "",
    "honorific": "",
    "rank": "",
    "gender": "",
    "family_name": "",
    "family_name_latin": "",
    "office": "",
    "opted_out": "no",
    "note": "",
    #: addresses that may answer invitations for the contact (an aide), separated by spaces
    "reply_delegates": "",
}
#: ``salutation_fr``, ``salutation_de`` ...: a salutation written by hand for that language
SALUTATION_PREFIX = "salutation_"
GENDERS = ("female", "male")

_DATE_FORMS = {
    "day": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "month": re.compile(r"^\d{4}-\d{2}$"),
    "year": re.compile(r"^\d{4}$"),
}
R = TypeVar("R")
#: an optional cell holding only this clears the stored value; an empty one keeps it
CLEAR = "-"
#: characters no one-line value (a name, a title) may hold
LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00"
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}


class ImportFileError(Exception):
    """The file itself cannot be read (missing, wrong format, missing columns)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of one row, worded for the person who typed it."""

    file: str
    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.column}={self.value!r}: {self.reason}"


@dataclass(frozen=True)
class PartnerRecord:
    row: int
    city: str
    native_name: str
    country_code: str
    timezone: str
    language: str
    established_on: dt.date | None
    precision: str
    source: str
    note: str
    kind: str
    status: str
    city_kind: str
    home_district: str
    #: optional columns left empty: a re-import keeps what is stored for them
    kept: frozenset[str] = frozenset()

    @property
    def key(self) -> tuple[str, str]:
        return (self.city, self.country_code)


@dataclass(frozen=True)
class ContactRecord:
    row: int
    city: str
    country_code: str
    name_native: str
    name_latin: str
    email: str
    language: str
    title: str
    honorific: str
    office: str
    is_opted_out: bool
    note: str
    #: office rank (flows.domain.address.RANKS) and gender; "" = not recorded
    rank: str = ""
    gender: str = ""
    family_name: str = ""
    family_name_latin: str = ""
    #: language -> salutation written by hand (CLEAR: remove the stored one)
    salutations: dict[str, str] = field(default_factory=dict)
    #: who may answer for the contact (iMIP SENT-BY): lower-case addresses, space-separated
    reply_delegates: str = ""
    #: optional columns left empty: a re-import keeps what is stored for them
    kept: frozenset[str] = frozenset()

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.city, self.country_code, self.email)


@dataclass
class Validated(Generic[R]):
    records: list[R] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: raw rows (with their row number) that had problems, for the rejects file
    rejected_rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


# --- reading -----------------------------------------------------------------------------


def read_rows(path: Path, *, list_key: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, row) from a CSV (row = line number in the file) or YAML file.

    In YAML the records are a list under ``list_key`` (or the top-level list); the row is
    the entry's position, counting from 1.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise ImportFileError(f"{path}: expected a .csv, .yaml or .yml file")
    text = read_text_file(path)
    if suffix == ".csv":
        yield from _csv_rows(text)
    elif suffix in (".yaml", ".yml"):
        yield from _yaml_rows(path, text, list_key)
    else:
        raise ImportFileError(f"{path}: expected a .csv, .yaml or .yml file")


def read_text_file(path: Path) -> str:
    """The text of an import file, or ImportFileError saying in one line why it cannot be read."""
    if path.is_dir():
        raise ImportFileError(f"{path}: is a folder, not a file")
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        kind = "'CSV UTF-8'" if path.suffix.lower() == ".csv" else "UTF-8"
        raise ImportFileError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as {kind} and import again"
        ) from None
    if not text.strip():
        raise ImportFileError(f"{path}: the file is empty")
    return text


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    _ = reader.fieldnames  # reads the header, so line_num counts from it
    line = reader.line_num + 1
    for row in reader:
        yield line, {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        line = reader.line_num + 1


def _yaml_rows(path: Path, text: str, list_key: str) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportFileError(yaml_problem(path, exc)) from exc
    if isinstance(data, dict):
        data = data.get(list_key)
    if not isinstance(data, list):
        raise ImportFileError(f"{path}: expected a list of records under '{list_key}:'")
    for number, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            raise ImportFileError(f"{path}: entry {number} is not a mapping")
        yield number, {str(k): _yaml_text(v) for k, v in entry.items()}


def _yaml_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def yaml_problem(path: Path | str, exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: the file, line and column, and what was wrong."""
    mark = getattr(exc, "problem_mark", None)
    where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{path}{where}: not valid YAML: {what}"


def check_columns(file: str, header: Iterable[str], required: Iterable[str]) -> None:
    missing = [c for c in required if c not in set(header)]
    if missing:
        raise ImportFileError(f"{file}: missing column(s): {', '.join(missing)}")


# --- field checks (cached: a registry repeats the same countries, zones and languages) ----


@cache
def _country_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@cache
def country_problem(code: str) -> str | None:
    """None when ``code`` is an ISO 3166-1 alpha-2 country code (upper case)."""
    if not code:
        return "required"
    if code not in _country_codes():
        return "not an ISO 3166-1 alpha-2 country code"
    return None


def has_line_break(value: str) -> bool:
    return any(ch in value for ch in LINE_BREAKS)


def future_date_problem(value: dt.date | None, today: dt.date | None) -> str | None:
    if value is not None and today is not None and value > today:
        return "in the future: a tie is recorded once it is made"
    return None


@cache
def language_problem(tag: str) -> str | None:
    """None when ``tag`` is a well-formed BCP 47 tag whose language exists."""
    if not tag:
        return "required"
    if not langcodes.tag_is_valid(tag):
        return "not a valid BCP 47 language tag"
    return None


@cache
def email_problem(address: str) -> str | None:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def parse_established(value: str, precision: str) -> tuple[dt.date | None, str | None]:
    """The tie date truncated to its precision, or the reason it does not match it."""
    if precision in ("", "unknown"):
        if value:
            return None, "a date needs a precision of day, month or year"
        return None, None
    pattern = _DATE_FORMS.get(precision)
    if pattern is None:
        return None, "precision must be day, month, year or unknown"
    if not pattern.match(value):
        example = {"day": "1979-03-14", "month": "1979-03", "year": "1979"}[precision]
        return None, f"does not match precision '{precision}' (expected e.g. {example})"
    parts = [int(p) for p in value.split("-")] + [1, 1]
    try:
        return dt.date(parts[0], parts[1], parts[2]), None
    except ValueError as exc:
        return None, f"not a real date: {exc}"


# --- validation --------------------------------------------------------------------------


@dataclass
class _RowProblems:
    """Collects the problems of one row: ``bad(column, reason)``."""

    file: str
    row_no: int
    row: dict[str, str]
    problems: list[Problem]

    def __call__(self, column: str, reason: str) -> None:
        self.problems.append(
            Problem(self.file, self.row_no, column, self.row.get(column, ""), reason)
        )


def _kept_and_cleared(row: dict[str, str], columns: Iterable[str]) -> tuple[set[str], set[str]]:
    """Optional columns left empty (keep the stored value) and given as CLEAR (clear it)."""
    kept = {c for c in columns if not row.get(c)}
    cleared = {c for c in columns if row.get(c) == CLEAR}
    return kept, cleared


def validate_partners(
    file: str, rows: Iterable[tuple[int, dict[str, str]]], *, today: dt.date | None = None
) -> Validated[PartnerRecord]:
    """Check every row; ``today`` (the office's day) refuses ties dated after it.

    An optional cell left empty keeps what a re-import finds stored; CLEAR ("-") clears it.
    """
    out: Validated[PartnerRecord] = Validated()
    seen: dict[tuple[str, str], int] = {}
    header_checked = False
    for row_no, row in rows:
        if not header_checked:
            check_columns(file, row.keys(), PARTNER_REQUIRED)
            header_checked = True
        problems: list[Problem] = []
        bad = _RowProblems(file, row_no, row, problems)

        for column in PARTNER_REQUIRED:
            if not row.get(column):
                bad(column, "required")
        for column in ("city", "native_name"):
            if has_line_break(row.get(column, "")):
                bad(column, "must be one line")
        country = row.get("country_code", "")
        if country and (reason := country_problem(country)):
            bad("country_code", reason)
        zone = row.get("timezone", "")
        if zone and zone not in _timezones():
            bad("timezone", "not an IANA time zone")
        language = row.get("language", "")
        if language and (reason := language_problem(language)):
            bad("language", reason)
        kept, cleared = _kept_and_cleared(
            row, ("established_on", "source", "note", *PARTNER_OPTIONAL)
        )
        date_cell = "" if "established_on" in cleared else row.get("established_on", "")
        precision = "" if row.get("precision") == CLEAR else row.get("precision", "")
        precision = precision or ("unknown" if not date_cell else "")
        established, reason = parse_established(date_cell, precision)
        if reason:
            bad(
                "established_on"
                if precision in _DATE_FORMS or precision in ("", "unknown")
                else "precision",
                reason,
            )
        elif reason := future_date_problem(established, today):
            bad("established_on", reason)
        if "established_on" in kept and not row.get("precision"):
            kept.add("precision")  # no date and no precision: the stored date stands
        else:
            kept.discard("established_on")
        values = {
            k: default if k in cleared else (row.get(k) or default)
            for k, default in PARTNER_OPTIONAL.items()
        }
        for column, allowed in (
            ("kind", TIE_KINDS),
            ("status", TIE_STATUSES),
            ("city_kind", CITY_KINDS),
        ):
            if values[column] not in allowed:
                bad(column, f"must be one of {', '.join(allowed)}")
        key = (row.get("city", ""), country)
        if key[0] and key in seen:
            bad("city", f"duplicate of row {seen[key]} ({key[0]}, {country})")
        else:
            seen[key] = row_no
        if problems:
            out.problems.extend(problems)
            out.rejected_rows.append((row_no, row))
            continue
        out.records.append(
            PartnerRecord(
                row=row_no,
                city=row["city"],
                native_name=row["native_name"],
                country_code=country,
                timezone=zone,
                language=language,
                established_on=established,
                precision=precision or "unknown",
                source="" if "source" in cleared else row.get("source", ""),
                note="" if "note" in cleared else row.get("note", ""),
                kind=values["kind"],
                status=values["status"],
                city_kind=values["city_kind"],
                home_district=values["home_district"],
                kept=frozenset(kept - {"home_district"}),
            )
        )
    if not header_checked:
        raise ImportFileError(f"{file}: no rows below the header")
    return out


def validate_contacts(
    file: str, rows: Iterable[tuple[int, dict[str, str]]]
) -> Validated[ContactRecord]:
    """Check every row; an optional cell left empty keeps what is stored, CLEAR ("-") clears it."""
    out: Validated[ContactRecord] = Validated()
    seen: dict[tuple[str, str, str], int] = {}
    header_checked = False
    for row_no, row in rows:
        if not header_checked:
            check_columns(file, row.keys(), CONTACT_COLUMNS)
            header_checked = True
        problems: list[Problem] = []
        bad = _RowProblems(file, row_no, row, problems)

        for column in CONTACT_COLUMNS:
            if not row.get(column):
                bad(column, "required")
        country = row.get("country_code", "")
        if country and (reason := country_problem(country)):
            bad("country_code", reason)
        email = row.get("email", "").lower()
        if email and (reason := email_problem(email)):
            bad("email", reason)
        language = row.get("language", "")
        if language and (reason := language_problem(language)):
            bad("language", reason)
        salutations = {
            column.removeprefix(SALUTATION_PREFIX): value
            for column, value in row.items()
            if column.startswith(SALUTATION_PREFIX) and value
        }
        for lang in salutations:
            if reason := language_problem(lang):
                bad(SALUTATION_PREFIX + lang, f"the column names no language: {reason}")
        one_line = ("city", "name_native", "name_latin", "title", "honorific", "office")
        for column in (
            *one_line,
            "family_name",
            "family_name_latin",
            *(SALUTATION_PREFIX + k for k in salutations),
        ):
            if has_line_break(row.get(column, "")):
                bad(column, "must be one line")
        kept, cleared = _kept_and_cleared(row, CONTACT_OPTIONAL)
        row = {k: "" if k in cleared else v for k, v in row.items()}
        rank = row.get("rank", "").strip().lower().replace(" ", "_").replace("-", "_")
        if rank and rank not in RANKS:
            bad("rank", f"not one of {', '.join(RANKS)}")
        gender = row.get("gender", "").strip().lower()
        if gender and gender not in GENDERS:
            bad("gender", "must be female, male or empty (not recorded)")
        opted = (row.get("opted_out") or "no").lower()
        if opted not in _YES | _NO:
            bad("opted_out", "must be yes or no")
        delegates = (row.get("reply_delegates") or "").replace(";", " ").replace(",", " ")
        delegates = " ".join(d.lower() for d in delegates.split())
        for delegate in delegates.split():
            if reason := email_problem(delegate):
                bad("reply_delegates", f"{delegate}: {reason}")
        key = (row.get("city", ""), country, email)
        if email and key in seen:
            bad("email", f"duplicate of row {seen[key]}")
        else:
            seen[key] = row_no
        if problems:
            out.problems.extend(problems)
            out.rejected_rows.append((row_no, row))
            continue
        out.records.append(
            ContactRecord(
                row=row_no,
                city=row["city"],
                country_code=country,
                name_native=row["name_native"],
                name_latin=row["name_latin"],
                email=email,
                language=language,
                title=row.get("title", ""),
                honorific=row.get("honorific", ""),
                office=row.get("office", ""),
                is_opted_out=opted in _YES,
                note=row.get("note", ""),
                rank=rank,
                gender=gender,
                family_name=row.get("family_name", "").strip(),
                family_name_latin=row.get("family_name_latin", "").strip(),
                salutations=salutations,
                reply_delegates=delegates,
                kept=frozenset(kept),
            )
        )
    if not header_checked:
        raise ImportFileError(f"{file}: no rows below the header")
    return out


def validate_import_file(path: Path, kind: str, *, today: dt.date | None) -> Any:
    """Every row of a partners or contacts file checked (no database); ImportFileError when
    the file itself cannot be read (missing, a folder, not UTF-8, empty, a missing column)."""
    if kind == "partners":
        return validate_partners(path.name, read_rows(path, list_key="partners"), today=today)
    return validate_contacts(path.name, read_rows(path, list_key="contacts"))


def anniversary_md(established_on: dt.date | None) -> int | None:
    """The month-day key the reminder index is built on (see db.models.Tie.anniversary_md)."""
    if established_on is None:
        return None
    return established_on.month * 100 + established_on.day


def rejects_csv(
    columns: list[str], rejected: list[tuple[int, dict[str, str]]], problems: list[Problem]
) -> str:
    """The rejected rows as CSV, with their row number and reasons, for the organizer to fix."""
    reasons: dict[int, list[str]] = {}
    for p in problems:
        reasons.setdefault(p.row, []).append(f"{p.column}: {p.reason}")
    buf = io.StringIO()
    writer = safe_writer(buf, lineterminator="\n")
    writer.writerow(["row", *columns, "problems"])
    for row_no, row in rejected:
        writer.writerow(
            [row_no, *(row.get(c, "") for c in columns), "; ".join(reasons.get(row_no, []))]
        )
    return buf.getvalue()


def read_city_names(path: Path) -> dict[str, dict[str, str]]:
    """City -> language -> name, from a file shaped like config/data/city_names.yaml.

    Raises ImportFileError naming the file, the city and the language of every bad entry.
    """
    text = read_text_file(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportFileError(yaml_problem(path, exc)) from None
    cities = data.get("cities") if isinstance(data, dict) else None
    if not isinstance(cities, dict):
        raise ImportFileError(f"{path}: expected a mapping 'cities: {{City: {{lang: name}}}}'")
    problems: list[str] = []
    out: dict[str, dict[str, str]] = {}
    for city, entry in cities.items():
        if not isinstance(entry, dict):
            problems.append(f"{path}: cities.{city}: must map languages to names")
            continue
        names: dict[str, str] = {}
        for lang, name in entry.items():
            if lang == "note":
                continue
            if reason := language_problem(str(lang)):
                problems.append(f"{path}: cities.{city}.{lang}: {reason}")
            elif not isinstance(name, str) or not name.strip() or has_line_break(name):
                problems.append(f"{path}: cities.{city}.{lang}={name!r}: must be a one-line name")
            else:
                names[str(lang)] = name.strip()
        out[str(city)] = names
    if problems:
        raise ImportFileError("\n".join(problems))
    return out
