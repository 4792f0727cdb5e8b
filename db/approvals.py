"""The approvals store: reviews of rendered messages and the decisions on them.

A review is recorded when a run has rendered everything it would send; a decision
(approved, rejected, expired) is taken once, by a named person, with a comment. The data
digest says what the messages were rendered from: the same query at send time must give
the same digest, or the approval no longer matches and nothing is sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, fields, replace
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from db.calendars import event_info
from db.invitees import Invitee, invitees
from db.models import Approval, Contact, Event, Invitation, OutboxMessage
from db.outbox import IN_LIMIT, rows_by_key
from flows.domain.review import approval_status


class ApprovalNotFound(LookupError):
    """No review matches what the user named."""


class ApprovalClosed(ValueError):
    """The review was decided already, superseded or expired: it cannot be decided now."""


#: an invitee as the database's contact row gives it: its invitation's fields (those with a
#: default, filled by the plan) left at their defaults, digested apart as the invitation's row
_NOT_PLANNED = {f.name: f.default for f in fields(Invitee) if f.default is not MISSING}


def data_digest(session: Session, event_id: int, contact_ids: Sequence[int]) -> str:
    """sha256 of what the messages are rendered from: the event, the contacts, their invitations.

    A contact edited, the event moved or renamed, a SEQUENCE bumped: another digest (an answer
    is not part of it). Read as plain rows (10,000 contacts as ORM objects took a second),
    900 contacts a statement.
    """
    ids = sorted(set(contact_ids))
    contacts: list[Any] = []
    for start in range(0, len(ids), IN_LIMIT):
        part = ids[start : start + IN_LIMIT]
        contacts += session.execute(
            select(Contact.__table__).where(Contact.id.in_(part)).order_by(Contact.id)
        )
    inv = Invitation.__table__.c
    invitations = {
        contact_id: (uid, sequence, year, number)
        for contact_id, uid, sequence, year, number in session.execute(
            select(
                inv.contact_id, inv.uid, inv.sequence, inv.reference_year, inv.reference_number
            ).where(inv.event_id == event_id)
        )
    }
    return _digest(
        session,
        event_id,
        [(row, invitations.get(row.contact_id)) for row in invitees(session, contacts)],
    )


def planned_data_digest(session: Session, event_id: int, planned: Sequence[Invitee]) -> str:
    """`data_digest` of the invitees a run planned and rendered its messages from.

    Once the plan is committed it is the digest `data_digest` reads back, without reading
    10,000 contacts again (0.3 s). It is of the data the letters were rendered from: a contact
    edited while they were being rendered no longer matches it when the review is approved.
    """
    by_id = {row.contact_id: row for row in planned}
    return _digest(
        session,
        event_id,
        [
            (
                replace(row, **_NOT_PLANNED),
                (row.uid, row.sequence, row.reference_year, row.reference_number),
            )
            for _, row in sorted(by_id.items())
        ],
    )


def _digest(
    session: Session, event_id: int, contacts: list[tuple[Invitee, tuple[Any, ...] | None]]
) -> str:
    """sha256 of the event and of the (contact, invitation) pairs, in contact order."""
    event = session.get(Event, event_id)
    assert event is not None
    payload = repr(
        (
            event.slug,
            event.status,
            event.sequence,
            event.timezone,
            event.start_dt.isoformat(),
            event.end_dt.isoformat(),
            event_info(event),
            contacts,
        )
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def sent_keys(session: Session, keys: Sequence[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Which (purpose, recipient, occurrence) ledger keys were confirmed sent already."""
    if not keys:
        return set()
    rows = rows_by_key(session, keys, where=OutboxMessage.state == "sent")
    return {(row.purpose, row.recipient, row.occurrence) for row in rows}


@dataclass(frozen=True)
class TakenAtOnce:
    """A decision taken as the review is recorded, asking nobody (``--approve``, the demo,
    ``approval.auto_approve_by``): the review's row is written once, decided."""

    verdict: str
    by: str
    comment: str
    at: dt.datetime


def record_review(
    session: Session,
    *,
    event_id: int,
    purpose: str,
    occurrence: str,
    flow_run_id: str,
    mode: str,
    digest: str,
    data: str,
    summary: dict[str, Any],
    messages: list[dict[str, Any]],
    now: dt.datetime,
    timeout: dt.timedelta,
    send_at: dt.datetime | None = None,
    decided: TakenAtOnce | None = None,
) -> Approval:
    """A new review; earlier pending ones of the same event and purpose are superseded.

    It is pending, or ``decided`` already; approved then, and not for a later hour, it is
    released too (``sent_dt``: its messages go out now). The row holds every message, about
    4 MB at 10,000, and it is written once rather than updated twice (each update rewrote it
    on SQLite: 0.1 s). The row is returned, not its id: the session keeps a flushed row only
    while someone holds it, and loading the messages again costs a second per 10,000.
    """
    session.execute(
        update(Approval)
        .where(
            Approval.event_id == event_id,
            Approval.purpose == purpose,
            Approval.decision == "pending",
        )
        .values(decision="superseded", decided_dt=now, comment="a newer review replaces it")
    )
    approval = Approval(
        event_id=event_id,
        purpose=purpose,
        occurrence=occurrence,
        flow_run_id=flow_run_id,
        mode=mode,
        decision="pending",
        digest=digest,
        data_digest=data,
        message_count=len(messages),
        summary=summary,
        messages=messages,
        # in UTC, as the database gives them back (the row is used as it is)
        requested_dt=now.astimezone(dt.UTC),
        expires_dt=(now + timeout).astimezone(dt.UTC),
        send_at_dt=send_at.astimezone(dt.UTC) if send_at else None,
        decided_by="",
        comment="",
    )
    if decided is not None:
        decide_at_once(session, approval, decided)
        if approval.decision == "approved" and not for_a_later_hour(approval, decided.at):
            approval.sent_dt = decided.at
    session.add(approval)
    session.flush()
    return approval


def find_approval(session: Session, ref: str) -> Approval:
    """A review by its number, or by its flow run id (or the id's first characters)."""
    ref = ref.strip()
    clauses = [Approval.flow_run_id.startswith(ref.lower())] if len(ref) >= 4 else []
    if ref.isdigit():
        clauses.append(Approval.id == int(ref))
    found = (
        list(session.scalars(select(Approval).where(or_(*clauses)).order_by(Approval.id)))
        if clauses
        else []
    )
    if not found:
        raise ApprovalNotFound(f"no review {ref!r} (see `amity approvals`)")
    exact = [a for a in found if str(a.id) == ref or a.flow_run_id == ref.lower()]
    if len(found) > 1 and len(exact) != 1:
        raise ApprovalNotFound(f"{ref!r} names {len(found)} reviews: give more of the run id")
    return exact[0] if exact else found[0]


def review_by_run(session: Session, flow_run_id: str) -> Approval | None:
    """The review a flow run recorded (a suspended run finds its own when it resumes)."""
    return session.scalar(
        select(Approval)
        .where(Approval.flow_run_id == flow_run_id)
        .order_by(Approval.id.desc())
        .limit(1)
    )


def decide(
    session: Session,
    approval: Approval,
    decision: str,
    *,
    by: str,
    comment: str,
    now: dt.datetime,
    send_at: dt.datetime | None = None,
) -> None:
    """Record the decision on a pending review; a review decides once, and not once expired."""
    if decision not in ("approved", "rejected"):
        raise ValueError(f"decision {decision!r}: approved or rejected")
    if approval.decision == "pending" and now >= approval.expires_dt:
        expire(session, approval, now)
    if approval.decision != "pending":
        raise ApprovalClosed(
            f"review {approval.id or '(new)'} of run {approval.flow_run_id} is {approval.decision}"
            + (f" ({approval.comment})" if approval.comment else "")
            + ": nothing to decide"
        )
    approval.decision = decision
    approval.decided_by = by
    approval.comment = comment
    approval.decided_dt = now
    if send_at is not None:
        approval.send_at_dt = send_at


def decide_at_once(session: Session, approval: Approval, decided: TakenAtOnce) -> None:
    decide(
        session, approval, decided.verdict, by=decided.by, comment=decided.comment, now=decided.at
    )


def for_a_later_hour(approval: Approval, now: dt.datetime) -> bool:
    """Approved to go out at a chosen hour that is still to come."""
    return approval.send_at_dt is not None and approval.send_at_dt > now


def expire(session: Session, approval: Approval, now: dt.datetime) -> None:
    if approval.decision == "pending":
        approval.decision = "expired"
        approval.decided_dt = now
        approval.comment = "not decided in time: nothing was sent"


def mark_sent(session: Session, approval_id: int, now: dt.datetime) -> None:
    session.execute(update(Approval).where(Approval.id == approval_id).values(sent_dt=now))


def set_scheduled(session: Session, approval_id: int, flow_run_id: str) -> None:
    session.execute(
        update(Approval).where(Approval.id == approval_id).values(scheduled_run_id=flow_run_id)
    )


def approval_row(approval: Approval, slug: str, now: dt.datetime) -> dict[str, Any]:
    """A review as plain data for listings (`amity approvals`, `events show`, the report)."""
    return {
        "id": approval.id,
        "event": slug,
        "purpose": approval.purpose,
        "flow_run_id": approval.flow_run_id,
        "mode": approval.mode,
        "status": approval_status(
            approval.decision,
            expires=approval.expires_dt,
            send_at=approval.send_at_dt,
            sent=approval.sent_dt,
            now=now,
        ),
        "decision": approval.decision,
        "messages": approval.message_count,
        "languages": len(approval.summary.get("languages", {})),
        "warnings": len(approval.summary.get("warnings", [])),
        "digest": approval.digest,
        "requested_dt": approval.requested_dt,
        "expires_dt": approval.expires_dt,
        "send_at_dt": approval.send_at_dt,
        "scheduled_run_id": approval.scheduled_run_id,
        "decided_by": approval.decided_by,
        "decided_dt": approval.decided_dt,
        "comment": approval.comment,
        "sent_dt": approval.sent_dt,
    }


def list_approvals(
    session: Session, *, now: dt.datetime, everything: bool = False, event_id: int | None = None
) -> list[dict[str, Any]]:
    """Reviews waiting or scheduled (or, with ``everything``, all of them), oldest first."""
    query = select(Approval, Event.slug).join(Event, Event.id == Approval.event_id)
    if event_id is not None:
        query = query.where(Approval.event_id == event_id)
    rows = [approval_row(a, slug, now) for a, slug in session.execute(query.order_by(Approval.id))]
    if everything:
        return rows
    return [r for r in rows if r["status"] in ("waiting", "expired", "scheduled", "approved")]
