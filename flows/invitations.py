"""Invitations: a letter (HTML + PDF) and an iMIP e-mail for every invited contact.

The flow renders everything first (preflight: a template error, a missing field or a bad
address stops the run before a single message goes out), then sends in chunks through the
delivery ledger, so a re-run, a crash or two runs at once never send a message twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session as SqlSession

from config.settings import Settings, get_settings
from db.calendars import cal_event, event_info, record_snapshot
from db.events import find_event, invitation_uid, invited_contacts, lock_event, record_transition
from db.models import City, Contact, Event, Invitation, Tie
from db.session import session_scope
from flows.domain.clock import zone
from flows.domain.ical import Person, invitation_ics
from flows.domain.letters import (
    Host,
    LetterInput,
    Recipient,
    render_letter,
)
from flows.domain.mail import MailError, build_imip_message, make_message_id
from flows.domain.pdf import htmls_to_pdfs
from flows.domain.slug import slugify
from flows.engine.runners import task_runner_for
from flows.outbound.ledger import chunks, send_manifest
from flows.outbound.outputs import contact_file_stem, invitation_dir


class PreflightError(Exception):
    """Something would be wrong in a letter or message: nothing has been sent."""


@dataclass
class InvitationSummary:
    event: str
    dry_run: bool
    invited: int = 0
    sent: int = 0
    already_sent: int = 0
    skipped_opted_out: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    fallbacks: list[dict[str, str]] = field(default_factory=list)
    out_dir: str = ""
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def host_from_settings(settings: Settings) -> Host:
    office = settings.office
    return Host(
        office=office.native_name,
        office_en=office.name,
        address=office.native_address,
        address_en=office.address,
        city=settings.home_city.name,
        city_native=settings.home_city.native_name,
        language=settings.home_city.language,
        signatory_name=office.signatory_native_name,
        signatory_title=office.signatory_native_title,
        signatory_name_latin=office.signatory_name,
        signatory_title_en=office.signatory_title,
    )


def _recipient_rows(event: Event, contacts: list[Contact], session: Any) -> list[dict[str, Any]]:
    """Plain data for rendering: contact, city, tie date (passed between tasks, never ORM)."""
    ties = {
        row.partner_city_id: (row.established_on, row.precision)
        for row in session.execute(select(Tie.partner_city_id, Tie.established_on, Tie.precision))
    }
    cities = {c.id: c for c in session.scalars(select(City))}
    rows = []
    for contact in contacts:
        city = cities[contact.city_id]
        established, precision = ties.get(city.id, (None, "unknown"))
        rows.append(
            {
                "contact_id": contact.id,
                "email": contact.email,
                "name_native": contact.name_native,
                "name_latin": contact.name_latin,
                "title": contact.title,
                "honorific": contact.honorific,
                "office": contact.office,
                "language": contact.language,
                "is_opted_out": contact.is_opted_out,
                "city": city.name,
                "city_native": city.native_name,
                "timezone": city.timezone,
                "established_on": established,
                "precision": precision,
            }
        )
    return rows


@task(cache_policy=NO_CACHE)
def plan_invitations(
    event_ref: str, only: list[str] | None, dry_run: bool, now: dt.datetime
) -> dict[str, Any]:
    """Who gets what: the invited contacts (opted-out ones set aside) with their invitation UIDs."""
    settings = get_settings()
    domain = settings.office.mail_domain
    with session_scope() as session:
        if not dry_run:
            lock_event(session, event_ref)
        event = find_event(session, event_ref)
        if event.status == "cancelled":
            raise PreflightError(f"{event.slug} is cancelled; nothing to invite to")
        contacts = invited_contacts(session, event)
        if only:
            unknown = sorted(set(only) - {c.city.name for c in contacts})
            if unknown:
                raise PreflightError(f"--only: not among the invited cities: {', '.join(unknown)}")
            contacts = [c for c in contacts if c.city.name in only]
        rows = _recipient_rows(event, contacts, session)
        existing = {
            inv.contact_id: inv
            for inv in session.scalars(select(Invitation).where(Invitation.event_id == event.id))
        }
        for row in rows:
            inv = existing.get(row["contact_id"])
            row["uid"] = inv.uid if inv else invitation_uid(event.slug, row["contact_id"], domain)
            row["sequence"] = inv.sequence if inv else event.sequence
            row["rsvp_state"] = inv.rsvp_state if inv else "needs-action"
            if not dry_run and inv is None and not row["is_opted_out"]:
                session.add(
                    Invitation(
                        event_id=event.id,
                        contact_id=row["contact_id"],
                        uid=row["uid"],
                        sequence=row["sequence"],
                        created_dt=now,
                    )
                )
        if not dry_run and event.status == "draft":
            record_transition(session, event, "inviting", now, "invitations sent")
        if not dry_run:
            # what the contacts' calendars will hold, to say later what changed
            record_snapshot(session, event, now, replace_existing=False)
        return {"event_id": event.id, "slug": event.slug, "recipients": rows}


def _letter_input(event: Event, row: dict[str, Any], host: Host, now: dt.datetime) -> LetterInput:
    rsvp = event.spec.get("rsvp_by") if event.spec else None
    return LetterInput(
        recipient=Recipient(
            name=row["name_native"],
            name_latin=row["name_latin"],
            title=row["title"],
            honorific=row["honorific"],
            office=row["office"],
            city=row["city"],
            city_native=row["city_native"],
            timezone=row["timezone"],
            language=row["language"],
        ),
        host=host,
        event=event_info(event),
        letter_date=now.astimezone(zone(event.timezone)).date(),
        reference=f"{event.slug}/{row['contact_id']}",
        is_bilingual=event.is_bilingual,
        established_on=row["established_on"],
        precision=row["precision"],
        rsvp_by=dt.date.fromisoformat(rsvp) if rsvp else None,
    )


def render_one(
    event: Event,
    row: dict[str, Any],
    settings: Settings,
    now: dt.datetime,
    *,
    purpose: str = "invitation",
    occurrence: str = "invite",
) -> dict[str, Any]:
    """The letter, .ics and e-mail of one recipient, all in memory (the PDF comes later).

    A reminder re-sends the same calendar object (UID, SEQUENCE) in a new message: its
    Message-ID names the day, so it is neither the invitation nor yesterday's reminder.
    """
    from flows.domain.letters import make_environment

    env = make_environment(settings.letter_template_dir)
    who = f"{row['email']} ({row['city']})"
    try:
        letter = render_letter(
            _letter_input(event, row, host_from_settings(settings), now), env=env
        )
    except Exception as exc:  # a template error or missing field: name the contact
        raise PreflightError(f"letter for {who}: {type(exc).__name__}: {exc}") from exc
    organizer = Person(settings.office.email, settings.office.name)
    attendee = Person(row["email"], row["name_latin"] or row["name_native"])
    ics = invitation_ics(
        cal_event(event, uid=row["uid"], sequence=row["sequence"], lang=letter.language),
        organizer=organizer,
        attendee=attendee,
        stamp=now,
    )
    base = contact_file_stem(row["city"], row["name_latin"], row["email"], row["contact_id"])
    return {
        "row": row,
        "letter": letter,
        "ics": ics,
        "base": base,
        "message_id": make_message_id(
            row["uid"],
            row["sequence"],
            purpose,
            *(() if purpose == "invitation" else (occurrence,)),
            domain=settings.office.mail_domain,
        ),
    }


def _build_message(
    item: dict[str, Any], pdf: bytes | None, settings: Settings, now: dt.datetime
) -> bytes:
    row, letter = item["row"], item["letter"]
    try:
        return build_imip_message(
            from_addr=settings.office.email,
            from_name=settings.office.name,
            to_addr=row["email"],
            to_name=row["name_latin"] or row["name_native"],
            subject=letter.subject,
            text=letter.text,
            html=letter.html_fragment,
            ics=item["ics"],
            method="REQUEST",
            attachments=[(f"{Path(item['base']).name}.pdf", "application/pdf", pdf)] if pdf else [],
            message_id=item["message_id"],
            date=now,
        )
    except MailError as exc:
        raise PreflightError(f"e-mail to {row['email']} ({row['city']}): {exc}") from exc


@task(cache_policy=NO_CACHE)
def render_chunk(
    event_id: int,
    rows: list[dict[str, Any]],
    now: dt.datetime,
    purpose: str = "invitation",
    occurrence: str = "invite",
) -> list[dict[str, Any]]:
    """Render letters (HTML, PDF), .ics and .eml for a chunk and write them to the output folder."""
    settings = get_settings()
    with session_scope() as session:
        event = session.get(Event, event_id)
        assert event is not None
        items = [
            render_one(event, row, settings, now, purpose=purpose, occurrence=occurrence)
            for row in rows
        ]
        slug = event.slug
    if settings.attach_pdf:
        pdfs: list[bytes | None] = list(
            htmls_to_pdfs([i["letter"].html for i in items], workers=settings.pdf_workers)
        )
    else:
        pdfs = [None] * len(items)
    out = invitation_dir(settings, slug)
    manifest = []
    for item, pdf in zip(items, pdfs, strict=True):
        message = _build_message(item, pdf, settings, now)
        base = out / item["base"]
        base.parent.mkdir(parents=True, exist_ok=True)
        letter = item["letter"]
        base.with_suffix(".html").write_text(letter.html, encoding="utf-8")
        if pdf is not None:
            base.with_suffix(".pdf").write_bytes(pdf)
        base.with_suffix(".ics").write_bytes(item["ics"])
        base.with_suffix(".eml").write_bytes(message)
        manifest.append(
            {
                "contact_id": item["row"]["contact_id"],
                "email": item["row"]["email"],
                "city": item["row"]["city"],
                "uid": item["row"]["uid"],
                "sequence": item["row"]["sequence"],
                "message_id": item["message_id"],
                "eml": str(base.with_suffix(".eml")),
                "language": letter.language,
                "is_fallback": letter.is_fallback,
                "requested_language": letter.requested_language,
            }
        )
    return manifest


@task(retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def send_chunk(
    event_id: int, manifest: list[dict[str, Any]], purpose: str, occurrence: str, now: dt.datetime
) -> dict[str, Any]:
    """Send a chunk through the delivery ledger; permanent failures do not stop the rest."""
    return send_manifest(
        event_id,
        manifest,
        ledger_key=lambda m: (purpose, f"{m['uid']}:{m['sequence']}:{occurrence}"),
        now=now,
        on_confirmed=lambda session, sent: _record_sent(session, event_id, sent),
    )


def _record_sent(session: SqlSession, event_id: int, sent: list[dict[str, Any]]) -> None:
    """Remember what each contact was sent: SEQUENCE and letter language."""
    table = Invitation.__table__
    session.execute(
        update(table)  # type: ignore[arg-type]
        .where(table.c.event_id == event_id, table.c.contact_id == bindparam("b_contact"))
        .values(
            sequence=bindparam("b_seq"),
            letter_language=bindparam("b_lang"),
            is_fallback=bindparam("b_fallback"),
        ),
        [
            {
                "b_contact": m["contact_id"],
                "b_seq": m["sequence"],
                "b_lang": m["language"],
                "b_fallback": m["is_fallback"],
            }
            for m in sent
        ],
    )


#: AMITY_TASK_WORKERS chunks at a time (Prefect's default thread pool has no limit)
_CHUNK_RUNNER: Any = task_runner_for("thread", get_settings().task_workers)


@flow(
    name="send invitations",
    flow_run_name="invitations: {event}",
    # chunks, never a task per letter; PDFs of a chunk use a process per core already
    task_runner=_CHUNK_RUNNER,
)
def send_invitations(
    event: str,
    only: list[str] | None = None,
    dry_run: bool = False,
    remind_pending: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Write and send each invited contact a letter in their language and a calendar invitation."""
    now = now or dt.datetime.now(dt.UTC)
    settings = get_settings()
    plan = plan_invitations(event, only, dry_run, now)
    summary = InvitationSummary(event=plan["slug"], dry_run=dry_run)
    summary.skipped_opted_out = [r["email"] for r in plan["recipients"] if r["is_opted_out"]]
    recipients = [r for r in plan["recipients"] if not r["is_opted_out"]]
    if remind_pending:
        recipients = [r for r in recipients if r["rsvp_state"] == "needs-action"]
    summary.invited = len(recipients)
    summary.out_dir = str(invitation_dir(settings, plan["slug"]))
    batches = chunks(recipients, settings.batch_size)
    # preflight: every chunk renders before anything is sent; one failure fails the run
    purpose = "reminder" if remind_pending else "invitation"
    occurrence = now.date().isoformat() if remind_pending else "invite"
    futures = [
        render_chunk.submit(plan["event_id"], chunk, now, purpose, occurrence) for chunk in batches
    ]
    manifests = [f.result() for f in futures]
    for manifest in manifests:
        for m in manifest:
            summary.files.append(m["eml"])
            if m["is_fallback"]:
                summary.fallbacks.append(
                    {
                        "email": m["email"],
                        "city": m["city"],
                        "wanted": m["requested_language"],
                        "got": m["language"],
                    }
                )
    if not dry_run:
        sends = [
            send_chunk.submit(plan["event_id"], m, purpose, occurrence, now) for m in manifests
        ]
        for future in sends:
            r = future.result()
            summary.sent += r["sent"]
            summary.already_sent += r["already_sent"]
            summary.failed += r["failed"]
    _artifact(summary)
    return summary.to_dict()


def _artifact(summary: InvitationSummary) -> None:
    rows = [
        {"what": "invited", "count": summary.invited},
        {"what": "sent now", "count": summary.sent},
        {"what": "sent before (skipped)", "count": summary.already_sent},
        {"what": "opted out (skipped)", "count": len(summary.skipped_opted_out)},
        {"what": "failed", "count": len(summary.failed)},
        {
            "what": "letter in English instead of the contact's language",
            "count": len(summary.fallbacks),
        },
    ]
    create_table_artifact(
        table=rows,
        key=f"invitations-{slugify(summary.event)}"[:60].lower().replace("_", "-"),
        description=f"Invitations for {summary.event}" + (" (dry run)" if summary.dry_run else ""),
    )
