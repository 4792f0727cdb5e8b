"""`amity remind` and `amity anniversaries`."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flows.cli import EXIT_FAILED, EXIT_OK, UserError, add_command, add_json_flag, emit_json, table

REMIND_HELP = """\
Decide the office day's anniversary reminders and send one digest e-mail to the office's
reminder recipients (no e-mail when nothing is due). Each (tie, milestone, lead time) is
reminded once: a second run the same day, a retry or a second scheduler sends nothing again.
Missed runs are caught up: the most urgent lead time of each coming anniversary is sent,
earlier ones are recorded as superseded, and passed anniversaries as missed.
--on runs as if it were that day in the home city (for back-fills and tests)."""


def register(sub: Any) -> None:
    p = add_command(
        sub, "remind", cmd_remind, "send today's anniversary reminders", description=REMIND_HELP
    )
    p.add_argument("--on", metavar="DATE", help="the office day, YYYY-MM-DD (default: today)")
    add_json_flag(p)

    p = add_command(
        sub,
        "anniversaries",
        cmd_anniversaries,
        "list the coming milestones of every tie (sends nothing)",
        description="List the milestone anniversaries (5th, 10th ... 100th) in a year,\n"
        "without sending anything. --ics also writes one calendar with every\n"
        "dated tie's yearly anniversary, for subscription.",
    )
    p.add_argument("--year", type=int, help="the year to list (default: this year)")
    p.add_argument("--ics", type=Path, metavar="PATH", help="write the anniversary calendar here")
    add_json_flag(p)


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--on: {value!r} is not a date (YYYY-MM-DD)") from None


def cmd_remind(args: argparse.Namespace) -> int:
    day = _parse_day(args.on)
    from db.reference import init_database

    init_database()
    from flows.engine.runtime import run_flow
    from flows.reminders import remind

    result = run_flow(remind, on=day)
    failed = any(sent["state"] != "sent" for sent in result["emails"])
    if args.json:
        emit_json(result)
        return EXIT_FAILED if failed else EXIT_OK
    print(
        f"{result['day']}: {result['due']} due, {result['missed']} missed, "
        f"{result['superseded']} superseded"
    )
    for digest in result["digests"]:
        for item in digest["due"]:
            print(
                f"  {item['anniversary']}  {item['partner']}: {item['milestone']} years "
                f"({item['lead_days']} days ahead)"
            )
    if not result["emails"]:
        print("no e-mail sent")
    for sent in result["emails"]:
        print(
            f"digest of {sent['day']} to {sent['recipient']}: {sent['state']}"
            + (f" ({sent['location']})" if sent.get("location") else "")
        )
    return EXIT_FAILED if failed else EXIT_OK


def cmd_anniversaries(args: argparse.Namespace) -> int:
    from config.settings import get_settings
    from flows.anniversaries import anniversaries_feed, list_anniversaries
    from flows.domain.clock import office_today

    settings = get_settings()
    now = datetime.now(UTC)
    year = args.year or office_today(now, settings.home_city.timezone).year
    if not 1 <= year <= 9999:
        raise UserError(f"--year: {year} is out of range")
    rows = list_anniversaries(year)
    ics: dict[str, Any] | None = None
    if args.ics:
        data, count = anniversaries_feed(now=now)
        args.ics.parent.mkdir(parents=True, exist_ok=True)
        args.ics.write_bytes(data)
        ics = {"path": str(args.ics), "ties": count}
    if args.json:
        emit_json({"year": year, "anniversaries": rows, "ics": ics})
        return EXIT_OK
    print(
        table(
            ["date", "partner", "milestone", "when", "note"],
            [[r["date"], r["partner"], r["ordinal"], r["when"], r["note"]] for r in rows],
        )
    )
    print(f"\n{len(rows)} milestone(s) in {year}")
    if ics:
        print(f"wrote {ics['path']} ({ics['ties']} ties)")
    return EXIT_OK
