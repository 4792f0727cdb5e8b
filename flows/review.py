"""Sign-off before anything goes abroad: the review between rendering and sending.

A run that would send to partners renders everything first; then `review_before_sending`
keeps a copy of every rendered message, records a review (digest of the bytes, digest of
the data they came from, counts by language, warnings, samples, recipients), publishes it
as an artifact and waits for a decision. Where the decision comes from depends on how the
run was started:

- a caller in this process decides at once (the terminal's "send 38 invitations? [y/N]",
  `amity invite --approve`, the demo) through `deciding(...)`;
- a deployment run on a worker is suspended: it ends, and the form in the Prefect UI (or
  `amity approve RUN`, which resumes it through the API) starts it again on a worker;
- a run in this process with ``approval.wait = "pause"`` pauses and waits for the same form;
- otherwise (the CLI's default) the run ends with the review recorded; `amity approve RUN`
  sends exactly the recorded messages later (flows/approved.py).

On approval exactly the reviewed bytes go out, after checking that the data they were
rendered from has not changed since; on rejection nothing is sent and the reason is kept.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext
from prefect.input import RunInput
from pydantic import Field

from config.settings import Settings, get_settings
from db.approvals import (
    TakenAtOnce,
    data_digest,
    decide,
    decide_at_once,
    expire,
    for_a_later_hour,
    mark_sent,
    planned_data_digest,
    record_review,
    review_by_run,
    sent_keys,
    set_scheduled,
)
from db.invitees import Invitee
from db.models import Approval
from db.session import session_scope
from flows.domain.clock import zone
from flows.domain.invitation_summary import PreflightError
from flows.domain.review import (
    MAX_LISTED,
    form_description,
    messages_digest,
    recipients_csv,
    review_heading,
    review_markdown,
    review_summary,
    sha256_hex,
)
from flows.domain.slug import slugify
from flows.outbound.artifacts import output_link
from flows.outbound.ledger import chunks
from flows.outbound.outputs import Folders, invitation_dir

#: the deployment that sends approved messages at a chosen hour
SEND_REVIEWED = "send reviewed/send-reviewed"
#: the pause key of the review: a suspended run that starts again finds its own decision
PAUSE_KEY = "amity-review"


class ReviewOutdated(PreflightError):
    """The approved messages no longer match the data (or their files): nothing was sent."""


class Decision(RunInput):
    """The reviewer's decision: approve (send exactly what was reviewed) or reject (say why)."""

    decision: Literal["approve", "reject"] = Field(
        description="approve: send exactly the reviewed messages; reject: send nothing"
    )
    approver: str = Field(description="your name: it is kept with the decision")
    comment: str = Field(default="", description="why (required to reject)")
    send_at: dt.datetime | None = Field(
        default=None, description="send at this time instead of at once (needs a worker)"
    )


#: (decision, by, comment) from a caller in this process, or None to leave the review waiting
Decider = Callable[[dict[str, Any]], tuple[str, str, str] | None]
_DECIDER: ContextVar[Decider | None] = ContextVar("amity_review_decider", default=None)
_WAIT: ContextVar[str | None] = ContextVar("amity_review_wait", default=None)
_SEND_AT: ContextVar[dt.datetime | None] = ContextVar("amity_review_send_at", default=None)


@contextmanager
def deciding(
    decider: Decider | None = None, *, wait: str | None = None, send_at: dt.datetime | None = None
) -> Iterator[None]:
    """Runs started in this block: who decides, how to wait, when approved messages go out."""
    tokens = (_DECIDER.set(decider), _WAIT.set(wait), _SEND_AT.set(send_at))
    try:
        yield
    finally:
        _DECIDER.reset(tokens[0])
        _WAIT.reset(tokens[1])
        _SEND_AT.reset(tokens[2])


@dataclass(frozen=True)
class ApproveAs:
    """A decider that approves every review in ``name`` (the demo; `amity invite --approve`).

    It asks nobody, so its decision is recorded with the review itself.
    """

    name: str
    comment: str = ""

    def decision(self) -> tuple[str, str, str]:
        return ("approved", self.name, self.comment)

    def __call__(self, review: dict[str, Any]) -> tuple[str, str, str]:
        return self.decision()


def ledger_key(m: dict[str, Any], purpose: str, occurrence: str) -> tuple[str, str, str]:
    """The delivery ledger's key of a message; an update or cancellation names its own."""
    if "ledger" in m:
        own_purpose, own_occurrence = m["ledger"]
        return (own_purpose, m["email"].lower(), own_occurrence)
    return (purpose, m["email"].lower(), f"{m['uid']}:{m['sequence']}:{occurrence}")


def _run_context() -> tuple[str, str]:
    """This flow run's id and how it can wait: "suspend" (a deployment run) or "local"."""
    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None:
        return f"local-{uuid.uuid4()}", "local"
    run = ctx.flow_run
    top_level = run.parent_task_run_id is None
    return str(run.id), "suspend" if run.deployment_id is not None and top_level else "local"


def review_copies_dir(settings: Settings, slug: str, run_id: str) -> Path:
    """Where a run's reviewed messages are kept: ``reviews/<run id>`` beside the letters."""
    return invitation_dir(settings, slug).parent / "reviews" / run_id


def copies_dir_for_this_run(settings: Settings, slug: str, *, dry_run: bool) -> Path | None:
    """Where this run's renders write each message for the review, or None to keep them in memory.

    Written once while rendering, a message needs neither memory until the review nor a second
    copy; a resumed run (its review recorded already) keeps its reviewed copies untouched.
    """
    if dry_run or not settings.approval.required:
        return None
    run_id, context = _run_context()
    if context == "suspend":
        with session_scope() as session:
            if review_by_run(session, run_id) is not None:
                return None
    return review_copies_dir(settings, slug, run_id)


def discard_unreviewed_copies(run_id: str, settings: Settings) -> None:
    """Remove the copies a run wrote while rendering if it stopped before its review was
    recorded (a preflight refusal, a render error): nobody reviewed them, nothing refers to them.
    """
    with session_scope() as session:
        if review_by_run(session, run_id) is not None:
            return
    for keep in settings.out_dir.glob(f"*/reviews/{run_id}"):
        shutil.rmtree(keep, ignore_errors=True)


def keep_copy(keep: Path, rel: Path, data: bytes, folders: Folders | None = None) -> dict[str, str]:
    """Write a message under the review's copies (``rel``: its .eml below them); the
    manifest fields that name the copy: its path and the sha256 the review records.

    The copy ends its lines as a Maildir file does (LF; SMTP sends it with CRLF), so a
    Maildir outbox on the same file system takes the reviewed file itself (a hard link). It
    is a new file, read-only: a message delivered from an earlier copy never changes.
    """
    dst = keep / rel
    (folders or Folders()).make(dst.parent)
    kept = data.replace(b"\r\n", b"\n")
    try:
        handle = _new_read_only(dst)
    except FileExistsError:  # an earlier copy (a re-render): replaced, never rewritten
        dst.unlink()
        handle = _new_read_only(dst)
    with handle:
        handle.write(kept)
    return {"eml": str(dst), "sha256": sha256_hex(kept)}


def _new_read_only(path: Path) -> BinaryIO:
    """A file created for writing that nobody may write once it is closed."""
    return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444), "wb")


def _keep_copies(
    messages: Sequence[dict[str, Any]], settings: Settings, slug: str, run_id: str
) -> list[dict[str, Any]]:
    """Copy each rendered message under the review: a later render cannot change what was read.

    A message the render wrote under the review already (it has its ``sha256``) stays as is.
    """
    out = invitation_dir(settings, slug)
    keep = review_copies_dir(settings, slug, run_id)
    folders = Folders()
    kept = []
    for m in messages:
        if m.get("sha256"):
            kept.append(m)
            continue
        # a real send holds its message in memory; a dry run wrote it next to the letter
        data = m.get("message")
        src = Path(m["letter"]).with_suffix(".eml") if data is not None else Path(m["eml"])
        if data is None:
            data = src.read_bytes()
        try:
            rel = src.relative_to(out)
        except ValueError:
            rel = Path(src.name)
        rest = {k: v for k, v in m.items() if k != "message"}
        kept.append({**rest, **keep_copy(keep, rel, data, folders)})
    return kept


def _forget_copies(messages: Sequence[dict[str, Any]], keep: Path) -> None:
    """Remove the render's copies of messages that need no review (sent before)."""
    for m in messages:
        if m.get("sha256"):
            Path(m["eml"]).unlink(missing_ok=True)
    if keep.is_dir() and not any(p.is_file() for p in keep.rglob("*")):
        shutil.rmtree(keep, ignore_errors=True)


def check_unchanged(approval: Approval) -> None:
    """Refuse to send when the data or the kept files differ from what was reviewed."""
    with session_scope() as session:
        now_data = data_digest(
            session, approval.event_id, [m["contact_id"] for m in approval.messages]
        )
    if now_data != approval.data_digest:
        raise ReviewOutdated(
            f"review {approval.id} (run {approval.flow_run_id}): the data changed after the "
            "review (a contact edited, the event moved?); nothing was sent: run it again to "
            "review the new messages"
        )
    for m in approval.messages:
        path = Path(m["eml"])
        if not path.exists() or sha256_hex(path.read_bytes()) != m["sha256"]:
            raise ReviewOutdated(
                f"review {approval.id}: {path} is missing or changed since the review; "
                "nothing was sent: run it again to review"
            )
    if messages_digest(approval.messages) != approval.digest:
        raise ReviewOutdated(f"review {approval.id}: the messages do not match their digest")


def schedule_send(approval_id: int, send_at: dt.datetime) -> str:
    """A Prefect flow run of the send-reviewed deployment, scheduled for ``send_at``."""
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        run: Any = run_deployment(
            SEND_REVIEWED,
            parameters={"approval": str(approval_id)},
            scheduled_time=send_at,
            timeout=0,
            as_subflow=False,
            idempotency_key=f"amity-approval-{approval_id}",
        )
    except ObjectNotFound:
        raise PreflightError(
            "a send at a chosen hour needs amity's deployments on a Prefect server and a "
            "worker (README: Beyond one machine); the approval is kept: send it with "
            f"`amity approve {approval_id}` without a time"
        ) from None
    with session_scope() as session:
        set_scheduled(session, approval_id, str(run.id))
    return str(run.id)


def _wait_for_decision(approval: Approval, mode: str, description: str) -> Decision | None:
    """Suspend or pause this run until the form is submitted; None when it times out."""
    from prefect.exceptions import FlowPauseTimeout
    from prefect.flow_runs import pause_flow_run, suspend_flow_run

    form = Decision.with_initial_data(description=description)
    left = max(1, int((approval.expires_dt - dt.datetime.now(dt.UTC)).total_seconds()))
    if mode == "suspend":
        return suspend_flow_run(wait_for_input=form, timeout=left, key=PAUSE_KEY)
    try:
        return pause_flow_run(
            wait_for_input=form, timeout=left, key=PAUSE_KEY, poll_interval=min(5, left)
        )
    except FlowPauseTimeout:
        return None


def review_before_sending(
    *,
    event_id: int,
    slug: str,
    purpose: str,
    occurrence: str,
    manifests: list[list[dict[str, Any]]],
    ranks: dict[int, str],
    planned: Sequence[Invitee] | None = None,
) -> tuple[list[list[dict[str, Any]]], dict[str, Any] | None]:
    """The messages to send now (the reviewed copies), in send batches, and what the review says.

    Messages sent before need no review (the ledger skips them); with nothing new to send
    the run goes on as before. ``planned``: the invitees the messages were rendered from,
    digested as they are (else their data is read from the database).
    """
    settings = get_settings()
    if not settings.approval.required:
        return _send_batches(manifests, settings), None
    flat = [m for manifest in manifests for m in manifest]
    with session_scope() as session:
        done = sent_keys(session, [ledger_key(m, purpose, occurrence) for m in flat])
    new = [m for m in flat if ledger_key(m, purpose, occurrence) not in done]
    run_id, context = _run_context()
    if len(new) < len(flat):
        _forget_copies(
            [m for m in flat if ledger_key(m, purpose, occurrence) in done],
            review_copies_dir(settings, slug, run_id),
        )
    if not new:
        return _send_batches(manifests, settings), None
    decider = _DECIDER.get()
    auto = settings.approval.auto_approve_by
    if decider is not None or auto:
        mode = "record"
    elif context == "suspend":
        mode = "suspend"
    else:
        mode = _WAIT.get() or settings.approval.wait
    # a person's time to decide runs from now, whatever date the letters carry
    requested = dt.datetime.now(dt.UTC)
    at_once = _decision_at_once(decider, auto, requested)
    home = zone(settings.home_city.timezone)
    key = f"review-{slugify(slug)}"[:60].lower().replace("_", "-")
    own = _own_review(run_id, at_once) if context == "suspend" else None
    if own is None:
        kept = _keep_copies(new, settings, slug, run_id)
        ids = {m["contact_id"] for m in kept}
        args = _heading(
            slug,
            purpose,
            review_summary(kept, ranks),
            messages_digest(kept),
            requested + settings.approval.timeout,
            _SEND_AT.get(),
            home,
        )
        # listed and published before it is recorded: approved with its record, it goes out
        _publish_review(args, review_copies_dir(settings, slug, run_id), key, settings)
        with session_scope() as session:
            # a decision that asks nobody is taken with the record, in one transaction: a
            # concurrent run's newer review cannot supersede this one in between
            approval = record_review(
                session,
                event_id=event_id,
                purpose=purpose,
                occurrence=occurrence,
                flow_run_id=run_id,
                mode=mode,
                digest=args["digest"],
                data=data_digest(session, event_id, list(ids))
                if planned is None
                else planned_data_digest(
                    session, event_id, [r for r in planned if r.contact_id in ids]
                ),
                summary=args["summary"],
                messages=kept,
                now=requested,
                timeout=settings.approval.timeout,
                send_at=args["send_at"],
                decided=at_once,
            )
            session.expunge(approval)
    else:
        approval = own
        args = _heading(
            slug,
            purpose,
            approval.summary,
            approval.digest,
            approval.expires_dt,
            approval.send_at_dt,
            home,
        )
    info = review_info(approval)

    decision: tuple[str, str, str, dt.datetime | None] | None = None
    if approval.decision != "pending":
        pass  # decided already (a resumed run that stopped after deciding)
    elif decider is not None:  # a person asked (the terminal's question)
        given = decider(info)
        decision = (*given, None) if given else None
    elif mode in ("suspend", "pause"):
        answer = _wait_for_decision(approval, mode, form_description(review_heading(**args), key))
        if answer is None:
            with session_scope() as session:
                row = session.get(Approval, approval.id)
                assert row is not None
                expire(session, row, dt.datetime.now(dt.UTC))
            return [], {**info, "status": "expired"}
        verdict = "approved" if answer.decision == "approve" else "rejected"
        decision = (verdict, answer.approver, answer.comment, answer.send_at)
    if decision is not None:
        verdict, by, comment, send_at = decision
        with session_scope() as session:
            row = session.get(Approval, approval.id)
            assert row is not None
            decide(
                session,
                row,
                verdict,
                by=by,
                comment=comment or "",
                now=dt.datetime.now(dt.UTC),
                send_at=send_at,
            )
            session.flush()
            session.expunge(row)
            approval = row
    # decided with its record: nothing can have changed in between
    return release(approval, settings, just_recorded=own is None and at_once is not None)


def _heading(
    event: str,
    purpose: str,
    summary: dict[str, Any],
    digest: str,
    expires: dt.datetime,
    send_at: dt.datetime | None,
    home: dt.tzinfo,
) -> dict[str, Any]:
    """What the review's artifact and its form say of it (`review_markdown`, `review_heading`)."""
    return {
        "event": event,
        "purpose": purpose,
        "summary": summary,
        "digest": digest,
        "expires": expires,
        "send_at": send_at,
        "zone": home,
    }


def _publish_review(args: dict[str, Any], copies: Path, key: str, settings: Settings) -> None:
    """The review's list of recipients beside its copies, and its artifact."""
    listing = copies / "recipients.csv"
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text(recipients_csv(args["summary"]), encoding="utf-8")
    create_markdown_artifact(
        markdown=review_markdown(
            **args, full_list=output_link(listing, settings) or f"`{listing}`"
        ),
        key=key,
        description=f"Review of the {args['purpose']} messages of {args['event']} before sending",
    )


def _own_review(run_id: str, at_once: TakenAtOnce | None) -> Approval | None:
    """The review a resumed run recorded before it was suspended (decided now if nobody need
    be asked), or None."""
    with session_scope() as session:
        approval = review_by_run(session, run_id)
        if approval is None:
            return None
        if at_once is not None and approval.decision == "pending":
            decide_at_once(session, approval, at_once)
            session.flush()
        session.expunge(approval)
        return approval


def _decision_at_once(
    decider: Decider | None, auto: str | None, at: dt.datetime
) -> TakenAtOnce | None:
    """The decision of `ApproveAs` or ``approval.auto_approve_by`` (no person asked)."""
    if isinstance(decider, ApproveAs):
        verdict, by, comment = decider.decision()
    elif decider is None and auto:
        verdict, by, comment = (
            "approved",
            auto,
            "approved automatically (approval.auto_approve_by)",
        )
    else:
        return None
    return TakenAtOnce(verdict, by, comment, at=at)


def release(
    approval: Approval, settings: Settings, *, due: bool = False, just_recorded: bool = False
) -> tuple[list[list[dict[str, Any]]], dict[str, Any]]:
    """What a decided (or still waiting) review lets go out now.

    ``just_recorded``: decided with its record, in this run: the data and the kept files are
    those the review digested a moment ago, so they are not read and compared again; approved
    for now, it was released with its record too (``sent_dt``).
    """
    info = review_info(approval)
    if approval.decision != "approved":
        return [], info
    if just_recorded and approval.sent_dt is not None:
        return _send_batches([approval.messages], settings), {**info, "status": "sent"}
    if approval.sent_dt is not None:
        return [], {**info, "status": "sent"}
    if not just_recorded:
        check_unchanged(approval)
    if for_a_later_hour(approval, dt.datetime.now(dt.UTC)) and not due:
        assert approval.send_at_dt is not None
        run = approval.scheduled_run_id or schedule_send(approval.id, approval.send_at_dt)
        return [], {**info, "status": "scheduled", "scheduled_run_id": run}
    with session_scope() as session:
        mark_sent(session, approval.id, dt.datetime.now(dt.UTC))
    return _send_batches([approval.messages], settings), {**info, "status": "sent"}


def _send_batches(
    manifests: Sequence[Sequence[dict[str, Any]]], settings: Settings
) -> list[list[dict[str, Any]]]:
    """The messages in batches of ``send_batch_size``, each sent by one task (they were
    rendered in chunks of ``batch_size``)."""
    return chunks([m for manifest in manifests for m in manifest], settings.send_batch_size)


def review_info(approval: Approval) -> dict[str, Any]:
    """A review as the flow's result and the CLI print it."""
    from flows.domain.review import approval_status

    return {
        "id": approval.id,
        "flow_run_id": approval.flow_run_id,
        "mode": approval.mode,
        "status": approval_status(
            approval.decision,
            expires=approval.expires_dt,
            send_at=approval.send_at_dt,
            sent=approval.sent_dt,
            now=dt.datetime.now(dt.UTC),
        ),
        "messages": approval.message_count,
        "languages": {k: v["letters"] for k, v in approval.summary["languages"].items()},
        # the first ones: the review's artifact and recipients.csv have them all
        "warnings": approval.summary["warnings"][:MAX_LISTED],
        "warning_count": len(approval.summary["warnings"]),
        "digest": approval.digest,
        "decided_by": approval.decided_by,
        "comment": approval.comment,
        "expires_dt": approval.expires_dt.isoformat(),
        "send_at_dt": approval.send_at_dt.isoformat() if approval.send_at_dt else None,
    }
