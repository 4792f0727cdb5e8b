"""The reminder ledger: candidate ties, decisions, and the digest's claims.

The ledger (``reminder`` rows, unique per tie, milestone and lead time) makes every step of
:mod:`flows.reminders` once-only; the digest's outbox rows (purpose ``reminder-digest``, one
per recipient and day) make the e-mail once-only.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from config.settings import Settings
from db.models import OutboxMessage, Reminder, Tie
from flows.domain import anniversaries as dom
from flows.domain.reminder_digest import (
    DIGEST_PURPOSE,
    LedgerRow,
    digest_occurrence,
)

#: above this many exact establishment dates the query keys on month-day alone
MAX_EXACT_DATES = 5000
#: rows per statement (SQLite's bound-parameter limit)
_CHUNK = 900


# ---------------------------------------------------------------------------- decide


def previous_run_day(session: Session, today: date) -> date | None:
    """The last office day whose digest step stamped ledger rows (None: the first run).

    At most yesterday, so a second run the same day re-examines today's lead dates and a
    tie imported in between is not lost. Days when nothing was decided leave no trace, which
    only widens the next window; the ledger still keeps every reminder to one decision.
    """
    last = session.scalar(select(func.max(Reminder.digest_date)))
    if last is None:
        return None
    return min(last, today - timedelta(days=1))


def establishment_dates(keys: frozenset[int], years: frozenset[int]) -> set[date]:
    """Every date with one of the month-day ``keys`` in one of the ``years``: with the
    month-day index, the query reads only ties made on a day that can have a milestone."""
    out: set[date] = set()
    for key in keys:
        month, day = divmod(key, 100)
        for year in years:
            try:
                out.add(date(year, month, day))
            except ValueError:  # 29 February of a common year: no tie was made that day
                continue
    return out


def candidate_ties_query(
    *,
    today: date,
    since: date | None,
    lead_days: Sequence[int],
    milestones: Sequence[int],
    feb29: str,
) -> Any:
    """The daily query: ties whose anniversary can be in play, found through the index."""
    keys, years = dom.candidate_keys(
        today=today, since=since, lead_days=lead_days, milestones=milestones, feb29=feb29
    )
    query = select(Tie.id, Tie.established_on, Tie.precision).where(
        Tie.anniversary_md.in_(sorted(keys)), Tie.status == "active"
    )
    dates = establishment_dates(keys, years)
    if len(dates) <= MAX_EXACT_DATES:
        query = query.where(Tie.established_on.in_(sorted(dates)))
    elif years:
        query = query.where(
            Tie.established_on >= date(min(years), 1, 1),
            Tie.established_on < date(max(years) + 1, 1, 1),
        )
    return query


def load_candidates(
    session: Session, *, today: date, since: date | None, settings: Settings
) -> list[dom.TieRecord]:
    rules = settings.reminders
    query = candidate_ties_query(
        today=today,
        since=since,
        lead_days=rules.lead_days,
        milestones=rules.milestones,
        feb29=rules.feb29_policy,
    )
    return [
        dom.TieRecord(tie_id, "", established_on, precision)
        for tie_id, established_on, precision in session.execute(query)
    ]


def load_done(session: Session, tie_ids: Iterable[int]) -> set[tuple[int, int, int]]:
    ids = sorted(set(tie_ids))
    done: set[tuple[int, int, int]] = set()
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(Reminder.tie_id, Reminder.milestone, Reminder.lead_days).where(
                Reminder.tie_id.in_(ids[start : start + _CHUNK])
            )
        )
        done.update((t, m, lead) for t, m, lead in rows)
    return done


def _insert(session: Session) -> Any:
    # Both dialects spell ON CONFLICT DO NOTHING the same way, from different classes.
    from sqlalchemy.dialects import postgresql, sqlite

    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def _ledger_row(
    r: dom.DueReminder | dom.SkippedReminder, state: str, now: datetime
) -> dict[str, Any]:
    return {
        "tie_id": r.tie_id,
        "milestone": r.milestone,
        "lead_days": r.lead_days,
        "anniversary_date": r.anniversary,
        "due_date": r.lead_date,
        "state": state,
        "digest_date": None,
        "created_dt": now,
    }


def record_decisions(
    session: Session,
    due: Sequence[dom.DueReminder],
    skipped: Sequence[dom.SkippedReminder],
    *,
    now: datetime,
) -> int:
    """Insert the ledger rows; rows another run inserted first are left alone. Returns how
    many rows this call inserted."""
    rows = [_ledger_row(r, "claimed", now) for r in due] + [
        _ledger_row(s, s.reason, now) for s in skipped
    ]
    if not rows:
        return 0
    insert = _insert(session)
    stmt = (
        insert(Reminder)
        .on_conflict_do_nothing(index_elements=["tie_id", "milestone", "lead_days"])
        .returning(Reminder.id)
    )
    inserted = 0
    for start in range(0, len(rows), _CHUNK):
        inserted += len(session.execute(stmt, rows[start : start + _CHUNK]).all())
    return inserted


# ---------------------------------------------------------------------------- the digest's claim


def lock_ledger(session: Session) -> None:
    """Serialize the digest step across processes, for the rest of the transaction."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(b"amity:reminder-digest").digest()[:4], "big")
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        # A write as the first statement takes SQLite's write lock (waiting busy_timeout)
        # before anything is read, so the check-then-claim below cannot interleave.
        session.execute(update(Reminder).where(Reminder.id == -1).values(state="claimed"))


def digest_days(session: Session, day: date) -> list[date]:
    """Stamp undelivered rows with ``day`` unless its digest started; the days to send.

    Those are today's digest, plus any earlier day whose digest was claimed but never
    finished. Once a day's digest has started, rows that turn up later wait for the next day.
    """
    started = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.purpose == DIGEST_PURPOSE,
            OutboxMessage.occurrence == digest_occurrence(day),
        )
    )
    if not started:
        session.execute(
            update(Reminder).where(Reminder.digest_date.is_(None)).values(digest_date=day)
        )
    return sorted(
        {
            d
            for d in session.scalars(
                select(Reminder.digest_date)
                .where(Reminder.state == "claimed", Reminder.digest_date.is_not(None))
                .distinct()
            )
            if d is not None
        }
    )


def claim_outbox(
    session: Session,
    *,
    recipient: str,
    day: date,
    message_id: str,
    now: datetime,
    lease: timedelta,
) -> str | None:
    """Claim the (digest, recipient, day) outbox row; the token if this run may send.

    Not :func:`flows.outbound.ledger.claim`: a digest that failed for good is final here (the day
    counts as done, see :func:`finish_day`) where the delivery ledger retries failed rows,
    a claim is only taken over after ``lease`` (the digest's token names no process), and
    ``attempts`` counts claims, since a transient failure leaves the row claimed.
    """
    token = secrets.token_hex(16)
    existing = session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.purpose == DIGEST_PURPOSE,
            OutboxMessage.recipient == recipient.lower(),
            OutboxMessage.occurrence == digest_occurrence(day),
        )
    )
    if existing is None:
        session.add(
            OutboxMessage(
                purpose=DIGEST_PURPOSE,
                recipient=recipient.lower(),
                occurrence=digest_occurrence(day),
                message_id=message_id,
                state="claimed",
                claim_token=token,
                claimed_dt=now,
                attempts=1,
            )
        )
        session.flush()
        return token
    if existing.state == "claimed" and existing.claimed_dt < now - lease:
        existing.claim_token, existing.claimed_dt = token, now
        existing.attempts += 1
        session.flush()
        return token
    return None


def record_digest_send(
    session: Session,
    *,
    day: date,
    recipient: str,
    state: str,
    error: str | None,
    location: str | None,
    now: datetime,
) -> None:
    """The digest's outbox row after a send: sent, or failed for good."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.purpose == DIGEST_PURPOSE,
            OutboxMessage.recipient == recipient,
            OutboxMessage.occurrence == digest_occurrence(day),
        )
        .values(state=state, sent_dt=now if state == "sent" else None, error=error, path=location)
    )


def finish_day(session: Session, day: date, *, settings: Settings) -> bool:
    """Mark the day's reminders sent once every recipient's copy is sent or failed for good."""
    recipients = {r.strip().lower() for r in settings.office.reminder_recipients}
    rows = session.execute(
        select(OutboxMessage.recipient, OutboxMessage.state).where(
            OutboxMessage.purpose == DIGEST_PURPOSE,
            OutboxMessage.occurrence == digest_occurrence(day),
        )
    )
    states = {recipient: state for recipient, state in rows}
    if any(states.get(r) not in ("sent", "failed") for r in recipients):
        return False
    session.execute(
        update(Reminder)
        .where(Reminder.digest_date == day, Reminder.state == "claimed")
        .values(state="sent")
    )
    return True


def ledger_rows(session: Session, day: date) -> list[LedgerRow]:
    """The rows stamped with ``day``, in anniversary order."""
    rows = session.scalars(
        select(Reminder).where(Reminder.digest_date == day).order_by(Reminder.anniversary_date)
    ).all()
    return [
        LedgerRow(r.tie_id, r.milestone, r.lead_days, r.anniversary_date, r.due_date, r.state)
        for r in rows
    ]
