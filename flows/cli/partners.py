"""`amity init`, `amity db`, `amity partners` and `amity contacts`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flows.cli import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    UserError,
    add_command,
    add_json_flag,
    emit_json,
    need_action,
    table,
)

IMPORT_HELP = """\
Every row is checked first (ISO 3166 country, IANA time zone, BCP 47 language, a date that
matches its precision, e-mail syntax, required fields, duplicates). A file with any bad row
imports nothing and exits 2, printing one line per problem:
    FILE:ROW: COLUMN='VALUE': REASON
Re-importing the same file changes nothing; a changed row updates the record and the
summary (and --dry-run) lists each field that changes. On a re-import an empty optional
cell keeps the stored value; a cell holding only "-" clears it. A tie dated after today
is refused (it is recorded once it is made)."""


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "init",
        cmd_init,
        "create or upgrade the database",
        description="Create or upgrade amity's database (Alembic upgrade to head).\n"
        "With --demo, also load the shipped reference data: Beijing's partners\n"
        "(27 as of 2000 and 11 later ties) and clearly fictitious contacts.",
    )
    p.add_argument("--demo", action="store_true", help="load the shipped reference data too")
    add_json_flag(p)

    p = add_command(sub, "db", cmd_db, "database migrations (upgrade, downgrade, check)")
    p.add_argument("action", choices=["upgrade", "downgrade", "check"])
    p.add_argument("revision", nargs="?", help="target revision (default: head / base)")

    partners = add_command(sub, "partners", need_action, "partner cities and ties").add_subparsers(
        dest="partners_command", metavar="ACTION"
    )
    for kind, group in (("partners", partners),):
        p = add_command(
            group,
            "import",
            cmd_import,
            f"import {kind} from CSV or YAML",
            description=f"Import {kind} from a CSV or YAML file.\n\n{IMPORT_HELP}",
        )
        _import_args(p, kind)
    p = add_command(
        partners,
        "names",
        cmd_import,
        "import city names by language (YAML)",
        description="Give registry cities their names in each language letters, calendars and\n"
        "reports are written in, from a YAML file shaped like config/data/city_names.yaml\n"
        "(cities: {City: {fr: …, ru: …}}). All entries or none; languages not in the file\n"
        "keep their names.",
    )
    p.add_argument("path", type=Path, help="a .yaml or .yml file")
    p.add_argument("--dry-run", action="store_true", help="validate only; change nothing")
    add_json_flag(p)
    p.set_defaults(kind="names", skip_invalid=False)
    p = add_command(partners, "list", cmd_partners_list, "print the partner registry")
    p.add_argument(
        "--until",
        type=int,
        metavar="YEAR",
        help="only ties made by the end of YEAR (and those whose date is unknown)",
    )
    add_json_flag(p)

    contacts = add_command(
        sub, "contacts", need_action, "contacts at partner cities"
    ).add_subparsers(dest="contacts_command", metavar="ACTION")
    p = add_command(
        contacts,
        "import",
        cmd_import,
        "import contacts from CSV or YAML",
        description="Import contacts from a CSV or YAML file: columns city, country_code,\n"
        "name_native, name_latin, email, language; optional title, honorific, rank\n"
        "(governor, mayor, deputy_mayor, minister, chair, director, official ...), gender\n"
        "(female, male), family_name, family_name_latin, office, opted_out, note, and\n"
        f"salutation_<lang> (a salutation written by hand for that language).\n\n{IMPORT_HELP}",
    )
    _import_args(p, "contacts")
    p = add_command(contacts, "list", cmd_contacts_list, "print the contacts")
    add_json_flag(p)


def _import_args(p: argparse.ArgumentParser, kind: str) -> None:
    p.add_argument("path", type=Path, help="a .csv, .yaml or .yml file")
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows; write the rejected ones next to the input",
    )
    p.add_argument("--dry-run", action="store_true", help="validate only; change nothing")
    add_json_flag(p)
    p.set_defaults(kind=kind)


def cmd_init(args: argparse.Namespace) -> int:
    from db.reference import init_database, load_reference_events
    from flows.partners import load_reference_data

    url = init_database()
    results = load_reference_data() if args.demo else []
    events = load_reference_events() if args.demo else None
    if args.json:
        emit_json({"database": url, "imports": results, "events": events})
    else:
        print(f"database ready: {url}")
        for r in results:
            print(_import_line(r))
        if events:
            print(f"historical events: {', '.join(events['loaded'])}")
            for skip in events["skipped"]:
                print(f"  not recorded: {skip['id']} ({skip['reason']})")
    return EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
    from config.settings import get_settings
    from db import migrate

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    if args.action == "upgrade":
        migrate.upgrade(url, args.revision or "head")
    elif args.action == "downgrade":
        if not args.revision:
            raise UserError("downgrade needs a revision (`base` drops every table)")
        migrate.downgrade(url, args.revision)
    else:
        migrate.check(url)
    print(f"{args.action}: ok ({url})")
    return EXIT_OK


def _import_line(r: dict[str, Any]) -> str:
    verb = "validated" if r["dry_run"] else "imported"
    return (
        f"{verb} {Path(r['file']).name} ({r['kind']}): {r['rows']} rows, {r['created']} created, "
        f"{r['updated']} updated, {r['unchanged']} unchanged, {r['rejected']} rejected"
    )


def cmd_import(args: argparse.Namespace) -> int:
    import datetime as dt

    from config.settings import get_settings
    from db.reference import init_database
    from flows.domain.clock import office_today
    from flows.domain.registry import ImportFileError, read_text_file, validate_import_file

    try:
        # the file first, before the database, Prefect or a flow run: one line, exit 2
        if args.kind == "names":
            read_text_file(args.path)
        else:
            today = office_today(dt.datetime.now(dt.UTC), get_settings().home_city.timezone)
            validate_import_file(args.path, args.kind, today=today)
        init_database()
        from flows.partners import preview_import

        result = preview_import(args.path, args.kind, skip_invalid=args.skip_invalid)
        if not args.dry_run and not (result["problems"] and not args.skip_invalid):
            result = _run_import_flow(args)
    except ImportFileError as exc:
        raise UserError(*str(exc).splitlines()) from None
    if args.json:
        emit_json(result)
    else:
        if result["problems"] and not result["imported"] and not args.dry_run:
            print(
                f"{Path(result['file']).name}: nothing imported, "
                f"{len(result['problems'])} problem(s):"
            )
        for problem in result["problems"]:
            print(f"  {problem}")
        if result["imported"] or args.dry_run:
            print(_import_line(result))
        for change in result["changes"]:
            print(f"  changed {change}")
        if result["rejects_path"]:
            print(f"rejected rows written to {result['rejects_path']}")
    if result["problems"] and not (args.skip_invalid or False):
        return EXIT_BAD_INPUT
    return EXIT_OK


def _run_import_flow(args: argparse.Namespace) -> dict[str, Any]:
    """The import as a flow run (its artifact in the Prefect UI), once the file is known good."""
    from flows.engine.runtime import run_flow
    from flows.partners import import_city_names, import_contacts, import_partners

    if args.kind == "names":
        return run_flow(import_city_names, str(args.path), dry_run=args.dry_run)
    run = import_partners if args.kind == "partners" else import_contacts
    return run_flow(run, str(args.path), skip_invalid=args.skip_invalid, dry_run=args.dry_run)


def cmd_partners_list(args: argparse.Namespace) -> int:
    from db.reference import list_partners

    rows = list_partners(until=args.until)
    if args.json:
        emit_json(rows)
        return EXIT_OK
    print_registry(rows, until=args.until)
    return EXIT_OK


def print_registry(rows: list[dict[str, Any]], *, until: int | None = None) -> None:
    print(
        table(
            ["city", "native name", "country", "since", "precision", "kind", "status"],
            [
                [
                    r["city"],
                    r["native_name"],
                    r["country_code"],
                    r["established"],
                    r["precision"],
                    r["kind"],
                    r["status"],
                ]
                for r in rows
            ],
        )
    )
    countries = len({r["country_code"] for r in rows})
    unknown = sum(r["precision"] == "unknown" for r in rows)
    scope = f" by {until}" if until else ""
    print(f"\n{len(rows)} partners in {countries} countries{scope} ({unknown} with unknown dates)")


def cmd_contacts_list(args: argparse.Namespace) -> int:
    from db.reference import list_contacts

    rows = list_contacts()
    if args.json:
        emit_json(rows)
        return EXIT_OK
    print(
        table(
            ["city", "name", "title", "language", "e-mail", "opted out"],
            [
                [
                    r["city"],
                    r["name_native"],
                    r["title"],
                    r["language"],
                    r["email"],
                    "yes" if r["is_opted_out"] else "",
                ]
                for r in rows
            ],
        )
    )
    print(f"\n{len(rows)} contacts")
    return EXIT_OK
