"""Update and cancellation notices: what changed for one contact, and the message they get.

A contact holds the version of the event their last message carried (their SEQUENCE). The
notice compares that version with the current one, says what changed in the contact's
language, and carries the current event (METHOD:REQUEST) or its cancellation
(METHOD:CANCEL). Whether a change raises the SEQUENCE is decided in
:mod:`flows.domain.changes` and :mod:`flows.domain.sequence`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flows.domain.changes import (
    EVENT_KEY,
    NO_LOCAL_NAMES,
    ChangeSet,
    ComponentChange,
    LocalNames,
    compute_changes,
    summarize_changes,
)
from flows.domain.i18n import format_span, primary
from flows.domain.ical import (
    CalEvent,
    CalSession,
    Person,
    cancel_ics,
    invitation_ics,
    session_cancel_ics,
)
from flows.domain.mail import NOTICE_LANGUAGES, build_imip_message, make_message_id, render_notice
from flows.domain.slug import slugify

#: languages the update and cancellation mails are written in; others get English
MAIL_LANGUAGES = NOTICE_LANGUAGES


@dataclass(frozen=True)
class Office:
    """The sender of notices, as configured."""

    email: str
    name: str
    native_name: str
    #: BCP 47 tag of the office's own language
    language: str
    mail_domain: str


@dataclass(frozen=True)
class NoticeRecipient:
    """An invited contact whose invitation went out and who holds an older SEQUENCE."""

    contact_id: int
    email: str
    name_native: str
    name_latin: str
    #: BCP 47 tag, as recorded for the contact
    language: str
    city: str
    is_opted_out: bool
    #: the calendar UID of their invitation
    uid: str
    #: the SEQUENCE of the version they hold
    held_sequence: int
    #: their answer to that version (iCalendar PARTSTAT), kept by a minor update
    partstat: str = "NEEDS-ACTION"


@dataclass(frozen=True)
class ContactCalendar:
    """The event and the sessions one contact's calendar shows, at one version."""

    event: CalEvent
    #: session key -> session, only those the contact's city takes part in
    sessions: Mapping[str, CalSession] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    """One contact's update or cancellation, rendered in memory."""

    #: "update" or "cancel"
    purpose: str
    ics: bytes
    message: bytes
    message_id: str
    lines: tuple[str, ...]
    language: str
    #: a minor update: same SEQUENCE, the contact's answer kept (RSVP=FALSE)
    is_minor: bool = False


def primary_language(tag: str) -> str:
    """The language subtag of a BCP 47 tag ("zh-Hans-CN" -> "zh"); "en" when empty."""
    return primary(tag) or "en"


def mail_language(tag: str) -> str:
    """The language a notice is written in: the contact's, when there are templates for it."""
    lang = primary_language(tag)
    return lang if lang in MAIL_LANGUAGES else "en"


def when_text(start: dt.datetime, end: dt.datetime, tzid: str, lang: str) -> str:
    """The event's span in its own zone, in the one date and time style of ``lang``."""
    return format_span(start, end, lang, tz=tzid)


def contact_changes(
    current: ContactCalendar, held: ContactCalendar | None, fallback: CalEvent | None
) -> ChangeSet | None:
    """What changed since the version the contact holds; None when that version is unknown.

    ``held`` is the calendar at the contact's SEQUENCE (from a snapshot); without one,
    ``fallback`` is the event as their invitation showed it (its sessions are unknown).
    """
    if held is not None:
        changes = compute_changes(held.event, held.sessions, current.event, current.sessions)
        programme_only = changes.event is not None and changes.event.fields == ("description",)
        if programme_only and (changes.sessions or changes.added or changes.removed):
            # the event's text lists the programme: the session lines already say what moved
            changes = replace(changes, event=None)
        return changes
    if fallback is not None:
        # the invitation may be in another language than this notice: compare what matters
        old_event = replace(fallback, uid=current.event.uid, summary=current.event.summary)
        return compute_changes(old_event, {}, current.event, {})
    return None


def fallback_lines(current: CalEvent, lang: str, *, cancelled: bool) -> list[str]:
    """The summary when the version a contact holds is unknown: say cancelled, or "updated"."""
    fields = ("status",) if cancelled else ("description",)
    before = replace(current, status="CONFIRMED") if cancelled else current
    change = ComponentChange(EVENT_KEY, current.uid, fields, current.sequence)
    synthetic = ChangeSet(old_event=before, new_event=current, event=change, cancelled=cancelled)
    return summarize_changes(synthetic, lang)


def _notice_ics(
    current: CalEvent,
    changes: ChangeSet | None,
    all_sessions: Mapping[str, CalSession],
    *,
    organizer: Person,
    attendee: Person,
    now: dt.datetime,
    keep_answer: str | None = None,
) -> tuple[bytes, list[tuple[str, str, bytes]]]:
    """The calendar part (REQUEST or CANCEL) and, with an update, a CANCEL per removed session.

    ``keep_answer``: the PARTSTAT of a minor update (RSVP=FALSE); None asks again.
    """
    if current.status == "CANCELLED":
        return cancel_ics(current, organizer=organizer, attendees=[attendee], stamp=now), []
    ics = (
        invitation_ics(current, organizer=organizer, attendee=attendee, stamp=now)
        if keep_answer is None
        else invitation_ics(
            current,
            organizer=organizer,
            attendee=attendee,
            stamp=now,
            partstat=keep_answer,
            rsvp=False,
        )
    )
    # one message per contact per change: a removed session's CANCEL rides along
    removed = {c.key for c in changes.removed} if changes else set()
    attachments = [
        (
            f"cancel-{slugify(key)}.ics",
            "text/calendar; method=CANCEL",
            session_cancel_ics(current, s, organizer=organizer, attendees=[attendee], stamp=now),
        )
        for key, s in all_sessions.items()
        if key in removed
    ]
    return ics, attachments


def _notice_context(
    recipient: NoticeRecipient,
    current: CalEvent,
    lines: list[str],
    lang: str,
    office: Office,
    names: LocalNames = NO_LOCAL_NAMES,
) -> dict[str, Any]:
    native = lang == primary_language(office.language)
    return {
        "name": (recipient.name_native if lang in ("zh", "ja") else recipient.name_latin)
        or recipient.name_native,
        "title": current.summary,
        "lines": lines,
        "when": when_text(current.start, current.end, current.tzid, lang),
        "place": names.location or current.location,
        "office": office.native_name if native else office.name,
    }


def render_change(
    recipient: NoticeRecipient,
    current: ContactCalendar,
    changes: ChangeSet | None,
    *,
    all_sessions: Mapping[str, CalSession],
    event_sequence: int,
    office: Office,
    now: dt.datetime,
    names: LocalNames = NO_LOCAL_NAMES,
    revision: str = "",
) -> Notice | None:
    """The REQUEST or CANCEL message of one contact; None when nothing differs.

    ``changes`` is :func:`contact_changes`' answer; ``all_sessions`` every session of the
    event by key, removed ones included (their CANCEL rides along with an update);
    ``names`` the venue and sessions in the mail's language (the .ics keeps its own texts).
    A contact who already holds ``event_sequence`` gets a minor update (same SEQUENCE, their
    answer kept) — only when what changed is known; ``revision`` names the version it
    carries (the Message-ID differs per revision).
    Raises :class:`flows.domain.mail.MailError` for an address or header that cannot be sent.
    """
    lang = mail_language(recipient.language)
    event = current.event
    cancelled = event.status == "CANCELLED"
    if changes is not None and not changes and not cancelled:
        return None  # e.g. a session moved and moved back: the contact's copy is current
    minor = not cancelled and recipient.held_sequence >= event_sequence
    if minor and changes is None:
        return None  # same SEQUENCE and no record of what they hold: nothing to say
    lines = summarize_changes(changes, lang, names) if changes else []
    lines = lines or fallback_lines(event, lang, cancelled=cancelled)
    organizer = Person(office.email, office.name)
    attendee = Person(recipient.email, recipient.name_latin or recipient.name_native)
    ics, attachments = _notice_ics(
        event,
        changes,
        all_sessions,
        organizer=organizer,
        attendee=attendee,
        now=now,
        keep_answer=recipient.partstat if minor else None,
    )
    purpose, method = ("cancel", "CANCEL") if cancelled else ("update", "REQUEST")
    subject, text, html = render_notice(
        purpose, lang, _notice_context(recipient, event, lines, lang, office, names)
    )
    ident: tuple[object, ...] = (recipient.uid, event_sequence, purpose)
    if minor:
        ident = (*ident, "minor", revision)
    message_id = make_message_id(*ident, domain=office.mail_domain)
    message = build_imip_message(
        from_addr=office.email,
        from_name=office.name,
        to_addr=recipient.email,
        to_name=recipient.name_latin or recipient.name_native,
        subject=subject,
        text=text,
        html=html,
        ics=ics,
        method=method,
        attachments=attachments,
        message_id=message_id,
        date=now,
    )
    return Notice(purpose, ics, message, message_id, tuple(lines), lang, is_minor=minor)
