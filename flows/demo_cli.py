"""`amity demo`, `amity lifecycle` and `amity events next-edition`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from flows.cli import EXIT_OK, UserError, add_command, add_json_flag, emit_json


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "demo",
        cmd_demo,
        "run the whole demo on embedded defaults",
        description="On embedded defaults (SQLite, Prefect's local API, a Maildir outbox, all\n"
        "under AMITY_HOME, default ./var): load Beijing's partners and fictitious contacts,\n"
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
    p.add_argument("--lang", default="en", help="language of the report (zh, en)")
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
    from flows.demo import print_outputs, run_demo
    from flows.runtime import local_run_settings

    with local_run_settings():
        result = run_demo(
            progress=(lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr))
        )
    if args.json:
        emit_json(result)
    else:
        print_outputs(result)
    return EXIT_OK


def cmd_lifecycle(args: argparse.Namespace) -> int:
    from flows.events import EventNotFound
    from flows.lifecycle import event_lifecycle
    from flows.runtime import run_flow

    try:
        result = run_flow(event_lifecycle, args.event, held=args.held, report_language=args.lang)
    except EventNotFound as exc:
        raise UserError(str(exc)) from None
    if args.json:
        emit_json(result)
        return EXIT_OK
    print(f"{result['event']}: {result['status']}")
    for s in result["steps"]:
        print(
            f"  {s['step']}: done"
            if not isinstance(s["result"], str)
            else f"  {s['step']}: {s['result']}"
        )
    return EXIT_OK


def cmd_next_edition(args: argparse.Namespace) -> int:
    from config.settings import get_settings
    from flows.domain.events import SpecError
    from flows.series import create_next_edition

    try:
        result = create_next_edition(args.series, get_settings(), now=dt.datetime.now(dt.UTC))
    except SpecError as exc:
        raise UserError(*(f"{exc.source}: {p}" for p in exc.problems)) from None
    if args.json:
        emit_json(result)
        return EXIT_OK
    print(
        f"created {result['slug']} (edition {result['edition']}, host {result['host_city']}, "
        f"{result['start']} – {result['end']}) as a draft"
    )
    print(f"  its spec: {result['spec']}  (edit, then `amity events apply` it)")
    return EXIT_OK
