"""`amity report` and `amity attendance import`."""

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
    require_event,
)

ATTENDANCE_HELP = """\
Columns (header row, comma or semicolon separated, any order):
  contact          e-mail or id of an invited contact; empty for a walk-in
  attended         yes/no
  delegation_size  people who came with (and including) the contact; default 1
  notes            free text; on a re-import an empty cell keeps the notes, "-" clears them
  walk_in_name, walk_in_city, walk_in_country (ISO code, optional): guests not invited
Every row is checked first; unknown contacts and malformed rows are listed as
    FILE:ROW: COLUMN='VALUE': REASON
and nothing is imported unless --skip-invalid. Re-importing the same file changes nothing.
A sheet is taken for an event that has ended or that was marked held (`amity events held`)."""


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "report",
        cmd_report,
        "write the post-event report of an event",
        description="Write the post-event report of EVENT (slug or id): HTML, PDF, Markdown\n"
        "and a CSV of every invited contact, under <home>/out/<event>/report/<lang>/.\n"
        "The Markdown is published as a Prefect artifact and the event becomes 'reported'.\n"
        "Re-running replaces the report; only its generation time changes.",
    )
    p.add_argument("event", help="event slug or id")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="report language")
    add_json_flag(p)

    attendance = add_command(sub, "attendance", need_action, "attendance of events").add_subparsers(
        dest="attendance_command", metavar="ACTION"
    )
    p = add_command(
        attendance,
        "import",
        cmd_attendance_import,
        "import an attendance sheet (CSV)",
        description=f"Import who attended EVENT from a CSV sheet.\n\n{ATTENDANCE_HELP}",
    )
    p.add_argument("event", help="event slug or id")
    p.add_argument("path", type=Path, help="the attendance CSV")
    p.add_argument("--skip-invalid", action="store_true", help="import the valid rows anyway")
    add_json_flag(p)


def cmd_report(args: argparse.Namespace) -> int:
    from db.events import EventNotFound
    from db.reference import init_database
    from flows.domain.report import ReportError
    from flows.reports import ReportRefused, check_report, report_event

    init_database()
    require_event(args.event)
    try:
        # the event's state first, before a flow run: a refusal is one line, no traceback
        check_report(args.event)
        result = report_event(args.event, args.lang)
    except (EventNotFound, ReportRefused, ReportError) as exc:
        raise UserError(str(exc)) from None
    if args.json:
        emit_json(result)
        return EXIT_OK
    f = result["figures"]
    print(f"report of {result['event']} ({result['language']}) written to {result['folder']}")
    print(
        f"  invited {f['invited']}, answered {f['answered']}, accepted {f['accepted']}, "
        f"attended {f['attended']} ({f['people']} people, {f['partners_present']} partner cities)"
    )
    for path in result["files"].values():
        print(f"  {path}")
    return EXIT_OK


def cmd_attendance_import(args: argparse.Namespace) -> int:
    from db.events import EventNotFound
    from db.reference import init_database
    from flows.engine.runtime import run_flow
    from flows.reports import ReportRefused, check_attendance, import_attendance

    init_database()
    require_event(args.event)
    try:
        # every check before a flow run: a bad sheet or an event not held is exit 2, no traceback
        result = check_attendance(args.event, str(args.path))
        if not result["problems"] or args.skip_invalid:
            result = run_flow(
                import_attendance, args.event, str(args.path), skip_invalid=args.skip_invalid
            )
    except (EventNotFound, ReportRefused) as exc:
        raise UserError(str(exc)) from None
    if args.json:
        emit_json(result)
    else:
        if result["problems"] and not result["imported"]:
            print(f"{args.path.name}: nothing imported, {len(result['problems'])} problem(s):")
        for problem in result["problems"]:
            print(f"  {problem}")
        if result["imported"]:
            print(
                f"imported {args.path.name} for {result['event']}: {result['rows']} rows, "
                f"{result['created']} created, {result['updated']} updated, "
                f"{result['unchanged']} unchanged, {result['rejected']} rejected"
            )
    return EXIT_BAD_INPUT if result["problems"] and not args.skip_invalid else EXIT_OK
