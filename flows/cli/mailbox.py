"""`amity rsvp fetch`: read the office's mailbox once (the deployment does it every 15 minutes)."""

from __future__ import annotations

import argparse
from typing import Any

from flows.cli import EXIT_OK, RunFailed, UserError, add_command, add_json_flag, emit_json

FETCH_HELP = """\
Read the new messages of the office's mailbox over IMAP (AMITY_IMAP__HOST, __USERNAME,
__PASSWORD or __PASSWORD_BLOCK, __FOLDER) once:
  - a calendar reply is recorded after the same checks as `amity rsvp import`;
  - a delivery report (bounce) for one of amity's messages marks the invitation bounced and
    the contact's address failing until it is changed;
  - a plain answer ("we will attend") is kept for a person, with where to find it;
  - anything else is left alone.
Handled messages get the keyword $AmityProcessed (or move to AMITY_IMAP__PROCESSED_FOLDER
with AMITY_IMAP__MARK=move), so no message is handled twice. Messages are read without
marking them as seen."""


def register_rsvp(rsvp: Any) -> None:
    """Add `fetch` to the `rsvp` command group."""
    p = add_command(
        rsvp,
        "fetch",
        cmd_rsvp_fetch,
        "read the office's mailbox once (IMAP)",
        description=FETCH_HELP,
    )
    add_json_flag(p)


def cmd_rsvp_fetch(args: argparse.Namespace) -> int:
    from config.settings import get_settings
    from db.reference import init_database
    from flows.engine.runtime import run_flow
    from flows.mailbox import MailboxError, fetch_mailbox
    from flows.outbound.imap import open_mailbox

    settings = get_settings()
    if not settings.imap.host or not settings.imap.username:
        raise UserError("no mailbox configured: set AMITY_IMAP__HOST and AMITY_IMAP__USERNAME")
    init_database()
    # a mailbox that cannot be reached or logged into is one line, before any flow run logs
    try:
        with open_mailbox(settings):
            pass
    except MailboxError as exc:
        raise RunFailed(str(exc)) from None
    try:
        summary = run_flow(fetch_mailbox)
    except MailboxError as exc:
        raise RunFailed(str(exc)) from None
    if args.json:
        emit_json(summary)
    else:
        print("\n".join(summary_lines(summary)))
    return EXIT_OK


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """What one fetch did, for a person."""
    replies = summary["replies"]
    recorded = sum(r["outcome"] == "recorded" for r in replies)
    lines = [
        f"mailbox {summary['account']} {summary['folder']}: {summary['read']} new message(s)",
        f"  replies recorded {recorded}, refused {len(replies) - recorded}, "
        f"bounced {len(summary['bounces'])}, for a person {len(summary['needs_person'])}, "
        f"left alone {summary['ignored']}",
    ]
    for r in replies:
        if r["outcome"] != "recorded":
            m = r["message"]
            lines.append(f"  reply refused: {_where(m)} from {m['sender']}: {r['outcome']}")
    for b in summary["bounces"]:
        event = f" ({b['event']})" if b["event"] else ""
        lines.append(f"  bounced: {b['email']}{event}: {b['status']} {b['reason']}".rstrip())
    for n in summary["needs_person"]:
        event = f" ({n['event']})" if n["event"] else ""
        lines.append(f"  for a person{event}: {_where(n)} from {n['sender']}: {n['subject']!r}")
    if summary["duplicates"]:
        lines.append(f"  seen before under another UID: {summary['duplicates']}")
    if summary["marked_from_before"]:
        lines.append(f"  marked, handled by an earlier fetch: {summary['marked_from_before']}")
    return lines


def _where(m: dict[str, Any]) -> str:
    return f"{m['folder']}/{m['uid']} {m['message_id'] or '(no Message-ID)'}"


def mailbox_lines(shown: dict[str, list[dict[str, Any]]]) -> list[str]:
    """`events show`: the invitations that bounced and the answers waiting for a person."""
    lines: list[str] = []
    if shown["bounced"]:
        lines += ["", f"bounced ({len(shown['bounced'])}): the address fails until it is changed"]
        lines += [
            f"  {b['email']} ({b['city']}): {b['status']} {b['reason']}".rstrip()
            for b in shown["bounced"]
        ]
    if shown["needs_person"]:
        lines += ["", f"plain answers for a person ({len(shown['needs_person'])}):"]
        lines += [
            f"  {_where(n)} from {n['sender']}: {n['subject']!r}" for n in shown["needs_person"]
        ]
    return lines
