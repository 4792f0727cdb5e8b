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

Nothing is due → no e-mail; the Prefect markdown artifact says so.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from config.settings import Settings, get_settings
from db.models import Attendance, City, Contact, Event, OutboxMessage, Reminder, Tie
from db.session import session_scope
from flows.domain import anniversaries as dom
from flows.domain.mail import build_plain_message, make_message_id
from flows.domain.slug import slugify
from flows.outbound.ledger import CLAIM_LEASE, transport_from_settings

DIGEST_PURPOSE = "reminder-digest"
#: how many undated ties the digest names (the rest are counted)
UNDATED_SHOWN = 50
#: above this many exact establishment dates the query keys on month-day alone
MAX_EXACT_DATES = 5000
_CHUNK = 900


# ---------------------------------------------------------------------------- queries


def office_day(on: date | None, settings: Settings, now: datetime) -> date:
    """``on``, or today in the home city's zone."""
    return on if on is not None else dom.office_today(now, settings.home_city.timezone)


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


def record_decisions(
    session: Session,
    due: Sequence[dom.DueReminder],
    skipped: Sequence[dom.SkippedReminder],
    *,
    now: datetime,
) -> int:
    """Insert the ledger rows; rows another run inserted first are left alone. Returns how
    many rows this call inserted."""
    rows = [
        {
            "tie_id": r.tie_id,
            "milestone": r.milestone,
            "lead_days": r.lead_days,
            "anniversary_date": r.anniversary,
            "due_date": r.lead_date,
            "state": "claimed",
            "digest_date": None,
            "created_dt": now,
        }
        for r in due
    ] + [
        {
            "tie_id": s.tie_id,
            "milestone": s.milestone,
            "lead_days": s.lead_days,
            "anniversary_date": s.anniversary,
            "due_date": s.lead_date,
            "state": s.reason,
            "digest_date": None,
            "created_dt": now,
        }
        for s in skipped
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


def _lock_ledger(session: Session) -> None:
    """Serialize the digest step across processes, for the rest of the transaction."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(b"amity:reminder-digest").digest()[:4], "big")
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        # A write as the first statement takes SQLite's write lock (waiting busy_timeout)
        # before anything is read, so the check-then-claim below cannot interleave.
        session.execute(update(Reminder).where(Reminder.id == -1).values(state="claimed"))


# ---------------------------------------------------------------------------- digest data


@dataclass
class DayDigest:
    """Everything needed to send one day's digest (plain data, passed between tasks)."""

    day: date
    messages: list[dict[str, Any]]
    markdown: str
    due: list[dict[str, Any]]
    missed: list[dict[str, Any]]


def _occurrence(day: date) -> str:
    return f"reminders:{day.isoformat()}"


def _event_when(event: Event, language: str) -> str:
    local = event.start_dt.date()
    precision = event.date_precision if event.date_precision in ("day", "month", "year") else "day"
    text_ = dom.date_text(local, precision, language)
    return text_.removeprefix("in ") if precision == "year" else text_


def tie_records(
    session: Session, tie_ids: Iterable[int], *, language: str, today: date
) -> dict[int, dom.TieRecord]:
    """Ties with their partner's contacts and earlier events, for the digest and the .ics."""
    ids = sorted(set(tie_ids))
    if not ids:
        return {}
    partner = aliased(City)
    rows = session.execute(
        select(Tie, partner).join(partner, Tie.partner_city_id == partner.id).where(Tie.id.in_(ids))
    ).all()
    city_ids = {p.id for _, p in rows}
    contacts: dict[int, list[dom.Contact]] = defaultdict(list)
    for c in session.scalars(
        select(Contact).where(Contact.city_id.in_(city_ids)).order_by(Contact.name_latin)
    ):
        name = (
            c.name_native if c.name_native == c.name_latin else f"{c.name_native} ({c.name_latin})"
        )
        contacts[c.city_id].append(dom.Contact(name, c.title, "" if c.is_opted_out else c.email))
    events: dict[int, list[dom.PastEvent]] = defaultdict(list)
    attended = (
        select(
            Attendance.event_id, func.coalesce(Attendance.city_id, Contact.city_id).label("city")
        )
        .outerjoin(Contact, Attendance.contact_id == Contact.id)
        .where(Attendance.is_attended.is_(True))
        .subquery()
    )
    held = session.execute(
        select(Event, City.id)
        .join(
            City,
            or_(
                Event.host_city_id == City.id,
                City.id.in_(
                    select(attended.c.city).where(attended.c.event_id == Event.id).scalar_subquery()
                ),
            ),
        )
        .where(
            City.id.in_(city_ids),
            Event.status != "cancelled",
            Event.start_dt < datetime.combine(today, datetime.min.time(), tzinfo=UTC),
        )
        .order_by(Event.start_dt)
    ).all()
    for event, city_id in held:
        title = event.titles.get(language) or event.titles.get("en") or event.slug
        events[city_id].append(dom.PastEvent(title, _event_when(event, language)))
    out: dict[int, dom.TieRecord] = {}
    for tie, p in rows:
        out[tie.id] = dom.TieRecord(
            tie.id,
            p.name,
            tie.established_on,
            tie.precision,
            p.native_name,
            p.country_code,
            tuple(contacts[p.id]),
            tuple(events[p.id]),
        )
    return out


def undated_ties(session: Session) -> tuple[list[dom.TieRecord], int]:
    partner = aliased(City)
    where = and_(Tie.established_on.is_(None), Tie.status == "active")
    total = session.scalar(select(func.count()).select_from(Tie).where(where)) or 0
    rows = session.execute(
        select(Tie.id, partner.name, partner.native_name)
        .join(partner, Tie.partner_city_id == partner.id)
        .where(where)
        .order_by(partner.name)
        .limit(UNDATED_SHOWN)
    ).all()
    return [dom.TieRecord(i, name, None, "unknown", native) for i, name, native in rows], total


def home_name(settings: Settings, language: str) -> str:
    return settings.home_city.native_name if language == "zh" else settings.home_city.name


def anniversary_uid(tie_id: int, settings: Settings) -> str:
    """Stable per tie: the same calendar entry whenever it is sent or subscribed to."""
    return f"anniversary-tie-{tie_id}@{settings.office.mail_domain}"


def build_day_digest(
    session: Session, day: date, *, settings: Settings, now: datetime, recipients: Sequence[str]
) -> DayDigest:
    """Render the digest of ``day`` from its ledger rows and build one message per recipient."""
    language = settings.office.language
    rows = session.scalars(
        select(Reminder).where(Reminder.digest_date == day).order_by(Reminder.anniversary_date)
    ).all()
    superseded: dict[tuple[int, int], list[int]] = defaultdict(list)
    for r in rows:
        if r.state == "superseded":
            superseded[(r.tie_id, r.milestone)].append(r.lead_days)
    due = [
        dom.DueReminder(
            r.tie_id,
            r.milestone,
            r.lead_days,
            r.anniversary_date,
            r.due_date,
            tuple(sorted(superseded[(r.tie_id, r.milestone)], reverse=True)),
        )
        for r in rows
        if r.state in ("claimed", "sent")
    ]
    due.sort(key=lambda r: (r.anniversary, r.tie_id, r.milestone))
    missed = [
        dom.SkippedReminder(
            r.tie_id, r.milestone, r.lead_days, r.anniversary_date, r.due_date, "missed"
        )
        for r in rows
        if r.state == "missed"
    ]
    ties = tie_records(session, [r.tie_id for r in rows], language=language, today=day)
    undated, total = undated_ties(session)
    digest = dom.DigestInput(
        today=day,
        home_city=home_name(settings, language),
        due=due,
        ties=ties,
        missed=missed,
        undated=undated,
        undated_total=total,
        feb29=settings.reminders.feb29_policy,
    )
    mail = dom.render_digest(digest, language)
    attachments = []
    for tie_id in dict.fromkeys(r.tie_id for r in due):
        tie = ties[tie_id]
        milestone = next(r.milestone for r in due if r.tie_id == tie_id)
        ics = dom.anniversary_ics(
            tie,
            uid=anniversary_uid(tie_id, settings),
            stamp=now,
            home_city=home_name(settings, language),
            language=language,
            feb29=settings.reminders.feb29_policy,
        )
        attachments.append((f"{slugify(tie.partner)}-{milestone}.ics", "text/calendar", ics))
    messages = []
    for recipient in recipients:
        message_id = make_message_id(
            DIGEST_PURPOSE, day.isoformat(), recipient, domain=settings.office.mail_domain
        )
        data = build_plain_message(
            from_addr=settings.office.email,
            from_name=settings.office.native_name if language == "zh" else settings.office.name,
            to_addr=recipient,
            to_name="",
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            attachments=attachments,
            message_id=message_id,
            date=now,
        )
        messages.append({"recipient": recipient, "message_id": message_id, "data": data})
    return DayDigest(
        day=day,
        messages=messages,
        markdown=mail.markdown,
        due=[_reminder_dict(r, ties) for r in due],
        missed=[_reminder_dict(m, ties) for m in missed],
    )


def _reminder_dict(
    r: dom.DueReminder | dom.SkippedReminder, ties: dict[int, dom.TieRecord]
) -> dict[str, Any]:
    tie = ties.get(r.tie_id)
    return {
        "tie_id": r.tie_id,
        "partner": tie.partner if tie else "",
        "milestone": r.milestone,
        "lead_days": r.lead_days,
        "anniversary": r.anniversary.isoformat(),
        "lead_date": r.lead_date.isoformat(),
    }


def claim_outbox(
    session: Session, *, recipient: str, day: date, message_id: str, now: datetime
) -> str | None:
    """Claim the (digest, recipient, day) outbox row; the token if this run may send.

    Not :func:`flows.outbound.ledger.claim`: a digest that failed for good is final here (the day
    counts as done, see :func:`finish_day`) where the delivery ledger retries failed rows,
    a claim is only taken over after the lease (the digest's token names no process), and
    ``attempts`` counts claims, since a transient failure leaves the row claimed.
    """
    token = secrets.token_hex(16)
    existing = session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.purpose == DIGEST_PURPOSE,
            OutboxMessage.recipient == recipient.lower(),
            OutboxMessage.occurrence == _occurrence(day),
        )
    )
    if existing is None:
        session.add(
            OutboxMessage(
                purpose=DIGEST_PURPOSE,
                recipient=recipient.lower(),
                occurrence=_occurrence(day),
                message_id=message_id,
                state="claimed",
                claim_token=token,
                claimed_dt=now,
                attempts=1,
            )
        )
        session.flush()
        return token
    if existing.state == "claimed" and existing.claimed_dt < now - CLAIM_LEASE:
        existing.claim_token, existing.claimed_dt = token, now
        existing.attempts += 1
        session.flush()
        return token
    return None


# ---------------------------------------------------------------------------- tasks


@task(name="decide reminders")
def decide(day: date, now: datetime) -> dict[str, Any]:
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
    return {
        "since": since.isoformat() if since else None,
        "candidates": len(ties),
        "due": len(due),
        "missed": sum(s.reason == "missed" for s in skipped),
        "superseded": sum(s.reason == "superseded" for s in skipped),
        "inserted": inserted,
    }


@task(name="claim digest")
def claim_digests(day: date, now: datetime) -> list[dict[str, Any]]:
    """Stamp undelivered rows with the day, claim the outbox, build the messages to send."""
    settings = get_settings()
    recipients = list(dict.fromkeys(r.strip().lower() for r in settings.office.reminder_recipients))
    out: list[dict[str, Any]] = []
    if not recipients:
        # Nobody to tell: leave the rows claimed for the day a recipient is configured.
        return out
    with session_scope() as session:
        _lock_ledger(session)
        started = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.purpose == DIGEST_PURPOSE,
                OutboxMessage.occurrence == _occurrence(day),
            )
        )
        if not started:
            session.execute(
                update(Reminder).where(Reminder.digest_date.is_(None)).values(digest_date=day)
            )
        # Today's digest, plus any earlier day whose digest was claimed but never finished.
        days = sorted(
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
        for digest_day in days:
            claimed = [
                recipient
                for recipient in recipients
                if claim_outbox(
                    session,
                    recipient=recipient,
                    day=digest_day,
                    message_id=make_message_id(
                        DIGEST_PURPOSE,
                        digest_day.isoformat(),
                        recipient,
                        domain=settings.office.mail_domain,
                    ),
                    now=now,
                )
                is not None
            ]
            if not claimed:
                # Sent by a run that stopped before marking its rows; finish for it.
                finish_day(session, digest_day, settings=settings)
                continue
            built = build_day_digest(
                session, digest_day, settings=settings, now=now, recipients=claimed
            )
            out.append(
                {
                    "day": digest_day.isoformat(),
                    "markdown": built.markdown,
                    "due": built.due,
                    "missed": built.missed,
                    "messages": built.messages,
                }
            )
    return out


@task(name="send digest")
def send_digests(digests: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Send every claimed message, confirm it in the outbox, then mark its day's rows sent."""
    from flows.outbound.transport import PermanentFailure, TransientFailure

    settings = get_settings()
    results: list[dict[str, Any]] = []
    if not any(d["messages"] for d in digests):
        return results
    with transport_from_settings(settings) as transport:
        for digest in digests:
            for message in digest["messages"]:
                state, error, location = "sent", None, None
                try:
                    sent = transport.send(
                        message["data"],
                        sender=settings.office.email,
                        recipients=[message["recipient"]],
                        message_id=message["message_id"],
                    )
                    location = sent.location
                except PermanentFailure as exc:
                    state, error = "failed", f"{exc.code} {exc.reply}".strip()
                except TransientFailure as exc:
                    # Left claimed: a later run takes the stale claim over and retries.
                    results.append(
                        {
                            "day": digest["day"],
                            "recipient": message["recipient"],
                            "state": "deferred",
                            "error": str(exc),
                        }
                    )
                    continue
                with session_scope() as session:
                    session.execute(
                        update(OutboxMessage)
                        .where(
                            OutboxMessage.purpose == DIGEST_PURPOSE,
                            OutboxMessage.recipient == message["recipient"],
                            OutboxMessage.occurrence
                            == _occurrence(date.fromisoformat(digest["day"])),
                        )
                        .values(
                            state=state,
                            sent_dt=now if state == "sent" else None,
                            error=error,
                            path=location,
                        )
                    )
                results.append(
                    {
                        "day": digest["day"],
                        "recipient": message["recipient"],
                        "message_id": message["message_id"],
                        "state": state,
                        "location": location,
                        "error": error,
                    }
                )
    with session_scope() as session:
        for digest in digests:
            finish_day(session, date.fromisoformat(digest["day"]), settings=settings)
    return results


def finish_day(session: Session, day: date, *, settings: Settings) -> bool:
    """Mark the day's reminders sent once every recipient's copy is sent or failed for good."""
    recipients = {r.strip().lower() for r in settings.office.reminder_recipients}
    rows = session.execute(
        select(OutboxMessage.recipient, OutboxMessage.state).where(
            OutboxMessage.purpose == DIGEST_PURPOSE,
            OutboxMessage.occurrence == _occurrence(day),
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


# ---------------------------------------------------------------------------- flow


def _run_name() -> str:
    from prefect.runtime import flow_run

    on = flow_run.parameters.get("on")
    return f"anniversary reminders: {on or 'today'}"


@flow(name="anniversary reminders", flow_run_name=_run_name, log_prints=False)
def remind(on: date | None = None) -> dict[str, Any]:
    """Send the office's daily digest of coming friendship-city anniversaries (once a day)."""
    settings = get_settings()
    now = datetime.now(UTC)
    day = office_day(on, settings, now)
    decided = decide(day, now)
    digests = claim_digests(day, now)
    sent = send_digests(digests, now)
    today_digest = next((d for d in digests if d["day"] == day.isoformat()), None)
    if today_digest is not None:
        markdown = today_digest["markdown"]
    else:
        with session_scope() as session:
            markdown = nothing_due_markdown(session, day, settings=settings)
    create_markdown_artifact(
        markdown=markdown,
        key="anniversary-digest",
        description=f"anniversary digest for {day.isoformat()}",
    )
    return {
        "day": day.isoformat(),
        **decided,
        "digests": [{"day": d["day"], "due": d["due"], "missed": d["missed"]} for d in digests],
        "emails": sent,
    }


def nothing_due_markdown(session: Session, day: date, *, settings: Settings) -> str:
    language = settings.office.language
    undated, total = undated_ties(session)
    digest = dom.DigestInput(
        today=day,
        home_city=home_name(settings, language),
        due=[],
        ties={},
        undated=undated,
        undated_total=total,
        feb29=settings.reminders.feb29_policy,
    )
    return dom.render_digest(digest, language).markdown


# ---------------------------------------------------------------------------- read-only


def list_anniversaries(year: int, *, settings: Settings | None = None) -> list[dict[str, Any]]:
    """The milestones falling in ``year`` (no flow, nothing sent)."""
    settings = settings or get_settings()
    rules = settings.reminders
    language = settings.office.language
    with session_scope() as session:
        partner = aliased(City)
        rows = session.execute(
            select(
                Tie.id,
                Tie.established_on,
                Tie.precision,
                partner.name,
                partner.native_name,
                partner.country_code,
            )
            .join(partner, Tie.partner_city_id == partner.id)
            .where(Tie.status == "active", Tie.established_on.is_not(None))
        ).all()
    ties = {r[0]: dom.TieRecord(r[0], r[3], r[1], r[2], r[4], r[5]) for r in rows}
    found = dom.anniversaries_between(
        ties.values(),
        start=date(year, 1, 1),
        end=date(year, 12, 31),
        milestones=rules.milestones,
        feb29=rules.feb29_policy,
    )
    return [
        {
            "tie_id": a.tie_id,
            "partner": ties[a.tie_id].partner,
            "native_name": ties[a.tie_id].partner_native,
            "country_code": ties[a.tie_id].country,
            "milestone": a.milestone,
            "ordinal": dom.ordinal(a.milestone, language),
            "date": a.on.isoformat(),
            "precision": ties[a.tie_id].precision,
            "when": dom.date_text(a.on, ties[a.tie_id].precision, language),
            "established_on": ties[a.tie_id].established_on.isoformat()  # type: ignore[union-attr]
            if ties[a.tie_id].established_on
            else None,
            "note": dom.feb29_note(ties[a.tie_id], language, rules.feb29_policy),
        }
        for a in found
    ]


def anniversaries_feed(*, now: datetime, settings: Settings | None = None) -> tuple[bytes, int]:
    """The subscription calendar of every dated tie's yearly anniversary, and its size."""
    settings = settings or get_settings()
    language = settings.office.language
    with session_scope() as session:
        partner = aliased(City)
        rows = session.execute(
            select(Tie.id, Tie.established_on, Tie.precision, partner.name)
            .join(partner, Tie.partner_city_id == partner.id)
            .where(Tie.status == "active", Tie.established_on.is_not(None))
            .order_by(Tie.id)
        ).all()
    ties = [
        (dom.TieRecord(i, name, est, prec), anniversary_uid(i, settings))
        for i, est, prec, name in rows
    ]
    data = dom.anniversaries_calendar(
        ties,
        stamp=now,
        home_city=home_name(settings, language),
        language=language,
        feb29=settings.reminders.feb29_policy,
    )
    return data, len(ties)
