"""`amity demo`, `amity lifecycle` and `amity events next-edition`."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from typing import Any

from flows.cli import (
    EXIT_FAILED,
    EXIT_OK,
    UserError,
    add_command,
    add_json_flag,
    emit_json,
    require_event,
    spec_error_lines,
)


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "demo",
        cmd_demo,
        "run the whole demo on embedded defaults",
        description="On embedded defaults (SQLite, Prefect's local API, a Maildir outbox, all\n"
        "under AMITY_HOME/demo, by default ./var/demo, apart from real work): load Beijing's partners and fictitious contacts,\n"
        "create the 12th Beijing–Tokyo Urban Symposium and a Friendship Cities Conference,\n"
        "send the invitations, publish the schedule, simulate replies and attendance, write\n"
        "the reports and the anniversary digest; then print where every output is.\n"
        "Never asks a question; safe to run again.",
    )
    add_json_flag(p)
    p = add_command(
        sub,
        "lifecycle",
        cmd_lifecycle,
        "drive an event through its lifecycle",
        description="draft → inviting → scheduled → held → reported: runs each step that\n"
        "is not done yet (invitations, schedule, report) and records every transition.\n"
        "The event counts as held once it has ended, or with --held.",
    )
    p.add_argument("event", help="slug or id")
    p.add_argument(
        "--held", action="store_true", help="the organizer confirms the event took place"
    )
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the report")
    add_json_flag(p)


def register_events(group: Any) -> None:
    p = add_command(
        group,
        "next-edition",
        cmd_next_edition,
        "create the next edition of a series",
        description="Create the next edition of a series as a draft: edition + 1, the host\n"
        "taking turns where the spec lists `series_hosts`, dates 52 weeks on, the\n"
        "programme copied. Its spec is written under AMITY_HOME/out/<slug>/ to edit.",
    )
    p.add_argument("series", help="series name, e.g. 'Beijing–Tokyo Urban Symposium'")
    add_json_flag(p)


def cmd_demo(args: argparse.Namespace) -> int:
    from config.settings import get_settings
    from flows.cli.demo_run import print_outputs, run_demo
    from flows.engine.runtime import amity_server_api, local_run_settings, wait_for_events

    office_home = get_settings().home  # where `amity server` keeps its pid file
    # the demo keeps to itself: its own SQLite database and Maildir under AMITY_HOME/demo,
    # so simulated replies and reminders never mix with the office's real records or mail
    os.environ["AMITY_HOME"] = str(get_settings().home / "demo")
    os.environ["AMITY_MAIL_TRANSPORT"] = "maildir"
    os.environ.pop("AMITY_DATABASE_URL", None)
    get_settings.cache_clear()

    with amity_server_api(office_home), local_run_settings():
        result = run_demo(
            progress=(lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr))
        )
        wait_for_events()  # while the API is up: no "EventsWorker" warning at exit
    if args.json:
        emit_json(result)
    else:
        print_outputs(result)
    return EXIT_OK


def cmd_lifecycle(args: argparse.Namespace) -> int:
    from db.events import EventNotFound
    from flows.engine.runtime import run_flow
    from flows.invitations import PreflightError
    from flows.lifecycle import event_lifecycle
    from flows.reports import ReportRefused

    require_event(args.event)
    _require_lifecycle_can_start(args.event)
    try:
        result = run_flow(event_lifecycle, args.event, held=args.held, report_language=args.lang)
    except (EventNotFound, PreflightError, ReportRefused) as exc:
        raise UserError(str(exc)) from None
    failed = any(
        isinstance(s["result"], dict) and s["result"].get("failed") for s in result["steps"]
    )
    if args.json:
        emit_json(result)
        return EXIT_FAILED if failed else EXIT_OK
    print(f"{result['event']}: {result['status']}")
    for s in result["steps"]:
        done = isinstance(s["result"], dict)
        print(f"  {s['step']}: {'done' if done else s['result']}")
    return EXIT_FAILED if failed else EXIT_OK


def _require_lifecycle_can_start(ref: str) -> None:
    """Its first step sends invitations: refuse what `invite` refuses, before a flow run."""
    from db.events import find_event
    from db.session import session_scope
    from flows.cli.invitations import require_invitable

    with session_scope() as session:
        status = find_event(session, ref).status
    if status in ("draft", "inviting"):
        require_invitable(ref)


def cmd_next_edition(args: argparse.Namespace) -> int:
    from config.settings import get_settings
    from db.series import create_next_edition
    from flows.domain.events import SpecError

    try:
        result = create_next_edition(args.series, get_settings(), now=dt.datetime.now(dt.UTC))
    except SpecError as exc:
        raise UserError(*spec_error_lines(exc)) from None
    if args.json:
        emit_json(result)
        return EXIT_OK
    print(
        f"created {result['slug']} (edition {result['edition']}, host {result['host_city']}, "
        f"{result['start']} – {result['end']}) as a draft"
    )
    print(f"  its spec: {result['spec']}  (edit, then `amity events apply` it)")
    return EXIT_OK
