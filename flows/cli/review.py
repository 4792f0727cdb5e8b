"""The sign-off as `amity invite` offers it: ask in a terminal, approve by flag, or leave it waiting."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from flows.cli.approvals import parse_send_at


def invite_decider(args: argparse.Namespace) -> tuple[Any, str | None, Any]:
    """(decider, wait mode, send time) for one `amity invite` run.

    ``--approve`` approves in the name of ``--by``; in an interactive terminal the run asks
    "send 38 invitations? [y/N]" (no: the review stays waiting for `amity approve`);
    otherwise the review is recorded and the run ends, or with ``--wait`` it pauses.
    """
    from flows.review import ApproveAs

    send_at = parse_send_at(getattr(args, "send_at", None))
    if args.dry_run:
        return None, None, None
    by = args.by or getpass.getuser()
    if args.approve:
        return ApproveAs(by, "approved with `amity invite --approve`"), None, send_at
    if args.wait:
        return None, "pause", send_at
    if not args.json and sys.stdin.isatty() and sys.stdout.isatty():
        return _ask(by, "invitations"), None, send_at
    return None, None, send_at


def add_approval_flags(p: argparse.ArgumentParser) -> None:
    """--approve and --by for a command whose run sends updates or cancellations."""
    p.add_argument(
        "--approve",
        action="store_true",
        help="approve the updates or cancellations now, in the name of --by (recorded with "
        "the digest); without it they wait for `amity approve`",
    )
    p.add_argument("--by", default=None, help="who approves (default: your login name)")


def change_decider(args: argparse.Namespace) -> Any:
    """Who decides on the updates or cancellations of `events apply|cancel`, `calendar`."""
    from flows.review import ApproveAs

    by = getattr(args, "by", None) or getpass.getuser()
    if getattr(args, "approve", False):
        return ApproveAs(by, "approved with --approve")
    if not getattr(args, "json", False) and sys.stdin.isatty() and sys.stdout.isatty():
        return _ask(by, "updates or cancellations")
    return None


def _ask(by: str, noun: str) -> Any:
    def ask(review: dict[str, Any]) -> tuple[str, str, str] | None:
        print_review_lines(review)
        answer = input(f"send {review['messages']} {noun}? [y/N] ").strip().lower()
        if answer in ("y", "yes"):
            return ("approved", by, "approved in the terminal")
        return None

    return ask


def print_review_lines(review: dict[str, Any]) -> None:
    from flows.domain.review import RESULT_LISTED

    languages = ", ".join(f"{lang} {n}" for lang, n in review["languages"].items())
    print(f"  review {review['id']} (run {review['flow_run_id']}): {review['messages']} message(s)")
    print(f"    by language: {languages}")
    count = review["warning_count"]
    print(f"    preflight warnings: {count}")
    for w in review["warnings"][:RESULT_LISTED]:
        print(f"      {w}")
    if count > RESULT_LISTED:
        print(f"      … and {count - RESULT_LISTED} more (see the review artifact)")


def print_review(review: dict[str, Any] | None) -> None:
    """What the sign-off of a run did, and what to do next."""
    if review is None:
        return
    status = review["status"]
    run = review["flow_run_id"]
    if status == "waiting":
        print_review_lines(review)
        print(f"  nothing sent: waiting for approval until {review['expires_dt'][:16]} UTC")
        print(f"    amity approve {run} [--by NAME]   or   amity reject {run} --comment WHY")
    elif status == "scheduled":
        print(
            f"  approved by {review['decided_by']}; scheduled for {review['send_at_dt'][:16]} UTC "
            f"(flow run {review.get('scheduled_run_id')}; cancel it to send nothing)"
        )
    elif status == "sent":
        print(f"  approved by {review['decided_by']} (review {review['id']}, run {run})")
    else:
        print(f"  review {review['id']}: {status}; nothing sent ({review['comment']})")
