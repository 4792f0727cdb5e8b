"""`amity calendar EVENT`: the event's calendar feeds, and its CalDAV copy."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flows.cli import (
    EXIT_FAILED,
    EXIT_OK,
    RunFailed,
    UserError,
    add_command,
    add_json_flag,
    emit_json,
    require_event,
)
from flows.cli.review import add_approval_flags


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "calendar",
        cmd_calendar,
        "write the event's calendar feeds and publish them by CalDAV",
        description="Write the event's calendar (the event and each session, one .ics), a feed\n"
        "per partner city (the sessions its delegation takes part in) and one per invited\n"
        "contact, under AMITY_HOME/out/EVENT/calendar/ (or --out). With --publish URL (or\n"
        "AMITY_CALDAV__URL) each VEVENT is also put on that CalDAV calendar; a re-publish\n"
        "of an unchanged event sends nothing, a removed session's resource is deleted, a\n"
        "resource deleted on the server is created again, and one edited on the server by\n"
        "someone else is reported (both ETags) and left alone unless --force.\n"
        "Credentials: AMITY_CALDAV__USERNAME and AMITY_CALDAV__PASSWORD.\n"
        "--send-changes sends the updates or cancellations `amity events apply|cancel` left\n"
        "unsent (an interrupted run resumes; nothing is sent twice) and refreshes the feeds.",
    )
    p.add_argument("event", help="event slug or id")
    p.add_argument("--out", type=Path, metavar="DIR", help="write the feeds to DIR instead")
    p.add_argument("--publish", metavar="URL", help="CalDAV calendar collection to publish to")
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite resources someone else edited on the CalDAV server",
    )
    p.add_argument(
        "--send-changes",
        action="store_true",
        help="send pending updates/cancellations to invitees (resume), once approved",
    )
    add_approval_flags(p)
    add_json_flag(p)


def cmd_calendar(args: argparse.Namespace) -> int:
    from db.events import EventNotFound
    from db.reference import init_database
    from flows.engine.runtime import run_flow
    from flows.schedule import ScheduleError, publish_schedule

    init_database()
    require_event(args.event)
    if args.send_changes:
        return _send_changes(args)
    out = str(args.out.resolve()) if args.out else None
    try:
        summary = run_flow(
            publish_schedule, args.event, out=out, publish=args.publish, force=args.force
        )
    except EventNotFound as exc:
        raise UserError(str(exc)) from None
    except ScheduleError as exc:
        raise RunFailed(str(exc)) from None
    if args.json:
        emit_json(summary)
        return EXIT_OK
    if summary["left_out"]:
        print(f"calendar of {summary['event']}: {summary['left_out']}")
        return EXIT_OK
    print(f"calendar of {summary['event']} ({summary['sessions']} sessions, {summary['status']})")
    print(f"  feed: {summary['feed']}")
    print(f"  partner feeds: {len(summary['partners'])}, contact feeds: {len(summary['contacts'])}")
    caldav = summary["caldav"]
    if caldav:
        from flows.schedule import CaldavSummary

        print(f"  CalDAV {caldav['url']}: {CaldavSummary(**caldav).counts_text()}")
    return EXIT_OK


def _send_changes(args: argparse.Namespace) -> int:
    from db.events import EventNotFound
    from flows.changes import iter_failures, send_changes, summary_text
    from flows.cli.review import change_decider, print_review
    from flows.engine.runtime import run_flow
    from flows.review import deciding
    from flows.schedule import ScheduleError

    if args.out or args.publish or args.force:
        raise UserError(
            "--send-changes writes the usual feeds and uses the configured CalDAV URL "
            "(no --out, --publish or --force)"
        )
    try:
        with deciding(change_decider(args)):
            result = run_flow(send_changes, args.event)
    except EventNotFound as exc:
        raise UserError(str(exc)) from None
    except ScheduleError as exc:
        raise RunFailed(str(exc)) from None
    if args.json:
        emit_json(result)
    else:
        print(f"{result['event']}: {summary_text(result)}")
        for line in iter_failures(result):
            print(f"  failed: {line}")
        print_review(result.get("review"))
    return EXIT_FAILED if result["failed"] else EXIT_OK
