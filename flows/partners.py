"""Partner records: import partners and contacts from CSV or YAML, all rows or none."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from config.settings import DATA_DIR, get_settings
from db.reference import CITY_NAMES, DEMO_CONTACTS, REFERENCE_PARTNERS
from db.registry import set_city_names, upsert_contacts, upsert_partners
from db.session import session_scope
from flows.domain.clock import office_today
from flows.domain.registry import (
    CONTACT_COLUMNS,
    CONTACT_OPTIONAL,
    PARTNER_COLUMNS,
    PARTNER_OPTIONAL,
    ImportFileError,
    Problem,
    read_city_names,
    rejects_csv,
    validate_import_file,
)
from flows.engine.console import run_logger


@dataclass
class ImportResult:
    file: str
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    imported: bool = False
    dry_run: bool = False
    changes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rejects_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rejects_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


def office_day() -> dt.date:
    """Today in the home city: a tie dated after it is refused."""
    return office_today(dt.datetime.now(dt.UTC), get_settings().home_city.timezone)


def validate_file(path: Path, kind: str) -> Any:
    """Every row of a partners or contacts file checked against today (no database)."""
    return validate_import_file(path, kind, today=office_day())


def preview_import(path: Path, kind: str, *, skip_invalid: bool) -> dict[str, Any]:
    """The import checked against the database and rolled back, outside any flow run: what
    the CLI prints for a dry run or a refused file (no Prefect start, no traceback)."""
    return _run_import(path, kind, skip_invalid=skip_invalid, dry_run=True).to_dict()


def _run_import(path: Path, kind: str, *, skip_invalid: bool, dry_run: bool) -> ImportResult:
    settings = get_settings()
    result = ImportResult(file=str(path), kind=kind, dry_run=dry_run)
    if kind == "names":
        return _run_names_import(path, result)
    validated = validate_file(path, kind)
    if kind == "partners":
        columns = [*PARTNER_COLUMNS, *PARTNER_OPTIONAL]
    else:
        columns = [*CONTACT_COLUMNS, *CONTACT_OPTIONAL]
    result.rows = len(validated.records) + len(validated.rejected_rows)
    result.rejected = len(validated.rejected_rows)
    result.problems = [str(p) for p in validated.problems]
    if validated.problems and not skip_invalid:
        return result
    with session_scope() as session:
        if kind == "partners":
            summary = upsert_partners(session, settings.home_city, validated.records)
        else:
            summary = upsert_contacts(session, validated.records)
        # problems only the database can see (an unknown city) count like the file's own
        late = [Problem(path.name, p.row, p.column, p.value, p.reason) for p in summary.problems]
        if late:
            result.problems += [str(p) for p in late]
            result.rejected += len(late)
            if not skip_invalid:
                session.rollback()
                return result
        if dry_run:
            session.rollback()
        result.created, result.updated = summary.created, summary.updated
        result.unchanged, result.changes = summary.unchanged, summary.changes
    result.imported = not dry_run
    if skip_invalid and result.problems and not dry_run:
        rejects = _rejects_path(path)
        rejects.write_text(
            rejects_csv(columns, validated.rejected_rows, validated.problems), encoding="utf-8"
        )
        result.rejects_path = str(rejects)
    return result


def _run_names_import(path: Path, result: ImportResult) -> ImportResult:
    """City names by language: all entries or none (a bad one stops the file)."""
    try:
        names = read_city_names(path)
    except ImportFileError as exc:
        result.problems = str(exc).splitlines()
        return result
    result.rows = len(names)
    with session_scope() as session:
        summary = set_city_names(session, names, source=path.name)
        if summary.problems:
            result.problems = [str(p) for p in summary.problems]
            result.rejected = len(summary.problems)
            session.rollback()
            return result
        if result.dry_run:
            session.rollback()
        result.updated, result.unchanged, result.changes = (
            summary.updated,
            summary.unchanged,
            summary.changes,
        )
    result.imported = not result.dry_run
    return result


@task
def import_file(path: str, kind: str, skip_invalid: bool, dry_run: bool) -> dict[str, Any]:
    """Validate every row, then upsert all of them in one transaction."""
    return _run_import(Path(path), kind, skip_invalid=skip_invalid, dry_run=dry_run).to_dict()


def _artifact(result: dict[str, Any]) -> None:
    lines = [
        f"# Import of `{Path(result['file']).name}` ({result['kind']})",
        "",
        "| rows | created | updated | unchanged | rejected | imported |",
        "|---|---|---|---|---|---|",
        f"| {result['rows']} | {result['created']} | {result['updated']} | {result['unchanged']} "
        f"| {result['rejected']} | {'yes' if result['imported'] else 'no'} |",
    ]
    if result["changes"]:
        lines += ["", "## Changes", *(f"- {c}" for c in result["changes"])]
    if result["problems"]:
        lines += ["", "## Problems", *(f"- `{p}`" for p in result["problems"])]
    create_markdown_artifact(
        markdown="\n".join(lines),
        key=f"import-{result['kind']}",
        description="amity import summary",
    )
    log = run_logger()
    log.info(
        "%s from %s: %d rows, %d created, %d updated, %d unchanged, %d rejected — %s",
        result["kind"].capitalize(),
        Path(result["file"]).name,
        result["rows"],
        result["created"],
        result["updated"],
        result["unchanged"],
        result["rejected"],
        "imported" if result["imported"] else "nothing imported: fix the file and run again",
    )
    for problem in result["problems"]:
        log.info("Problem: %s", problem)


@flow(name="import partners", flow_run_name="partners import: {path}", log_prints=False)
def import_partners(path: str, skip_invalid: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """Import partner cities and their ties from a CSV or YAML file.

    Args:
        path: The partner list (CSV or YAML) on the worker, relative to amity's folder,
            e.g. config/data/beijing_partners.csv.
        skip_invalid: Import the good rows and list the bad ones (in a rejects file), instead
            of importing none when a row is wrong.
        dry_run: Check the file and say what would change, without changing anything.
    """
    result = import_file(path, "partners", skip_invalid, dry_run)
    _artifact(result)
    return result


@flow(name="import contacts", flow_run_name="contacts import: {path}", log_prints=False)
def import_contacts(path: str, skip_invalid: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """Import partner contacts (name, title, form of address, language, e-mail).

    Args:
        path: The contact list (CSV) on the worker, relative to amity's folder,
            e.g. config/data/demo_contacts.csv.
        skip_invalid: Import the good rows and list the bad ones (in a rejects file), instead
            of importing none when a row is wrong.
        dry_run: Check the file and say what would change, without changing anything.
    """
    result = import_file(path, "contacts", skip_invalid, dry_run)
    _artifact(result)
    return result


@flow(name="import city names", flow_run_name="city names import: {path}", log_prints=False)
def import_city_names(path: str, dry_run: bool = False) -> dict[str, Any]:
    """Give registry cities their names by language (letters, calendars, reports) from YAML."""
    result = import_file(path, "names", False, dry_run)
    _artifact(result)
    return result


def load_reference_data() -> list[dict[str, Any]]:
    """Import the shipped partners, their names by language and the demo contacts (idempotent)."""
    from flows.engine.runtime import run_flow

    results = [run_flow(import_partners, str(DATA_DIR / name)) for name in REFERENCE_PARTNERS]
    results.append(run_flow(import_city_names, str(DATA_DIR / CITY_NAMES)))
    results.append(run_flow(import_contacts, str(DATA_DIR / DEMO_CONTACTS)))
    for result in results:
        if result["problems"]:
            raise RuntimeError(f"shipped data has problems: {result['problems'][:3]}")
    return results
