"""Updates and cancellations: what invitees receive after ``amity events apply|cancel``.

Every contact whose invitation went out gets ONE message per change — METHOD:REQUEST with
the full current event and a short summary of what changed in their language, or
METHOD:CANCEL — through the delivery ledger, so a repeated or resumed run sends nothing twice.
A contact is compared with the version they hold (Invitation.sequence), read from the
calendar snapshot of that SEQUENCE (see :mod:`flows.schedule`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from db.approvals import sent_keys
from db.calendars import (
    baseline_snapshot,
    caldav_urls,
    contact_calendar,
    event_from_snapshot,
    local_names,
    record_snapshot,
    sessions_by_key,
    snapshot_data,
    snapshots_of,
)
from db.changes import move_sequences, notice_recipients
from db.events import find_event
from db.models import Event
from db.session import session_scope
from flows.domain.ical import CalEvent
from flows.domain.mail import MailError
from flows.domain.notices import (
    Notice,
    NoticeRecipient,
    Office,
    contact_changes,
    mail_language,
    render_change,
)
from flows.domain.slug import slugify
from flows.engine.console import (
    contact_label,
    preview,
    publish_mailing,
    refuse_unknown_event,
    run_logger,
    update_event_page,
)
from flows.engine.forms import Clock
from flows.engine.runners import results_in_order, sends_in_flight
from flows.outbound.artifacts import RecipientRow
from flows.outbound.calendar_files import (
    invitation_files,
    sent_invitation,
    write_change,
    write_feeds,
)
from flows.outbound.ledger import Outgoing, deliver
from flows.outbound.outputs import contact_file_stem
from flows.review import ledger_key, review_before_sending
from flows.schedule import CaldavSummary, ScheduleError, publish_caldav


@dataclass(frozen=True)
class ChangePlan:
    """The event's state and who holds an older version of it."""

    event_id: int
    slug: str
    sequence: int
    status: str
    recipients: tuple[NoticeRecipient, ...]


@dataclass(frozen=True)
class ChangeEntry:
    """One written message to send: to whom, which change, and where its bytes are."""

    recipient: NoticeRecipient
    #: "update" or "cancel"
    purpose: str
    #: the event's SEQUENCE the message carries (what the contact holds once it is sent)
    sequence: int
    message_id: str
    eml: str
    lines: tuple[str, ...]
    language: str
    #: for a minor update (same SEQUENCE): the version of the event it carries
    revision: str = ""


@dataclass(frozen=True)
class SendFailure:
    """A message the ledger recorded as failed, and why."""

    email: str
    city: str
    reason: str


@dataclass(frozen=True)
class ChunkOutcome:
    """What sending one chunk did."""

    sent: int
    already_sent: int
    failed: tuple[SendFailure, ...] = ()
    #: who was sent a message by this chunk (the UI's per-recipient table)
    sent_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaldavFailure:
    """A CalDAV collection that could not be updated after the messages went out."""

    url: str
    error: str


@dataclass(frozen=True)
class Refreshed:
    """The feeds rewritten after the messages, and each CalDAV collection updated (or its error)."""

    slug: str
    feed: str
    caldav: tuple[CaldavSummary | CaldavFailure, ...] = ()


def office_of(settings: Settings) -> Office:
    office = settings.office
    return Office(
        office.email, office.name, office.native_name, office.language, office.mail_domain
    )


def notice_for(
    event: Event,
    recipient: NoticeRecipient,
    baseline: Mapping[str, Any] | None,
    settings: Settings,
    now: dt.datetime,
    *,
    fallback: CalEvent | None = None,
    revision: str = "",
) -> Notice | None:
    """One contact's REQUEST or CANCEL, in memory; None when nothing differs.

    ``baseline`` is the snapshot of the version the contact holds; without one, ``fallback``
    is the event as their invitation showed it.
    """
    lang, uid, city = mail_language(recipient.language), recipient.uid, recipient.city
    current = contact_calendar(event, lang, uid=uid, city=city)
    held, old = None, None
    if baseline is not None:
        old = event_from_snapshot(baseline)
        held = contact_calendar(old, lang, uid=uid, city=city, sequence=recipient.held_sequence)
    try:
        return render_change(
            recipient,
            current,
            contact_changes(current, held, fallback),
            all_sessions=sessions_by_key(event),
            event_sequence=event.sequence,
            office=office_of(settings),
            now=now,
            names=local_names(event, lang, earlier=old),
            revision=revision,
        )
    except MailError as exc:
        raise ScheduleError(
            f"{'cancel' if event.status == 'cancelled' else 'update'} to {recipient.email} "
            f"({recipient.city}): {exc}"
        ) from exc


@task
def plan_changes(event_ref: str) -> ChangePlan:
    """Who holds an older version of the event, and the snapshot each one holds."""
    with session_scope() as session:
        event = find_event(session, event_ref)
        return ChangePlan(
            event_id=event.id,
            slug=event.slug,
            sequence=event.sequence,
            status=event.status,
            recipients=tuple(notice_recipients(session, event)),
        )


@task
def render_changes(
    event_id: int, recipients: list[NoticeRecipient], now: dt.datetime
) -> list[ChangeEntry]:
    """Render every message first (a template or address problem stops the run before sending)."""
    settings = get_settings()
    manifest = []
    with session_scope() as session:
        event = session.get(Event, event_id)
        assert event is not None
        snapshots = snapshots_of(session, event.id)
        revision = content_revision(event)
        files: dict[int, Path] | None = None  # listed once, and only if needed
        for r in recipients:
            baseline = baseline_snapshot(snapshots, r.held_sequence)
            fallback = None
            if baseline is None:
                if files is None:
                    files = invitation_files(settings, event.slug)
                fallback = sent_invitation(files.get(r.contact_id))
            notice = notice_for(
                event, r, baseline, settings, now, fallback=fallback, revision=revision
            )
            if notice is None:
                continue
            stem = contact_file_stem(r.city, r.name_latin, r.email, r.contact_id)
            eml = write_change(
                settings, event.slug, notice.purpose, stem, ics=notice.ics, message=notice.message
            )
            manifest.append(
                ChangeEntry(
                    recipient=r,
                    purpose=notice.purpose,
                    sequence=event.sequence,
                    message_id=notice.message_id,
                    eml=str(eml),
                    lines=notice.lines,
                    language=notice.language,
                    revision=revision if notice.is_minor else "",
                )
            )
    return manifest


@task(retries=1, retry_delay_seconds=2)
def send_change_chunk(event_id: int, manifest: list[ChangeEntry], now: dt.datetime) -> ChunkOutcome:
    """Send a chunk through the delivery ledger; a confirmed send moves the SEQUENCE on."""
    items = [
        Outgoing(
            purpose=m.purpose,
            recipient=m.recipient.email,
            occurrence=occurrence_of(m),
            message_id=m.message_id,
            message=Path(m.eml),
            context=m,
        )
        for m in manifest
    ]

    def held(session: Session, sent: list[Outgoing[ChangeEntry]]) -> None:
        move_sequences(
            session, event_id, {i.context.recipient.contact_id: i.context.sequence for i in sent}
        )

    result = deliver(items, settings=get_settings(), event_id=event_id, on_confirmed=held)
    return ChunkOutcome(
        sent=len(result.sent),
        already_sent=result.already_sent,
        failed=tuple(
            SendFailure(i.context.recipient.email, i.context.recipient.city, why)
            for i, why in result.failed
        ),
        sent_to=tuple(i.context.recipient.email for i in result.sent),
    )


@task
def refresh_schedule(event_id: int, now: dt.datetime, all_sent: bool = True) -> Refreshed:
    """Rewrite the feeds, keep the snapshot of what was sent, update the CalDAV copies.

    The snapshot of the current SEQUENCE is replaced only when every message went out
    (``all_sent``): a contact whose minor update failed still holds the earlier version.
    Every collection the event was published to is updated (a URL given once with
    --publish is remembered in CaldavResource), plus the configured one.
    """
    settings = get_settings()
    with session_scope() as session:
        event = session.get(Event, event_id)
        assert event is not None
        files = write_feeds(session, event, settings)
        record_snapshot(session, event, now, replace_existing=all_sent)
        slug = event.slug
        urls = caldav_urls(session, event_id)
    if settings.caldav.url:
        urls.add(
            settings.caldav.url if settings.caldav.url.endswith("/") else settings.caldav.url + "/"
        )
    caldav: list[CaldavSummary | CaldavFailure] = []
    for url in sorted(urls):
        try:
            with session_scope() as session:
                event = session.get(Event, event_id)
                assert event is not None
                caldav.append(publish_caldav(session, event, url, settings, now))
        except ScheduleError as exc:
            # the messages are out; a CalDAV failure is reported, not a reason to fail them
            caldav.append(CaldavFailure(url, str(exc)))
    return Refreshed(slug=slug, feed=files.feed, caldav=tuple(caldav))


@dataclass
class ChangeSummary:
    event: str
    sequence: int
    method: str
    to_notify: int = 0
    sent: int = 0
    already_sent: int = 0
    skipped_opted_out: list[str] = field(default_factory=list)
    failed: list[SendFailure] = field(default_factory=list)
    #: the summary lines each contact got, by e-mail address
    lines: dict[str, list[str]] = field(default_factory=dict)
    #: contacts whose update was minor (same SEQUENCE, their answer kept)
    minor: list[str] = field(default_factory=list)
    feed: str = ""
    #: one entry per CalDAV collection updated (or its error)
    caldav: list[CaldavSummary | CaldavFailure] = field(default_factory=list)
    #: the sign-off of these messages (None when none was needed)
    review: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@flow(name="send changes", flow_run_name="changes: {event}")
def send_changes(event: str, now: Clock = None) -> dict[str, Any]:
    """Send each invited contact one update (REQUEST) or cancellation (CANCEL) of the event.

    Args:
        event: The event's short name (slug), e.g. beijing-tokyo-urban-symposium-12. Every event
            is listed under Variables, `amity_events`; `amity events list` lists them too.
    """
    if (refused := refuse_unknown_event(event)) is not None:
        return refused  # a Failed state: one line in the UI
    now = now or dt.datetime.now(dt.UTC)
    log = run_logger()
    plan = plan_changes(event)
    summary = ChangeSummary(
        event=plan.slug,
        sequence=plan.sequence,
        method="CANCEL" if plan.status == "cancelled" else "REQUEST",
    )
    summary.skipped_opted_out = [
        r.email for r in plan.recipients if r.is_opted_out and r.held_sequence < plan.sequence
    ]
    recipients = [r for r in plan.recipients if not r.is_opted_out]
    summary.to_notify = len(recipients)
    log.info(
        "%s: %d contacts to notify (SEQUENCE %d), %d opted out (skipped)",
        plan.slug,
        len(recipients),
        plan.sequence,
        len(summary.skipped_opted_out),
    )
    manifest: list[ChangeEntry] = []
    sent_to: set[str] = set()
    held_for_review = False
    if recipients:
        manifest = render_changes(plan.event_id, recipients, now)
        summary.to_notify = len(manifest)
        summary.lines = {m.recipient.email: list(m.lines) for m in manifest}
        summary.minor = sorted(m.recipient.email for m in manifest if m.revision)
        # sign-off: nothing goes out before a person approved exactly these messages
        messages = [reviewable(m) for m in manifest]
        batches, summary.review = review_before_sending(
            event_id=plan.event_id,
            slug=plan.slug,
            purpose=CHANGES,
            occurrence="",
            manifests=[messages],
            ranks={},
        )
        if summary.review is not None:
            # the review holds only what is new: count what an earlier run sent already
            with session_scope() as session:
                keys = [ledger_key(m, CHANGES, "") for m in messages]
                summary.already_sent += len(sent_keys(session, keys))
        held_for_review = summary.review is not None and not batches
        for number, outcome in enumerate(_send_batches(plan.event_id, batches, now), start=1):
            summary.sent += outcome.sent
            summary.already_sent += outcome.already_sent
            summary.failed += list(outcome.failed)
            sent_to.update(e.lower() for e in outcome.sent_to)
            log.info(
                "Chunk %d of %d: sent %d (%s), %d sent before, %d failed",
                number,
                len(batches),
                outcome.sent,
                preview(list(outcome.sent_to)) or "nobody",
                outcome.already_sent,
                len(outcome.failed),
            )
            for f in outcome.failed:
                log.info("Not sent to %s (%s): %s", f.email, f.city, f.reason)
    if held_for_review:
        # the feeds and CalDAV follow the messages: they change when the approved ones go out
        log.info("%s: nothing sent; the review waits for a decision", plan.slug)
    else:
        refreshed = refresh_schedule(plan.event_id, now, not summary.failed)
        summary.feed, summary.caldav = refreshed.feed, list(refreshed.caldav)
    _changes_artifact(summary)
    _publish_changes(summary, plan.recipients, manifest, sent_to)
    return summary.to_dict()


#: the purpose a review of updates and cancellations is recorded under
CHANGES = "changes"


def reviewable(m: ChangeEntry) -> dict[str, Any]:
    """A rendered update or cancellation as the review keeps it (plain data, its own key)."""
    r = m.recipient
    return {
        "contact_id": r.contact_id,
        "email": r.email,
        "city": r.city,
        "language": m.language,
        "uid": r.uid,
        "sequence": m.sequence,
        "message_id": m.message_id,
        "letter": m.eml,
        "eml": m.eml,
        "ledger": [m.purpose, occurrence_of(m)],
        "change": {**asdict(m), "recipient": asdict(r)},
    }


def entry_of(m: dict[str, Any]) -> ChangeEntry:
    """The message to send from a reviewed one: its bytes are the kept copy the review read."""
    data = dict(m["change"])
    recipient = NoticeRecipient(**data.pop("recipient"))
    data["lines"] = tuple(data["lines"])
    return ChangeEntry(**{**data, "recipient": recipient, "eml": m["eml"]})


def occurrence_of(m: ChangeEntry) -> str:
    """The ledger's occurrence: a minor update keeps the SEQUENCE, its version tells it apart."""
    return f"{m.recipient.uid}:{m.sequence}" + (f":{m.revision}" if m.revision else "")


def _send_batches(
    event_id: int, batches: list[list[dict[str, Any]]], now: dt.datetime
) -> Iterator[ChunkOutcome]:
    """Each batch's outcome in order, sent by a task of its own (one at a time into a Maildir)."""
    return results_in_order(
        lambda batch: send_change_chunk.submit(event_id, [entry_of(m) for m in batch], now),
        batches,
        in_flight=sends_in_flight(get_settings()),
    )


def send_reviewed_changes(
    event_id: int, batches: list[list[dict[str, Any]]], result: dict[str, Any]
) -> dict[str, Any]:
    """Send approved updates or cancellations (the flow of `amity approve`), then the feeds."""
    now = dt.datetime.now(dt.UTC)
    for outcome in _send_batches(event_id, batches, now):
        result["sent"] += outcome.sent
        result["already_sent"] += outcome.already_sent
        result["failed"] += [asdict(f) for f in outcome.failed]
    if batches:
        refresh_schedule(event_id, now, not result["failed"])
    return result


def content_revision(event: Event) -> str:
    """A short fingerprint of what calendars show of the event (the same content, the same
    value), naming the version a minor update carries."""
    data = json.dumps(snapshot_data(event), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def _publish_changes(
    summary: ChangeSummary,
    recipients: Sequence[NoticeRecipient],
    manifest: Sequence[ChangeEntry],
    sent_to: set[str],
) -> None:
    """The per-recipient artifact of the notices, a closing log line and the event's page."""
    failed = {f.email.lower(): f.reason for f in summary.failed}
    rows = [
        RecipientRow(
            contact_label(r.name_latin or r.name_native, r.email), r.city, r.language, "opted out"
        )
        for r in recipients
        if r.is_opted_out
    ]
    for m in manifest:
        r = m.recipient
        email = r.email.lower()
        state = "failed" if email in failed else "sent" if email in sent_to else "sent before"
        rows.append(
            RecipientRow(
                contact_label(r.name_latin or r.name_native, r.email),
                r.city,
                m.language,
                state,
                failed.get(email) or "; ".join(m.lines),
            )
        )
    what = "Cancellations" if summary.method == "CANCEL" else "Updates"
    next_step = (
        "fix the failed addresses and run again" if summary.failed else "nothing: all notified"
    )
    publish_mailing(what, summary.event, rows, next_step=next_step)
    run_logger().info("%s: %s. Next step: %s", what, _counts_text(summary.to_dict()), next_step)
    update_event_page(summary.event, f"{what.lower()}: {summary.sent} sent now")


def _changes_artifact(summary: ChangeSummary) -> None:
    what = "Cancellations" if summary.method == "CANCEL" else "Updates"
    lines = [
        f"# {what} of {summary.event} (SEQUENCE {summary.sequence})",
        "",
        f"- to notify: {summary.to_notify}; {_counts_text(summary.to_dict())}",
        f"- feed: `{Path(summary.feed).name}`",
    ]
    lines += [f"- failed: {f.email} ({f.city}): {f.reason}" for f in summary.failed]
    lines += [f"- CalDAV: {c.error}" for c in summary.caldav if isinstance(c, CaldavFailure)]
    create_markdown_artifact(
        markdown="\n".join(lines) + "\n",
        key=f"changes-{slugify(summary.event)}"[:60].lower().replace("_", "-"),
        description=f"{what} of {summary.event}",
    )


def _counts_text(result: Mapping[str, Any]) -> str:
    """How many of send_changes' messages were sent, sent before, failed, opted out."""
    text = (
        f"{result['sent']} sent, {result['already_sent']} sent before, "
        f"{len(result['failed'])} failed"
    )
    if result["skipped_opted_out"]:
        text += f", {len(result['skipped_opted_out'])} opted out"
    return text


def summary_text(result: Mapping[str, Any]) -> str:
    """One line for the CLI: what send_changes did."""
    if not result["to_notify"] and not result["already_sent"]:
        return "nobody to notify (no invitation sent yet, or everyone is up to date)"
    text = f"{result['method']} SEQUENCE {result['sequence']}: {_counts_text(result)}"
    minor = len(result.get("minor") or ())
    if minor:
        text += f" ({minor} minor: same SEQUENCE, answers kept)"
    return text


def iter_failures(result: Mapping[str, Any]) -> Iterable[str]:
    for failure in result["failed"]:
        yield f"{failure['email']} ({failure['city']}): {failure['reason']}"
    for caldav in result.get("caldav") or []:
        if "error" in caldav:
            yield f"CalDAV: {caldav['error']}"
