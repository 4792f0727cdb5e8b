"""`amity approvals`, `amity approve RUN` and `amity reject RUN`: the sign-off from a terminal."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
from typing import Any

from flows.cli import (
    EXIT_FAILED,
    EXIT_OK,
    UserError,
    add_command,
    add_json_flag,
    emit_json,
    table,
)


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "approvals",
        cmd_approvals,
        "reviews waiting for a decision, and sends scheduled",
        description="Every run that would send to partners renders everything first and waits\n"
        "for a person's decision. This lists what waits (event, flow run, messages,\n"
        "since when, until when), what is scheduled for a chosen hour, and what expired.",
    )
    p.add_argument("--all", action="store_true", help="also decided, sent and superseded reviews")
    add_json_flag(p)

    p = add_command(
        sub,
        "approve",
        cmd_approve,
        "approve a review: exactly the reviewed messages go out",
        description="Approve the review of a run (its flow run id, the id's first characters,\n"
        "or the review's number from `amity approvals`). A run waiting in the Prefect UI\n"
        "is resumed through the API and sends; a run the command line recorded is sent\n"
        "from here. Nothing is sent if the data changed after the review.",
    )
    p.add_argument("run", help="flow run id (or its first characters), or the review's number")
    p.add_argument("--by", default=None, help="who approves (default: your login name)")
    p.add_argument("--comment", default="", help="kept with the decision")
    p.add_argument(
        "--send-at",
        metavar="TIME",
        help="send at this time (e.g. 2027-01-10T09:00, home time zone unless stated; "
        "needs a Prefect server with amity's deployments and a worker)",
    )
    add_json_flag(p)

    p = add_command(
        sub,
        "reject",
        cmd_reject,
        "reject a review: nothing is sent, the reason is kept",
    )
    p.add_argument("run", help="flow run id (or its first characters), or the review's number")
    p.add_argument("--comment", required=True, help="why (kept with the decision)")
    p.add_argument("--by", default=None, help="who rejects (default: your login name)")
    add_json_flag(p)


def parse_send_at(text: str | None) -> dt.datetime | None:
    """An ISO time; without an offset it is the home city's wall-clock time."""
    if not text:
        return None
    from config.settings import get_settings
    from flows.domain.clock import LocalTimeError, local_to_utc

    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"--send-at {text!r}: not a time like 2027-01-10T09:00") from None
    if value.tzinfo is None:
        try:
            value = local_to_utc(value, get_settings().home_city.timezone)
        except LocalTimeError as exc:
            raise UserError(f"--send-at {text!r}: {exc}") from None
    value = value.astimezone(dt.UTC)
    if value <= dt.datetime.now(dt.UTC):
        raise UserError(f"--send-at {text!r}: that time has passed")
    return value


def _local(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    from config.settings import get_settings
    from flows.domain.clock import zone

    return value.astimezone(zone(get_settings().home_city.timezone)).strftime("%Y-%m-%d %H:%M")


def cmd_approvals(args: argparse.Namespace) -> int:
    from db.approvals import list_approvals
    from db.session import session_scope

    with session_scope() as session:
        rows = list_approvals(session, now=dt.datetime.now(dt.UTC), everything=args.all)
    _prefect_states(rows)
    if args.json:
        emit_json(rows)
        return EXIT_OK
    if not rows:
        print("nothing waits for approval")
        return EXIT_OK
    print(
        table(
            ["#", "event", "flow run", "what", "messages", "since", "status", "until / at", "by"],
            [
                [
                    r["id"],
                    r["event"],
                    r["flow_run_id"][:8],
                    r["purpose"],
                    f"{r['messages']} ({r['languages']} lang.)",
                    _local(r["requested_dt"]),
                    r["status"],
                    _local(
                        r["send_at_dt"]
                        if r["status"] in ("scheduled", "sent") and r["send_at_dt"]
                        else r["expires_dt"]
                        if r["status"] in ("waiting", "expired")
                        else r["decided_dt"]
                    ),
                    r["decided_by"],
                ]
                for r in rows
            ],
        )
    )
    if any(r["status"] == "waiting" for r in rows):
        print("\n  amity approve RUN [--by NAME]   or   amity reject RUN --comment WHY")
    return EXIT_OK


def _prefect_states(rows: list[dict[str, Any]]) -> None:
    """A scheduled send cancelled (or failed) in Prefect says so; needs PREFECT_API_URL."""
    import os

    scheduled = [r for r in rows if r["status"] == "scheduled" and r["scheduled_run_id"]]
    if not scheduled or not os.environ.get("PREFECT_API_URL"):
        return
    from uuid import UUID

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for r in scheduled:
            state = client.read_flow_run(UUID(r["scheduled_run_id"])).state
            if state is not None and state.type.value in ("CANCELLED", "CANCELLING"):
                r["status"] = "cancelled: nothing sent"
            elif state is not None and state.type.value in ("FAILED", "CRASHED"):
                r["status"] = "send failed"


def _load(ref: str) -> Any:
    from db.approvals import ApprovalNotFound, find_approval
    from db.session import session_scope

    try:
        with session_scope() as session:
            approval = find_approval(session, ref)
            session.expunge(approval)
    except ApprovalNotFound as exc:
        raise UserError(str(exc)) from None
    return approval


def _resume(approval: Any, run_input: dict[str, Any]) -> None:
    """Hand the decision to a paused or suspended run through the Prefect API."""
    from uuid import UUID

    from prefect.exceptions import FlowPauseTimeout, NotPausedError
    from prefect.flow_runs import resume_flow_run

    try:
        resume_flow_run(UUID(approval.flow_run_id), run_input=run_input)
    except NotPausedError:
        raise UserError(
            f"run {approval.flow_run_id} is not waiting any more (finished, cancelled, or on "
            "another Prefect server: set PREFECT_API_URL)"
        ) from None
    except FlowPauseTimeout:
        raise UserError(
            f"run {approval.flow_run_id}: the review expired; nothing was sent"
        ) from None


def _decide(approval: Any, verdict: str, by: str, comment: str, send_at: Any) -> None:
    from db.approvals import ApprovalClosed, decide
    from db.models import Approval
    from db.session import session_scope

    with session_scope() as session:
        row = session.get(Approval, approval.id)
        assert row is not None
        try:
            decide(
                session,
                row,
                verdict,
                by=by,
                comment=comment,
                now=dt.datetime.now(dt.UTC),
                send_at=send_at,
            )
        except ApprovalClosed as exc:
            closed = str(exc)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        else:
            return
    # outside the transaction, so that an expiry found on the way is kept
    raise UserError(closed)


def cmd_approve(args: argparse.Namespace) -> int:
    from flows.domain.invitation_summary import PreflightError

    send_at = parse_send_at(args.send_at)
    approval = _load(args.run)
    by = args.by or getpass.getuser()
    waiting_run = approval.mode in ("pause", "suspend") and approval.decision == "pending"
    if waiting_run:
        _decide_expiry_only(approval)
        _resume(
            approval,
            {
                "decision": "approve",
                "approver": by,
                "comment": args.comment,
                "send_at": send_at.isoformat() if send_at else None,
            },
        )
        result: dict[str, Any] = {"review": approval.id, "resumed": approval.flow_run_id}
        if args.json:
            emit_json(result)
        else:
            print(
                f"approved review {approval.id} by {by}: run {approval.flow_run_id} resumes and "
                "sends exactly the reviewed messages"
            )
        return EXIT_OK
    if not (approval.decision == "approved" and approval.sent_dt is None):
        _decide(approval, "approved", by, args.comment, send_at)
    from flows.approved import send_reviewed
    from flows.engine.runtime import run_flow

    try:
        sent = run_flow(send_reviewed, str(approval.id))
    except PreflightError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        emit_json(sent)
    else:
        review = sent["review"]
        print(f"approved review {approval.id} of {sent['event']} by {by}")
        if review["status"] == "scheduled":
            print(
                f"  {review['messages']} message(s) scheduled for "
                f"{_local(dt.datetime.fromisoformat(review['send_at_dt']))} "
                f"(flow run {review['scheduled_run_id']}; cancel it to send nothing)"
            )
        else:
            print(
                f"  sent now {sent['sent']}, sent before {sent['already_sent']}, "
                f"failed {len(sent['failed'])}"
            )
        for f in sent["failed"]:
            print(f"  failed: {f['email']} ({f['city']}): {f['reason']}")
    return EXIT_FAILED if sent["failed"] else EXIT_OK


def _decide_expiry_only(approval: Any) -> None:
    """A waiting run whose review expired is not resumed: say so and keep the expiry."""
    from db.approvals import expire
    from db.models import Approval
    from db.session import session_scope

    now = dt.datetime.now(dt.UTC)
    if now < approval.expires_dt:
        return
    with session_scope() as session:
        row = session.get(Approval, approval.id)
        assert row is not None
        expire(session, row, now)
    raise UserError(f"review {approval.id}: expired; nothing was sent")


def cmd_reject(args: argparse.Namespace) -> int:
    approval = _load(args.run)
    by = args.by or getpass.getuser()
    if approval.mode in ("pause", "suspend") and approval.decision == "pending":
        _decide_expiry_only(approval)
        _resume(approval, {"decision": "reject", "approver": by, "comment": args.comment})
    else:
        _decide(approval, "rejected", by, args.comment, None)
    if args.json:
        emit_json({"review": approval.id, "rejected": True})
    else:
        print(f"rejected review {approval.id} by {by}: nothing is sent ({args.comment})")
    return EXIT_OK
