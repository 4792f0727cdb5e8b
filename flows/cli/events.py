"""`amity events apply|list|show|cancel`."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from flows.cli import (
    EXIT_OK,
    UserError,
    add_command,
    add_json_flag,
    emit_json,
    need_action,
    spec_error_lines,
    table,
)
from flows.cli.review import add_approval_flags


def register(sub: Any) -> None:
    events = add_command(sub, "events", need_action, "events: apply specs, list, show, cancel")
    group = events.add_subparsers(dest="events_command", metavar="ACTION")
    p = add_command(
        group,
        "apply",
        cmd_apply,
        "create or update an event from a YAML spec",
        description="Create or update an event from a YAML spec (see config/events/ for examples).\n"
        "Times are local wall-clock times in the spec's `timezone`. Bad specs are refused\n"
        "with every bad field named. Applying a changed spec to an event whose invitations\n"
        "went out sends each invited contact one update.",
    )
    p.add_argument("path", type=Path, help="the event's YAML spec")
    p.add_argument("--force", action="store_true", help="allow changing an event that is over")
    add_approval_flags(p)
    add_json_flag(p)
    p = add_command(group, "list", cmd_list, "list events")
    add_json_flag(p)
    p = add_command(group, "show", cmd_show, "show one event with its programme")
    p.add_argument("event", help="slug or id")
    add_json_flag(p)
    from flows.cli.demo import register_events

    register_events(group)
    p = add_command(
        group,
        "held",
        cmd_held,
        "mark an event held (it took place): its attendance and report may follow",
        description="The organizer's word that EVENT took place. An event that has ended counts\n"
        "as held by itself; one that has not needs this before `attendance import` and\n"
        "`report` take it.",
    )
    p.add_argument("event", help="slug or id")
    p.add_argument("--note", default="", help="recorded with the transition")
    p = add_command(
        group,
        "reopen",
        cmd_reopen,
        "undo 'reported': the event is held again and its report can be redone",
    )
    p.add_argument("event", help="slug or id")
    p.add_argument("--note", default="", help="why, recorded with the transition")
    p = add_command(group, "cancel", cmd_cancel, "cancel an event (sends cancellations)")
    p.add_argument("event", help="slug or id")
    p.add_argument("--note", default="", help="reason, recorded with the transition")
    add_approval_flags(p)
    add_json_flag(p)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def cmd_apply(args: argparse.Namespace) -> int:
    from config.settings import get_settings
    from db.events import apply_spec, read_spec
    from db.reference import init_database
    from db.session import session_scope
    from flows.domain.events import SpecError

    init_database()
    settings = get_settings()
    try:
        with session_scope() as session:
            spec = read_spec(args.path, session)
            result = apply_spec(session, spec, settings, now=_now(), force=args.force)
    except SpecError as exc:
        raise UserError(*spec_error_lines(exc)) from None
    notified = None
    if result.shows_in_calendars and not result.created:
        notified = _notify_change(result.slug, args)
    if args.json:
        emit_json({**result.__dict__, "notified": notified})
        return EXIT_OK
    verb = "created" if result.created else ("updated" if result.changes else "unchanged")
    print(f"{verb}: {result.slug} (id {result.event_id})")
    for change, kind in zip(result.changes, result.kinds, strict=True):
        print(f"  {change}   [{_KIND_TEXT[kind]}]")
    for warning in result.warnings:
        print(f"  warning: {warning}")
    if notified:
        _print_notified(notified)
    return EXIT_OK


#: what each kind of change means for the contacts (RFC 5546 §2.1.4)
_KIND_TEXT = {
    "significant": "significant: SEQUENCE up, contacts asked again",
    "minor": "minor: same SEQUENCE, answers kept",
    "not in calendars": "not in calendars: nothing sent",
}


def _notify_change(slug: str, args: argparse.Namespace) -> Any:
    """Send updates for a changed event whose invitations went out (the send-changes flow),
    once they are approved (--approve, the terminal's question, or `amity approve` later)."""
    from flows.changes import send_changes
    from flows.cli import RunFailed
    from flows.cli.review import change_decider
    from flows.engine.runtime import run_flow
    from flows.review import deciding
    from flows.schedule import ScheduleError

    try:
        with deciding(change_decider(args)):
            return run_flow(send_changes, slug)
    except ScheduleError as exc:
        raise RunFailed(
            f"{exc}\nThe change is saved; nothing was sent. Fix the problem, then send the "
            f"updates with `amity calendar {slug} --send-changes`."
        ) from None


def _print_notified(notified: Any) -> None:
    from flows.changes import iter_failures, summary_text
    from flows.cli.review import print_review

    what = "cancellations" if notified["method"] == "CANCEL" else "updates"
    print(f"  {what}: {summary_text(notified)}")
    print_review(notified.get("review"))
    for line in iter_failures(notified):
        print(f"  failed: {line}")


def cmd_list(args: argparse.Namespace) -> int:
    from db.events_view import list_events

    rows = list_events()
    if args.json:
        emit_json(rows)
        return EXIT_OK
    print(
        table(
            ["id", "slug", "title", "starts (local)", "status", "invited", "sent", "not sent"],
            [
                [
                    r["id"],
                    r["slug"],
                    r["title"],
                    r["start_local"],
                    r["status"],
                    r["invitations"],
                    r["delivery"]["sent"],
                    _not_sent(r["delivery"]),
                ]
                for r in rows
            ],
        )
    )
    return EXIT_OK


def _not_sent(delivery: dict[str, int]) -> str:
    """E.g. "1638 (3 failed)": what the ledger has not confirmed, failures named."""
    count = delivery["invited"] - delivery["sent"]
    if not count:
        return "0"
    parts = [
        f"{delivery[k]} {label}"
        for k, label in (("failed", "failed"), ("sending", "being sent"))
        if delivery[k]
    ]
    return f"{count} ({', '.join(parts)})" if parts else str(count)


def delivery_line(delivery: dict[str, int]) -> str:
    return (
        f"invitations: {delivery['invited']} invited, {delivery['sent']} sent, "
        f"{delivery['pending']} not tried, {delivery['sending']} being sent "
        f"(or left by a run that stopped), {delivery['failed']} failed"
    )


def answers_line(counts: dict[str, int]) -> str:
    return (
        f"answers: {counts['accepted']} accepted, {counts['declined']} declined, "
        f"{counts['tentative']} tentative, {counts['delegated']} delegated, "
        f"{counts['needs-action']} no answer yet"
    )


def cmd_show(args: argparse.Namespace) -> int:
    from db.events import EventNotFound
    from db.events_view import show_event

    try:
        data = show_event(args.event)
    except EventNotFound as exc:
        raise UserError(str(exc)) from None
    if args.json:
        emit_json(data)
        return EXIT_OK
    print(f"{data['title']}  [{data['slug']}, id {data['id']}, {data['status']}]")
    zone = f" ({data['timezone']})" if data["date_precision"] == "time" else ""
    print(f"  {data['dates']}{zone}")
    place = ", ".join(p for p in (data["venue"], data["venue_address"]) if p)
    if place:
        print(f"  {place}")
    print(f"  invited: {data['invited']}   SEQUENCE {data['sequence']}   UID {data['uid']}")
    if data["note"]:
        print(f"  note: {data['note']}")
    if data["delivery"]["invited"]:
        print(f"  {delivery_line(data['delivery'])}")
        print(f"  {answers_line(data['answer_counts'])}")
    else:
        print("  invitations: none sent by amity")
    if data["delivery"]["failed"] or data["delivery"]["pending"] or data["delivery"]["sending"]:
        print(f"  to send what is missing: amity invite {data['slug']}")
    if data["sessions"]:
        print()
        print(
            table(
                ["key", "session", "start", "end", "room"],
                [
                    [s["key"], s["title"], s["start_local"], s["end_local"], s["room"]]
                    for s in data["sessions"]
                ],
            )
        )
    answered = [a for a in data["answers"] if a["answer"] != "needs-action"]
    if answered:
        print()
        print(
            table(
                ["city", "contact", "e-mail", "answer", "answered (UTC)"],
                [
                    [
                        a["city"],
                        a["name"],
                        a["email"],
                        a["answer"],
                        (a["answered_utc"] or "")[:16].replace("T", " "),
                    ]
                    for a in answered
                ],
            )
        )
    from flows.cli.mailbox import mailbox_lines

    for line in mailbox_lines(data["mailbox"]):
        print(line)
    if data["approvals"]:
        print("\n  sign-off before sending:")
    for a in data["approvals"]:
        when = a["decided_dt"] or a["requested_dt"]
        who = f" by {a['decided_by']}" if a["decided_by"] else ""
        note = f" ({a['comment']})" if a["comment"] else ""
        print(
            f"    #{a['id']} {a['purpose']}: {a['messages']} message(s), {a['status']}{who} "
            f"{_local_time(when, data['timezone'])}{note}, digest {a['digest'][:16]}, "
            f"run {a['flow_run_id']}"
        )
    return EXIT_OK


def _local_time(value: dt.datetime, tzid: str) -> str:
    from flows.domain.clock import zone

    return value.astimezone(zone(tzid)).strftime("%Y-%m-%d %H:%M")


def cmd_cancel(args: argparse.Namespace) -> int:
    from db.events import EventNotFound, cancel_event, find_event
    from db.session import session_scope

    try:
        with session_scope() as session:
            event = find_event(session, args.event)
            changed = cancel_event(session, event, now=_now(), note=args.note)
            slug = event.slug
    except EventNotFound as exc:
        raise UserError(str(exc)) from None
    notified = _notify_change(slug, args) if changed else None
    if args.json:
        emit_json({"slug": slug, "cancelled": changed, "notified": notified})
    else:
        print(f"{slug}: {'cancelled' if changed else 'was already cancelled'}")
        if notified:
            _print_notified(notified)
    return EXIT_OK


def cmd_held(args: argparse.Namespace) -> int:
    from db.events import StateRefused, mark_held

    def act(session: Any, event: Any) -> str:
        return "held" if mark_held(session, event, _now(), args.note) else f"was {event.status}"

    try:
        print(_change_state(args.event, act))
    except StateRefused as exc:
        raise UserError(str(exc)) from None
    return EXIT_OK


def cmd_reopen(args: argparse.Namespace) -> int:
    from db.events import StateRefused, reopen_event

    def act(session: Any, event: Any) -> str:
        reopen_event(session, event, _now(), args.note)
        return "reopened: held again (run `amity report` to write the report anew)"

    try:
        print(_change_state(args.event, act))
    except StateRefused as exc:
        raise UserError(str(exc)) from None
    return EXIT_OK


def _change_state(ref: str, act: Any) -> str:
    from db.events import EventNotFound, find_event
    from db.session import session_scope

    try:
        with session_scope() as session:
            event = find_event(session, ref)
            return f"{event.slug}: {act(session, event)}"
    except EventNotFound as exc:
        raise UserError(str(exc)) from None
