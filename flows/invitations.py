"""Invitations: a letter (HTML + PDF) and an iMIP e-mail for every invited contact.

The flow renders everything first (preflight: a template error, a missing field or a bad
address stops the run before a single message goes out), then sends in chunks through the
delivery ledger, so a re-run, a crash or two runs at once never send a message twice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session as SqlSession

from config.settings import Settings, get_settings
from db.calendars import cal_event, event_info, primary_language, record_snapshot
from db.events import (
    find_event,
    invitation_blockers,
    invited_contacts,
    lock_event,
    record_transition,
)
from db.invitees import Invitee, city_names, plan_invitees
from db.mailbox import count_bounced, failing_addresses
from db.models import City, Event, Invitation
from db.session import session_scope
from flows.domain.clock import zone
from flows.domain.ical import Person, invitation_ics
from flows.domain.invitation_summary import (
    InvitationSummary,
    PreflightError,
    language_report,
    mixed_letter_lines,
)
from flows.domain.letters import (
    EventInfo,
    Host,
    LetterInput,
    Precision,
    Recipient,
    Signatory,
    render_letter,
)
from flows.domain.letters import (
    Person as LetterPerson,
)
from flows.domain.mail import MailError, build_imip_message, make_message_id
from flows.domain.pdf import htmls_to_pdfs
from flows.domain.slug import slugify
from flows.engine.console import (
    mailing_rows,
    preview,
    publish_mailing,
    refuse_unknown_event,
    run_logger,
    sample_per_language,
    update_event_page,
)
from flows.engine.crashed import watch_this_run
from flows.engine.forms import Clock
from flows.engine.runners import (
    chunks_in_flight,
    results_in_order,
    sends_in_flight,
    task_runner_for,
)
from flows.engine.runtime import long_lived_objects_frozen
from flows.outbound.artifacts import output_link
from flows.outbound.ledger import chunks, send_manifest, tally, utc_now
from flows.outbound.outputs import Folders, contact_file_stem, invitation_dir
from flows.review import (
    copies_dir_for_this_run,
    discard_unreviewed_copies,
    keep_copy,
    ledger_key,
    review_before_sending,
)

_T = TypeVar("_T")


def host_from_settings(settings: Settings, home_names: Mapping[str, str]) -> Host:
    """The inviting office in every language the settings and the registry give."""
    office = settings.office
    home = settings.home_city
    city = {"en": home.name, primary_language(home.language): home.native_name, **home_names}
    return Host(
        names=dict(office.names),
        addresses=dict(office.addresses),
        city=city,
        language=primary_language(home.language),
        signatories=tuple(
            Signatory(names=dict(s.names), titles=dict(s.titles), ranks=tuple(s.ranks))
            for s in office.signatories
        ),
        contact=LetterPerson(names=dict(office.contact.names), titles=dict(office.contact.titles)),
        telephone=office.contact.telephone,
        # the reply address is the one the invitation comes from (and the calendar's organizer)
        email=office.email,
        reference_patterns=dict(office.reference_patterns),
    )


def home_city_names(session: SqlSession) -> dict[str, str]:
    home = session.scalar(select(City).where(City.is_home.is_(True), City.parent_id.is_(None)))
    return city_names(home) if home is not None else {}


@task(cache_policy=NO_CACHE)
def plan_invitations(
    event_ref: str, only: list[str] | None, dry_run: bool, now: dt.datetime
) -> dict[str, Any]:
    """Who gets what: the invited contacts (opted-out ones set aside) with their invitation UIDs."""
    with session_scope() as session:
        if not dry_run:
            lock_event(session, event_ref)
        event = find_event(session, event_ref)
        if event.status == "cancelled":
            raise PreflightError(f"{event.slug} is cancelled; nothing to invite to")
        if blockers := invitation_blockers(session, event):
            raise PreflightError("\n".join(blockers))
        contacts = invited_contacts(session, event)
        if only:
            unknown = sorted(set(only) - {c.city.name for c in contacts})
            if unknown:
                raise PreflightError(f"--only: not among the invited cities: {', '.join(unknown)}")
            contacts = [c for c in contacts if c.city.name in only]
        year = now.astimezone(zone(event.timezone)).year  # the letters' year
        rows = plan_invitees(session, event, contacts, year=year, now=now, dry_run=dry_run)
        if not dry_run and event.status == "draft":
            record_transition(session, event, "inviting", now, "invitations sent")
        if not dry_run:
            # what the contacts' calendars will hold, to say later what changed
            record_snapshot(session, event, now, replace_existing=False)
        return {"event_id": event.id, "slug": event.slug, "recipients": rows}


def _letter_input(
    event: Event, info: EventInfo, row: Invitee, host: Host, now: dt.datetime
) -> LetterInput:
    rsvp = event.spec.get("rsvp_by") if event.spec else None
    return LetterInput(
        recipient=Recipient(
            name=row.name_native,
            name_latin=row.name_latin,
            family_name=row.family_name,
            family_name_latin=row.family_name_latin,
            title=row.title,
            honorific=row.honorific,
            office=row.office,
            rank=row.rank,
            gender=row.gender,
            city=dict(row.city_names),
            timezone=row.timezone,
            language=row.language,
            salutations=dict(row.salutations),
        ),
        host=host,
        event=info,
        letter_date=now.astimezone(zone(event.timezone)).date(),
        reference_year=row.reference_year,
        reference_number=row.reference_number,
        is_bilingual=event.is_bilingual,
        established_on=row.tie.established_on,
        precision=cast(Precision, row.tie.precision),
        rsvp_by=dt.date.fromisoformat(rsvp) if rsvp else None,
    )


def render_one(
    event: Event,
    info: EventInfo,
    row: Invitee,
    host: Host,
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
    who = f"{row.email} ({row.city})"
    try:
        # the programme is printed in the letter itself: nothing is enclosed
        letter = render_letter(_letter_input(event, info, row, host, now), env=env)
    except Exception as exc:  # a template error or missing field: name the contact
        raise PreflightError(f"letter for {who}: {type(exc).__name__}: {exc}") from exc
    organizer = Person(settings.office.email, settings.office.name)
    attendee = Person(row.email, row.name_latin or row.name_native)
    ics = invitation_ics(
        cal_event(event, uid=row.uid, sequence=row.sequence, lang=letter.language, info=info),
        organizer=organizer,
        attendee=attendee,
        stamp=now,
    )
    base = contact_file_stem(row.city, row.name_latin, row.email, row.contact_id)
    return {
        "row": row,
        "letter": letter,
        "ics": ics,
        "base": base,
        "message_id": make_message_id(
            row.uid,
            row.sequence,
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
            from_name=settings.office.names.get(letter.language, settings.office.name),
            to_addr=row.email,
            to_name=row.name_latin or row.name_native,
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
        raise PreflightError(f"e-mail to {row.email} ({row.city}): {exc}") from exc


@task(cache_policy=NO_CACHE)
def render_chunk(
    event_id: int,
    rows: list[Invitee],
    now: dt.datetime,
    purpose: str = "invitation",
    occurrence: str = "invite",
    dry_run: bool = False,
    keep: str | None = None,
) -> list[dict[str, Any]]:
    """Render letters (HTML, PDF), .ics and e-mails for a chunk; write them to the output folder.

    The e-mail is written as an .eml file on a dry run; when sending, into ``keep`` (the
    review's copies, which are what is sent), or else it travels in the manifest. The
    Maildir (or the SMTP server) holds what was sent.
    """
    settings = get_settings()
    with session_scope() as session:
        event = session.get(Event, event_id)
        assert event is not None
        host = host_from_settings(settings, home_city_names(session))
        info = event_info(event)  # once per chunk: the same for every letter
        items = [
            render_one(
                event, info, row, host, settings, now, purpose=purpose, occurrence=occurrence
            )
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
    folders = Folders()
    manifest = []
    for item, pdf in zip(items, pdfs, strict=True):
        message = _build_message(item, pdf, settings, now)
        base = out / item["base"]
        folders.make(base.parent)
        letter = item["letter"]
        base.with_suffix(".html").write_text(letter.html, encoding="utf-8")
        if pdf is not None:
            base.with_suffix(".pdf").write_bytes(pdf)
        base.with_suffix(".ics").write_bytes(item["ics"])
        kept: dict[str, str] = {}
        if dry_run:
            base.with_suffix(".eml").write_bytes(message)
        elif keep is not None:
            kept = keep_copy(Path(keep), Path(item["base"]).with_suffix(".eml"), message, folders)
        manifest.append(
            {
                "contact_id": item["row"].contact_id,
                "email": item["row"].email,
                "city": item["row"].city,
                "uid": item["row"].uid,
                "sequence": item["row"].sequence,
                "message_id": item["message_id"],
                "eml": str(base.with_suffix(".eml")) if dry_run else None,
                "message": None if dry_run or kept else message,
                "letter": str(base.with_suffix(".pdf" if pdf is not None else ".html")),
                "language": letter.language,
                "is_fallback": letter.is_fallback,
                "requested_language": letter.requested_language,
                "reference": letter.reference,
                "mixed": [
                    {"language": f.language, "field": f.field, "used": f.used}
                    for f in letter.fallbacks
                ],
                "address_problems": list(letter.problems),
                **kept,
            }
        )
    return manifest


@task(retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def send_chunk(
    event_id: int, manifest: list[dict[str, Any]], purpose: str, occurrence: str
) -> dict[str, Any]:
    """Send a chunk through the delivery ledger; permanent failures do not stop the rest."""
    return send_manifest(
        event_id,
        manifest,
        ledger_key=lambda m: (purpose, f"{m['uid']}:{m['sequence']}:{occurrence}"),
        on_confirmed=lambda session, sent: _record_sent(session, event_id, sent),
    )


def send_batches(
    event_id: int, batches: list[list[dict[str, Any]]], purpose: str, occurrence: str
) -> Iterator[dict[str, Any]]:
    """Each batch's result in order, sent by a `send_chunk` task of its own (one at a time
    into a Maildir)."""
    return results_in_order(
        lambda batch: send_chunk.submit(event_id, _as_is(batch), purpose, occurrence),
        batches,
        in_flight=sends_in_flight(get_settings()),
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


def _as_is(value: _T) -> _T:
    """A task argument Prefect does not walk through looking for futures (it holds none).

    It would walk each chunk's rows and each manifest several times: seconds on a large run.
    Only on the thread pool: another runner may take the quote apart on its way (Dask
    unpacks it as a tuple), and the task would get the wrapper instead of the value.
    """
    from prefect.context import FlowRunContext
    from prefect.task_runners import ThreadPoolTaskRunner

    context = FlowRunContext.get()
    if context is None or not isinstance(context.task_runner, ThreadPoolTaskRunner):
        return value
    return cast(_T, quote(value))


#: AMITY_TASK_WORKERS chunks at a time (Prefect's default thread pool has no limit)
_CHUNK_RUNNER: Any = task_runner_for("thread", get_settings().task_workers)


def _discard_unreviewed(flow: Any, flow_run: Any, state: Any) -> None:
    """A run that failed before its review leaves none of the copies it rendered."""
    discard_unreviewed_copies(str(flow_run.id), get_settings())


@flow(
    name="send invitations",
    flow_run_name="invitations: {event}",
    # chunks, never a task per letter; PDFs of a chunk use a process per core already
    task_runner=_CHUNK_RUNNER,
    on_failure=[_discard_unreviewed],
    on_crashed=[_discard_unreviewed],
)
def send_invitations(
    event: str,
    only: list[str] | SkipJsonSchema[None] = None,
    dry_run: bool = False,
    remind_pending: bool = False,
    strict_language: bool = False,
    now: Clock = None,
) -> dict[str, Any]:
    """Write and send each invited contact a letter in their language and a calendar invitation.

    Args:
        event: The event's short name (slug), e.g. beijing-tokyo-urban-symposium-12. Every event
            is listed under Variables, `amity_events`; `amity events list` lists them too.
        only: Invite only the contacts in these partner cities (English names, e.g. Tokyo).
            Leave empty to invite every contact the event invites.
        dry_run: Write the letters and e-mails to the output folder but send nothing (to
            check them first).
        remind_pending: Send the invitation again, only to those who have not answered yet.
        strict_language: Send nothing if any letter would print a name or title in another
            language than its own, or cannot address its reader correctly.
    """
    watch_this_run()  # a run killed earlier on this machine shows as Crashed, not Running
    if (refused := refuse_unknown_event(event)) is not None:
        return refused  # a Failed state: one line in the UI
    with long_lived_objects_frozen():
        return _invite(
            event,
            only,
            dry_run,
            remind_pending,
            strict_language,
            now or dt.datetime.now(dt.UTC),
        )


def _invite(
    event: str,
    only: list[str] | None,
    dry_run: bool,
    remind_pending: bool,
    strict_language: bool,
    now: dt.datetime,
) -> dict[str, Any]:
    """`send_invitations` once the event is known: plan, render, review, send, publish."""
    started = utc_now()  # the ledger's clock, to tell another run's sends from earlier ones
    settings = get_settings()
    log = run_logger()
    plan = plan_invitations(event, only, dry_run, now)
    summary = InvitationSummary(event=plan["slug"], dry_run=dry_run)
    summary.skipped_opted_out = [r.email for r in plan["recipients"] if r.is_opted_out]
    recipients = [r for r in plan["recipients"] if not r.is_opted_out]
    if remind_pending:
        recipients = [r for r in recipients if r.rsvp_state == "needs-action"]
        recipients = _without_bounced(recipients, summary)
    summary.invited = len(recipients)
    summary.out_dir = str(invitation_dir(settings, plan["slug"]))
    log.info(
        "Planned %s %s for %s; skipped %d who opted out%s%s",
        f"{len(recipients):,}",
        "reminders (to who has not answered)" if remind_pending else "letters",
        plan["slug"],
        len(summary.skipped_opted_out),
        ": " + preview(summary.skipped_opted_out) if summary.skipped_opted_out else "",
        " — dry run: nothing will be sent" if dry_run else "",
    )
    batches = chunks(recipients, settings.batch_size)
    # preflight: every chunk renders before anything is sent; one failure fails the run
    purpose = "reminder" if remind_pending else "invitation"
    occurrence = now.date().isoformat() if remind_pending else "invite"
    keep = copies_dir_for_this_run(settings, plan["slug"], dry_run=dry_run)
    manifests = list(
        results_in_order(
            lambda chunk: render_chunk.submit(
                plan["event_id"],
                _as_is(chunk),
                now,
                purpose,
                occurrence,
                dry_run,
                str(keep) if keep is not None else None,
            ),
            batches,
            in_flight=chunks_in_flight(waits_elsewhere=settings.attach_pdf),
        )
    )
    done = 0
    for manifest in manifests:
        done += len(manifest)
        languages = Counter(m["language"] for m in manifest)
        log.info(
            "Wrote %s of %s letters (%s) to %s",
            f"{done:,}",
            f"{len(recipients):,}",
            ", ".join(f"{lang} {n}" for lang, n in sorted(languages.items())),
            summary.out_dir,
        )
        summary.letters += len(manifest)
        for m in manifest:
            if m["is_fallback"]:
                log.info(
                    "Letter to %s (%s) in %s: no letter in %s",
                    m["email"],
                    m["city"],
                    m["language"],
                    m["requested_language"],
                )
                summary.fallbacks.append(
                    {
                        "email": m["email"],
                        "city": m["city"],
                        "wanted": m["requested_language"],
                        "got": m["language"],
                    }
                )
            who = {"email": m["email"], "city": m["city"], "letter": m["letter"]}
            if m["mixed"]:
                summary.mixed.append({**who, "values": m["mixed"]})
            if m["address_problems"]:
                summary.address_problems.append({**who, "problems": m["address_problems"]})
    if (strict_language or settings.strict_language) and not dry_run:
        refuse_mixed_letters(summary)
    sent_to: set[str] = set()
    if not dry_run:
        # every planned message, for the tally: the review leaves out what was sent before
        keys = [ledger_key(m, purpose, occurrence) for chunk in manifests for m in chunk]
        # sign-off: nothing goes out before a person approved exactly these messages
        manifests, summary.review = review_before_sending(
            event_id=plan["event_id"],
            slug=plan["slug"],
            purpose=purpose,
            occurrence=occurrence,
            manifests=manifests,
            ranks={r.contact_id: r.rank for r in recipients},
            planned=recipients,
        )
        sends = send_batches(plan["event_id"], manifests, purpose, occurrence)
        ours: list[tuple[str, str, str]] = []
        for number, r in enumerate(sends, start=1):
            summary.sent += r["sent"]
            summary.failed += r["failed"]
            ours += [tuple(k) for k in r["ours"]]
            sent_to.update(e.lower() for e in r["sent_to"])
            log.info(
                "Chunk %d of %d: sent %d (%s), %d sent before, %d failed",
                number,
                len(manifests),
                r["sent"],
                preview(r["sent_to"]) or "nobody",
                r["already_sent"],
                len(r["failed"]),
            )
            for f in r["failed"]:
                log.info("Not sent to %s (%s): %s", f["email"], f["city"], f["reason"])
        with session_scope() as session:
            counted = tally(session, keys, since=started, ours=ours)
        summary.already_sent = counted.sent_before
        summary.sent_by_other = counted.sent_by_other
        summary.in_progress_elsewhere = counted.in_progress_elsewhere
    with session_scope() as session:
        summary.bounced = count_bounced(session, plan["event_id"])
    _artifact(summary)
    _publish(summary, plan, manifests, sent_to, purpose)
    return summary.to_dict()


def _without_bounced(recipients: list[Invitee], summary: InvitationSummary) -> list[Invitee]:
    """A reminder does not go to an address that bounced (until the contact's is changed)."""
    with session_scope() as session:
        failing = failing_addresses(session)
    summary.skipped_bounced = [r.email for r in recipients if r.email.lower() in failing]
    return [r for r in recipients if r.email.lower() not in failing]


def _publish(
    summary: InvitationSummary,
    plan: dict[str, Any],
    manifests: list[list[dict[str, Any]]],
    sent_to: set[str],
    purpose: str,
) -> None:
    """The run's per-recipient artifact, its last log line and the event's page."""
    failed = {f["email"].lower(): f["reason"] for f in summary.failed}
    rows = mailing_rows(
        plan["recipients"], manifests, sent_to=sent_to, failed=failed, dry_run=summary.dry_run
    )
    if summary.dry_run:
        next_step = "read the sample letters below, then run again without dry run to send"
    elif summary.failed:
        next_step = "fix the failed addresses and run again: who was sent is not sent again"
    else:
        next_step = "publish the calendar (publish-schedule, or event-lifecycle)"
    notes = [
        f"letters in English, none in the contact's language: {len(summary.fallbacks)}",
        f"letters printing a name or title in another language: {len(summary.mixed)}",
        f"forms of address the data cannot make: {len(summary.address_problems)}",
    ]
    what = "Invitations" if purpose == "invitation" else "Invitation reminders"
    publish_mailing(
        what,
        plan["slug"],
        rows,
        dry_run=summary.dry_run,
        notes=[n for n in notes if not n.endswith(": 0")],
        samples=sample_per_language(plan["recipients"], manifests),
        next_step=next_step,
    )
    run_logger().info(
        "%s: %d sent, %d sent before, %d failed, %d opted out. Next step: %s",
        what,
        summary.sent,
        summary.already_sent,
        len(summary.failed),
        len(summary.skipped_opted_out),
        next_step,
    )
    if not summary.dry_run:
        update_event_page(plan["slug"], f"{what.lower()}: {summary.sent} sent now")


def refuse_mixed_letters(summary: InvitationSummary) -> None:
    """Strict language: stop before sending when any letter mixes languages or misaddresses."""
    lines = mixed_letter_lines(summary)
    if lines:
        raise PreflightError(
            f"strict language: {len(summary.mixed)} letter(s) would mix languages and "
            f"{len(summary.address_problems)} cannot be addressed correctly; nothing was sent:\n  "
            + "\n  ".join(lines)
        )


def _artifact(summary: InvitationSummary) -> None:
    """The letters to check (the counts and recipients are in `_publish`'s artifact).

    The whole list goes to ``letters-to-check.md`` in the event's output folder; the artifact
    lists the first ones of each kind.
    """
    report = Path(summary.out_dir).parent / "letters-to-check.md"
    if summary.mixed or summary.address_problems or summary.fallbacks:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(language_report(summary), encoding="utf-8")
        summary.letters_to_check = str(report)
        where = output_link(report, get_settings()) or f"`{report}`"
        create_markdown_artifact(
            markdown=language_report(summary, full_list=where),
            key=f"letters-{slugify(summary.event)}"[:60].lower().replace("_", "-"),
            description=f"Letters of {summary.event} to check before sending",
        )
    else:  # an earlier run's list no longer holds
        report.unlink(missing_ok=True)
