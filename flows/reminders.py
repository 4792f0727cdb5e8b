"""Anniversary reminders: decide the office day's reminders, claim them, send one digest.

The ledger (``reminder`` rows, unique per tie, milestone and lead time) makes every step
once-only, whoever runs it and however often:

1. **decide** — the indexed query finds the ties whose anniversary can be in play today
   (``Tie.anniversary_md`` plus the exact establishment dates), the domain decides what is
   due, missed or superseded, and the rows are inserted with ``ON CONFLICT DO NOTHING``:
   a second run or a second scheduler inserts nothing.
2. **claim the digest** — under a write lock (SQLite: the database's; PostgreSQL: an
   advisory lock), the day's undelivered rows are stamped with the digest day and an
   outbox row per recipient is claimed. Only the claimer sends; a claim left by a crashed
   run is taken over after the ledger's lease (:data:`flows.outbound.ledger.CLAIM_LEASE`). Once a
   day's digest has started, rows that turn up later that day wait for the next day's
   digest: one e-mail a day.
3. **send and confirm** — through the configured transport; the outbox row is confirmed,
   then the day's reminders are marked sent.

Nothing is due → no e-mail; the Prefect markdown artifact says so. The queries and stores
are :mod:`db.reminders`; the digest's content is :mod:`flows.domain.reminder_digest`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from db.anniversaries import tie_records, undated_ties
from db.mailbox import failing_contacts
from db.reminders import (
    claim_outbox,
    digest_days,
    finish_day,
    ledger_rows,
    load_candidates,
    load_done,
    lock_ledger,
    previous_run_day,
    record_decisions,
    record_digest_send,
)
from db.session import session_scope
from flows.anniversaries import digest_office
from flows.domain import anniversaries as dom
from flows.domain.reminder_digest import (
    DayDigest,
    DigestMessage,
    build_day_digest,
    digest_message_id,
    nothing_due_digest,
)
from flows.engine.console import preview, run_logger
from flows.outbound.ledger import CLAIM_LEASE, transport_from_settings


@dataclass(frozen=True)
class Decided:
    """What the decide step found and recorded."""

    #: the previous run's day (ISO), or None on the first run
    since: str | None
    candidates: int
    due: int
    missed: int
    superseded: int
    #: ledger rows this run inserted (0 when another run decided first)
    inserted: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DigestSend:
    """One recipient's copy of a day's digest: sent, failed for good, or deferred (retried)."""

    day: str
    recipient: str
    state: str
    error: str | None = None
    message_id: str | None = None
    location: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.state == "deferred":
            return {
                "day": self.day,
                "recipient": self.recipient,
                "state": self.state,
                "error": self.error,
            }
        return {
            "day": self.day,
            "recipient": self.recipient,
            "message_id": self.message_id,
            "state": self.state,
            "location": self.location,
            "error": self.error,
        }


def office_day(on: date | None, settings: Settings, now: datetime) -> date:
    """``on``, or today in the home city's zone."""
    return on if on is not None else dom.office_today(now, settings.home_city.timezone)


def _recipients(settings: Settings) -> list[str]:
    return list(dict.fromkeys(r.strip().lower() for r in settings.office.reminder_recipients))


# ---------------------------------------------------------------------------- tasks


@task(name="decide reminders")
def decide(day: date, now: datetime) -> Decided:
    """Find the day's candidate ties through the index, decide, and record in the ledger."""
    settings = get_settings()
    rules = settings.reminders
    with session_scope() as session:
        since = previous_run_day(session, day)
        ties = load_candidates(session, today=day, since=since, settings=settings)
        done = load_done(session, (t.tie_id for t in ties))
    due, skipped = dom.due_reminders(
        ties,
        today=day,
        milestones=rules.milestones,
        lead_days=rules.lead_days,
        already_done=done,
        since=since,
        feb29=rules.feb29_policy,
    )
    # A new transaction whose first statement writes: on SQLite it waits for the write
    # lock instead of failing on a snapshot another process has moved past.
    with session_scope() as session:
        inserted = record_decisions(session, due, skipped, now=now)
    return Decided(
        since=since.isoformat() if since else None,
        candidates=len(ties),
        due=len(due),
        missed=sum(s.reason == "missed" for s in skipped),
        superseded=sum(s.reason == "superseded" for s in skipped),
        inserted=inserted,
    )


def _claim_day(
    session: Session, day: date, recipients: list[str], *, settings: Settings, now: datetime
) -> DayDigest | None:
    """Claim ``day``'s digest for each recipient; the digest to send, or None if none is ours."""
    claimed = [
        recipient
        for recipient in recipients
        if claim_outbox(
            session,
            recipient=recipient,
            day=day,
            message_id=digest_message_id(day, recipient, mail_domain=settings.office.mail_domain),
            now=now,
            lease=CLAIM_LEASE,
        )
        is not None
    ]
    if not claimed:
        # Sent by a run that stopped before marking its rows; finish for it.
        finish_day(session, day, settings=settings)
        return None
    rows = ledger_rows(session, day)
    language = settings.office.language
    ties = tie_records(session, [r.tie_id for r in rows], language=language, today=day)
    return build_day_digest(
        day,
        rows,
        ties,
        undated_ties(session),
        office=digest_office(settings),
        now=now,
        recipients=claimed,
        bounced=failing_contacts(session),
    )


@task(name="claim digest")
def claim_digests(day: date, now: datetime) -> list[DayDigest]:
    """Stamp undelivered rows with the day, claim the outbox, build the messages to send."""
    settings = get_settings()
    recipients = _recipients(settings)
    out: list[DayDigest] = []
    if not recipients:
        # Nobody to tell: leave the rows claimed for the day a recipient is configured.
        return out
    with session_scope() as session:
        lock_ledger(session)
        for digest_day in digest_days(session, day):
            built = _claim_day(session, digest_day, recipients, settings=settings, now=now)
            if built is not None:
                out.append(built)
    return out


def _send_one(
    transport: Any, digest: DayDigest, message: DigestMessage, settings: Settings, now: datetime
) -> DigestSend:
    """Send one copy and record it; a transient failure leaves it claimed for a later run."""
    from flows.outbound.transport import PermanentFailure, TransientFailure

    day = digest.day.isoformat()
    state, error, location = "sent", None, None
    try:
        sent = transport.send(
            message.data,
            sender=settings.office.email,
            recipients=[message.recipient],
            message_id=message.message_id,
        )
        location = sent.location
    except PermanentFailure as exc:
        state, error = "failed", f"{exc.code} {exc.reply}".strip()
    except TransientFailure as exc:
        return DigestSend(day, message.recipient, "deferred", str(exc))
    with session_scope() as session:
        record_digest_send(
            session,
            day=digest.day,
            recipient=message.recipient,
            state=state,
            error=error,
            location=location,
            now=now,
        )
    return DigestSend(day, message.recipient, state, error, message.message_id, location)


@task(name="send digest")
def send_digests(digests: list[DayDigest], now: datetime) -> list[DigestSend]:
    """Send every claimed message, confirm it in the outbox, then mark its day's rows sent."""
    settings = get_settings()
    if not any(d.messages for d in digests):
        return []
    with transport_from_settings(settings) as transport:
        results = [_send_one(transport, d, m, settings, now) for d in digests for m in d.messages]
    with session_scope() as session:
        for digest in digests:
            finish_day(session, digest.day, settings=settings)
    return results


# ---------------------------------------------------------------------------- flow


def _run_name() -> str:
    from prefect.runtime import flow_run

    on = flow_run.parameters.get("on")
    return f"anniversary reminders: {on or 'today'}"


def _log_story(day: date, decided: Decided, sent: list[DigestSend]) -> None:
    """What the run decided and sent, in the run's log (a line per problem)."""
    log = run_logger()
    log.info(
        "Anniversaries for %s: %d due, %d missed (%d ties looked at)",
        day.isoformat(),
        decided.due,
        decided.missed,
        decided.candidates,
    )
    delivered = [s.recipient for s in sent if s.state == "sent"]
    log.info("Digest sent to %d: %s", len(delivered), preview(delivered) or "nobody")
    for s in sent:
        if s.state != "sent":
            log.info("Digest to %s %s: %s", s.recipient, s.state, s.error or "no reason given")


@flow(name="anniversary reminders", flow_run_name=_run_name, log_prints=False)
def remind(on: date | None = None) -> dict[str, Any]:
    """Send the office's daily digest of coming friendship-city anniversaries (once a day).

    Args:
        on: The office day to decide the reminders for. Leave empty for today in the home
            city's time zone.
    """
    settings = get_settings()
    now = datetime.now(UTC)
    day = office_day(on, settings, now)
    decided = decide(day, now)
    digests = claim_digests(day, now)
    sent = send_digests(digests, now)
    today_digest = next((d for d in digests if d.day == day), None)
    if today_digest is not None:
        markdown = today_digest.markdown
    else:
        with session_scope() as session:
            markdown = nothing_due_markdown(session, day, settings=settings)
    create_markdown_artifact(
        markdown=markdown,
        key="anniversary-digest",
        description=f"anniversary digest for {day.isoformat()}",
    )
    _log_story(day, decided, sent)
    return {
        "day": day.isoformat(),
        **decided.to_dict(),
        "digests": [
            {
                "day": d.day.isoformat(),
                "due": [i.to_dict() for i in d.due],
                "missed": [i.to_dict() for i in d.missed],
            }
            for d in digests
        ],
        "emails": [s.to_dict() for s in sent],
    }


def nothing_due_markdown(session: Session, day: date, *, settings: Settings) -> str:
    return nothing_due_digest(day, undated_ties(session), office=digest_office(settings))
