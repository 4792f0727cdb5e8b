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
        description="Read iMIP REPLY messages (.eml files, Maildir folders) and record each\n"
        "attendee's answer. A reply counts only if its sender (From:) is the attendee, or\n"
        "a delegate recorded for the contact (the contacts file's reply_delegates). Every\n"
        "reply refused or ignored is listed with its file and why; none is fatal.",
    )
    p.add_argument("paths", nargs="+", help="files or folders")
    add_json_flag(p)
    p = add_command(
        rsvp,
        "list",
        cmd_rsvp_list,
        "the answers recorded for an event",
        description="Each invited contact with the answer recorded from their replies\n"
        "(accepted, declined, tentative, delegated, or no answer yet).",
    )
    p.add_argument("event", help="event slug or id")
    add_json_flag(p)
    from flows.cli.mailbox import register_rsvp

    register_rsvp(rsvp)


def cmd_invite(args: argparse.Namespace) -> int:
    from db.events import EventNotFound
    from db.reference import init_database
    from flows.cli.review import print_review
    from flows.engine.runtime import run_flow
    from flows.invitations import PreflightError, send_invitations

    init_database()
    require_event(args.event)
    require_invitable(args.event)
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
        raise UserError(*str(exc).splitlines()) from None
    if args.json:
        emit_json(summary)
    else:
        mode = " (dry run: nothing sent)" if summary["dry_run"] else ""
        print(f"invitations for {summary['event']}{mode}")
        print(
            f"  invited {summary['invited']}, sent now {summary['sent']}, "
            + (
                f"sent by another run {summary['sent_by_other']}, "
                if summary["sent_by_other"]
                else ""
            )
            + f"sent before {summary['already_sent']}, "
            f"opted out {len(summary['skipped_opted_out'])}, failed {len(summary['failed'])}"
            + (
                ""
                if summary["dry_run"]
                else f" — {summary['delivered']} of {summary['invited']} sent"
            )
        )
        if summary["in_progress_elsewhere"]:
            print(
                f"  {summary['in_progress_elsewhere']} still being sent by another run "
                f"(`amity events show {summary['event']}` shows when they are out)"
            )
        for line in _failure_lines(summary["failed"]):
            print(f"  failed: {line}")
        if summary.get("skipped_bounced"):
            print(f"  not reminded, their address bounced: {', '.join(summary['skipped_bounced'])}")
        if summary.get("bounced"):
            print(
                f"  bounced so far: {summary['bounced']} (amity rsvp fetch; events show lists them)"
            )
        counts = summary["counts"]
        for f in summary["fallbacks"]:
            print(f"  letter in {f['got']} instead of {f['wanted']}: {f['email']} ({f['city']})")
        _more(summary, "fallbacks")
        if counts["mixed"]:
            print(f"  {counts['mixed']} letter(s) mix languages (a value has no translation):")
        for m in summary["mixed"]:
            values = ", ".join(
                f"{v['field']} in {v['used']} (letter {v['language']})" for v in m["values"]
            )
            print(f"    {m['email']} ({m['city']}): {values}")
        _more(summary, "mixed")
        if counts["address_problems"]:
            print(f"  {counts['address_problems']} contact(s) cannot be addressed correctly:")
        for p in summary["address_problems"]:
            print(f"    {p['email']} ({p['city']}): {'; '.join(p['problems'])}")
        _more(summary, "address_problems")
        copies = "letters, .ics and .eml" if summary["dry_run"] else "letters and .ics"
        print(f"  {copies}: {summary['out_dir']}")
        print_review(summary.get("review"))
    return _not_sent_exit(args, summary)


def _more(summary: dict[str, Any], kind: str) -> None:
    """The line after a list the run's result cut short: how many more, and where they are."""
    left = summary["counts"][kind] - len(summary[kind])
    if left > 0:
        print(f"    … and {left:,} more: {summary['letters_to_check']}")


def _failure_lines(failed: list[dict[str, str]], *, each: int = 3) -> list[str]:
    """One line per failed message, or per reason shared by many (a server down fails all)."""
    groups: dict[str, list[dict[str, str]]] = {}
    for f in failed:
        groups.setdefault(f["reason"].removeprefix("not tried: "), []).append(f)
    lines = []
    for reason, fs in groups.items():
        if len(fs) <= each:
            lines += [f"{f['email']} ({f['city']}): {f['reason']}" for f in fs]
        else:
            first = ", ".join(f["email"] for f in fs[:each])
            lines.append(f"{len(fs)} messages ({first}, …): {reason}")
    return lines


def _not_sent_exit(args: argparse.Namespace, summary: dict[str, Any]) -> int:
    """Exit 1 with one `amity:` line and the retry command when something was not sent."""
    import sys

    from flows.domain.invitation_summary import retry_command

    review = summary.get("review")
    if review is not None and review["status"] != "sent":
        return EXIT_OK  # nothing was meant to go out yet: it waits for (or failed) the sign-off
    if summary["dry_run"] or not (summary["failed"] or summary["not_sent"]):
        return EXIT_OK
    again = retry_command(summary["event"], only=args.only, remind_pending=args.remind_pending)
    missing = max(summary["not_sent"], len(summary["failed"]))
    if not args.json:
        print(f"  not sent: {missing}; to try them again: {again}")
    print(
        f"amity: {missing} of {summary['invited']} invitation(s) not sent; "
        f"run `{again}` to try them again",
        file=sys.stderr,
    )
    return EXIT_FAILED


def require_invitable(ref: str) -> None:
    """A partner-hosted event or a draft holding placeholders: refused before any flow run."""
    from db.events import find_event, invitation_blockers
    from db.session import session_scope

    with session_scope() as session:
        blockers = invitation_blockers(session, find_event(session, ref))
    if blockers:
        raise UserError(*blockers)


def cmd_rsvp_import(args: argparse.Namespace) -> int:
    from flows.engine.runtime import run_flow
    from flows.rsvp import import_replies, reply_files

    try:
        files = reply_files(args.paths)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:  # a folder that cannot be listed
        raise UserError(f"{exc.filename}: cannot be read: {exc.strerror}") from None
    unreadable = []
    for path in files:  # every file that cannot be opened, before a flow run
        try:
            path.open("rb").close()
        except OSError as exc:
            unreadable.append(f"{path}: cannot be read: {exc.strerror}")
    if unreadable:
        raise UserError(*unreadable)
    summary = run_flow(import_replies, args.paths)
    if args.json:
        emit_json(summary)
        return EXIT_OK
    print(
        f"{summary['files']} file(s): {summary['recorded']} answer(s) recorded, "
        f"{len(summary['refused'])} refused, {len(summary['ignored'])} ignored, "
        f"{len(summary['invalid'])} not a reply"
    )
    for line in summary["refused"]:
        print(f"  refused: {line['file']}: {line['reason']} (UID {line['uid']})")
    for line in summary["ignored"]:
        print(f"  ignored: {line['file']}: {line['reason']} (attendee {line['attendee']})")
    for line in summary["invalid"]:
        print(f"  not a reply: {line}")
    return EXIT_OK


def cmd_rsvp_list(args: argparse.Namespace) -> int:
    from db.events import EventNotFound, find_event
    from db.events_view import answer_counts, answers
    from db.session import session_scope
    from flows.cli import table

    try:
        with session_scope() as session:
            event = find_event(session, args.event)
            slug = event.slug
            rows = answers(session, event.id)
    except EventNotFound as exc:
        raise UserError(str(exc)) from None
    counts = answer_counts(rows)
    if args.json:
        emit_json({"event": slug, "counts": counts, "answers": rows})
        return EXIT_OK
    print(
        f"answers for {slug}: "
        + ", ".join(
            f"{n} {'no answer yet' if k == 'needs-action' else k}" for k, n in counts.items()
        )
    )
    if rows:
        print(
            table(
                ["city", "contact", "e-mail", "answer", "answered (UTC)", "delegated to"],
                [
                    [
                        a["city"],
                        a["name"],
                        a["email"],
                        "no answer yet" if a["answer"] == "needs-action" else a["answer"],
                        (a["answered_utc"] or "")[:16].replace("T", " "),
                        a["delegated_to"] or "",
                    ]
                    for a in rows
                ],
            )
        )
    return EXIT_OK
