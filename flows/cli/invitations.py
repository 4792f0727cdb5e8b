"""`amity invite` and `amity rsvp import`."""

from __future__ import annotations

import argparse
from typing import Any

from flows.cli import (
    EXIT_FAILED,
    EXIT_OK,
    UserError,
    add_command,
    add_json_flag,
    emit_json,
    need_action,
    require_event,
)


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "invite",
        cmd_invite,
        "write and send the invitations of an event",
        description="For each invited contact: a formal letter (HTML + PDF) in the contact's\n"
        "language (with the host's language alongside for bilingual events) and an iMIP\n"
        "e-mail whose calendar part shows Accept/Decline. Everything is rendered first;\n"
        "a problem stops the run before anything is sent. Safe to re-run and to interrupt:\n"
        "the delivery ledger never sends a message twice. Files go to\n"
        "AMITY_HOME/out/EVENT/invitations/.",
    )
    p.add_argument("event", help="event slug or id")
    p.add_argument("--only", nargs="+", metavar="CITY", help="only the contacts of these cities")
    p.add_argument(
        "--dry-run", action="store_true", help="write letters, .ics and .eml; send nothing"
    )
    p.add_argument(
        "--runner",
        choices=["thread", "dask"],
        default="thread",
        help="task runner: threads (default) or a local Dask cluster of AMITY_TASK_WORKERS "
        "worker processes, for very large batches",
    )
    p.add_argument(
        "--strict-language",
        action="store_true",
        help="send nothing if any letter would print a value in another language than its "
        "own or cannot address its reader correctly (AMITY_STRICT_LANGUAGE=true: always)",
    )
    p.add_argument(
        "--remind-pending",
        action="store_true",
        help="re-send the same invitation to contacts who have not answered",
    )
    p.add_argument(
        "--send-at",
        metavar="TIME",
        help="once approved, send at this time (e.g. 2027-01-10T09:00, home time zone unless "
        "stated; needs a Prefect server with amity's deployments and a worker)",
    )
    p.add_argument(
        "--approve",
        action="store_true",
        help="approve the rendered messages now, in the name of --by (recorded with the digest)",
    )
    p.add_argument("--by", default=None, help="who approves (default: your login name)")
    p.add_argument(
        "--wait",
        action="store_true",
        help="keep the run paused until it is approved in the Prefect UI or by `amity approve` "
        "(with PREFECT_API_URL set to a server)",
    )
    add_json_flag(p)

    rsvp = add_command(sub, "rsvp", need_action, "replies to invitations").add_subparsers(
        dest="rsvp_command", metavar="ACTION"
    )
    p = add_command(
        rsvp,
        "import",
        cmd_rsvp_import,
        "record iMIP replies (.eml, .ics, Maildir)",
        description="Read iMIP REPLY messages (.eml files, Maildir folders, bare .ics) and\n"
        "record each attendee's answer. Unknown UIDs or attendees and stale replies\n"
        "are reported, not fatal.",
    )
    p.add_argument("paths", nargs="+", help="files or folders")
    add_json_flag(p)


def cmd_invite(args: argparse.Namespace) -> int:
    from db.events import EventNotFound
    from db.reference import init_database
    from flows.cli.review import print_review
    from flows.engine.runtime import run_flow
    from flows.invitations import PreflightError, send_invitations

    init_database()
    require_event(args.event)
    flow = send_invitations
    if args.runner == "dask":
        from config.settings import get_settings
        from flows.engine.runners import task_runner_for

        workers = get_settings().task_workers
        flow = send_invitations.with_options(task_runner=task_runner_for("dask", workers))
    from flows.cli.review import invite_decider
    from flows.review import deciding

    decider, wait, send_at = invite_decider(args)
    try:
        with deciding(decider, wait=wait, send_at=send_at):
            summary = run_flow(
                flow,
                args.event,
                only=args.only,
                dry_run=args.dry_run,
                remind_pending=args.remind_pending,
                strict_language=args.strict_language,
            )
    except (EventNotFound, PreflightError) as exc:
        raise UserError(str(exc)) from None
    if args.json:
        emit_json(summary)
    else:
        mode = " (dry run: nothing sent)" if summary["dry_run"] else ""
        print(f"invitations for {summary['event']}{mode}")
        print(
            f"  invited {summary['invited']}, sent now {summary['sent']}, "
            f"sent before {summary['already_sent']}, opted out {len(summary['skipped_opted_out'])}, "
            f"failed {len(summary['failed'])}"
        )
        for f in summary["failed"]:
            print(f"  failed: {f['email']} ({f['city']}): {f['reason']}")
        for f in summary["fallbacks"]:
            print(f"  letter in {f['got']} instead of {f['wanted']}: {f['email']} ({f['city']})")
        if summary["mixed"]:
            print(
                f"  {len(summary['mixed'])} letter(s) mix languages (a value has no translation):"
            )
        for m in summary["mixed"]:
            values = ", ".join(
                f"{v['field']} in {v['used']} (letter {v['language']})" for v in m["values"]
            )
            print(f"    {m['email']} ({m['city']}): {values}")
        if summary["address_problems"]:
            print(f"  {len(summary['address_problems'])} contact(s) cannot be addressed correctly:")
        for p in summary["address_problems"]:
            print(f"    {p['email']} ({p['city']}): {'; '.join(p['problems'])}")
        print(f"  letters, .ics and .eml: {summary['out_dir']}")
        print_review(summary.get("review"))
    return EXIT_FAILED if summary["failed"] else EXIT_OK


def cmd_rsvp_import(args: argparse.Namespace) -> int:
    from flows.engine.runtime import run_flow
    from flows.rsvp import import_replies, reply_files

    try:
        reply_files(args.paths)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    summary = run_flow(import_replies, args.paths)
    if args.json:
        emit_json(summary)
        return EXIT_OK
    print(
        f"{summary['files']} file(s): {summary['recorded']} answer(s) recorded, "
        f"{summary['stale']} stale"
    )
    for line in summary["unknown"]:
        print(f"  unknown invitation or attendee: {line}")
    for line in summary["invalid"]:
        print(f"  not a reply: {line}")
    return EXIT_OK
