"""iMIP REPLY messages: read them from .eml or bare .ics bytes, and build them like a client.

:func:`parse_replies` either returns at least one :class:`Reply` or raises
:class:`InvalidReply` with a sentence a person can act on, so that ``amity rsvp import``
reports the file and goes on with the next one. Whether a reply's UID and attendee are
known, and whether it is stale, is for the caller to decide with its database
(:func:`reply_is_newer` holds the ordering rule).
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import Message
from typing import Any, Literal

from icalendar import Calendar, Event, vCalAddress

from flows.domain.mail import build_imip_message

__all__ = [
    "PARTSTATS",
    "InvalidReply",
    "Invited",
    "OutcomeKind",
    "Reply",
    "ReplyOutcome",
    "build_reply_email",
    "build_reply_ics",
    "judge_reply",
    "message_sender",
    "parse_replies",
    "reply_is_newer",
]

#: the participation states a VEVENT attendee can answer with (RFC 5545 §3.2.12)
PARTSTATS = frozenset({"accepted", "declined", "tentative", "delegated", "needs-action"})
_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})


class InvalidReply(ValueError):
    """The bytes hold no usable iMIP REPLY; ``reason`` says why, for the import report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Reply:
    """One attendee's answer to one invitation."""

    uid: str
    #: lower-cased, without "mailto:"
    attendee_email: str
    #: one of PARTSTATS, lower-case
    partstat: str
    sequence: int
    #: when the attendee's client wrote the reply, UTC
    dtstamp: datetime
    #: e-mails the attendee delegated to (PARTSTAT=DELEGATED)
    delegated_to: tuple[str, ...] = ()
    #: set on the delegate's own ATTENDEE line
    delegated_from: tuple[str, ...] = ()
    #: who answered on the attendee's behalf (ATTENDEE;SENT-BY=mailto:…), lower-case
    sent_by: str | None = None


#: why a reply was not recorded; "recorded" when it was
OutcomeKind = Literal[
    "recorded", "sender-mismatch", "unknown-invitation", "outdated", "duplicate", "superseded"
]


@dataclass(frozen=True, slots=True)
class Invited:
    """What the office knows of the invitation a reply names (plain data from the database)."""

    contact_email: str
    #: the SEQUENCE the contact's calendar holds
    sequence: int
    rsvp_state: str = "needs-action"
    rsvp_sequence: int | None = None
    rsvp_dt: datetime | None = None
    #: addresses recorded as allowed to answer for the contact (SENT-BY), lower-case
    delegates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """What becomes of one reply: recorded, or refused / ignored with a reason a person reads."""

    kind: OutcomeKind
    reason: str
    reply: Reply
    #: the message's From: address, lower-case; None for a bare .ics (no sender)
    sender: str | None

    @property
    def is_recorded(self) -> bool:
        return self.kind == "recorded"

    @property
    def is_refused(self) -> bool:
        """Refused (not the attendee, or no such invitation), as opposed to merely ignored."""
        return self.kind in ("sender-mismatch", "unknown-invitation")


def judge_reply(reply: Reply, *, sender: str | None, invited: Invited | None) -> ReplyOutcome:
    """Decide whether ``reply``, sent by ``sender``, answers ``invited`` (None: no such UID).

    A reply counts only when its sender is the attendee, or the SENT-BY delegate it names
    is the sender and is recorded for the contact: the UID is in every forwarded copy of an
    invitation, so the ATTENDEE line alone proves nothing. Then an answer to an older
    version of the event (SEQUENCE) is outdated, and one that is not newer than the answer
    recorded is a duplicate (the same answer again) or superseded (RFC 5546 §2.1.5).
    """

    def outcome(kind: OutcomeKind, reason: str) -> ReplyOutcome:
        return ReplyOutcome(kind, reason, reply, sender)

    who = reply.attendee_email
    if invited is None:
        return outcome(
            "unknown-invitation", f"unknown invitation: no invitation has UID {reply.uid}"
        )
    if invited.contact_email.lower() != who:
        return outcome(
            "unknown-invitation",
            f"unknown invitation: {reply.uid} was sent to {invited.contact_email}, not {who}",
        )
    if sender is None:
        return outcome(
            "sender-mismatch",
            f"no sender to check against the attendee {who} (a bare calendar file, or an "
            "e-mail without one From: address); import the e-mail as received",
        )
    if sender != who and not (reply.sent_by == sender and sender in invited.delegates):
        delegate = " nor a delegate recorded for the contact" if reply.sent_by else ""
        return outcome(
            "sender-mismatch",
            f"sender {sender} is not the attendee {who}{delegate}",
        )
    if reply.sequence < invited.sequence:
        return outcome(
            "outdated",
            f"outdated: answers version {reply.sequence} < {invited.sequence} of the invitation",
        )
    if invited.rsvp_dt is not None and not reply_is_newer(
        reply, sequence=invited.rsvp_sequence or 0, dtstamp=invited.rsvp_dt
    ):
        recorded = f"{invited.rsvp_state}, {invited.rsvp_dt:%Y-%m-%d %H:%M} UTC"
        if (reply.sequence, reply.dtstamp, reply.partstat) == (
            invited.rsvp_sequence or 0,
            invited.rsvp_dt,
            invited.rsvp_state,
        ):
            return outcome("duplicate", f"duplicate of the answer recorded ({recorded})")
        return outcome("superseded", f"older than the answer recorded ({recorded})")
    return outcome("recorded", f"{reply.partstat} recorded for {who}")


def message_sender(data: bytes | Message) -> str | None:
    """The From: address of an e-mail, lower-case; None for a bare .ics or no usable From."""
    if isinstance(data, bytes):
        head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper()
        if head.startswith(b"BEGIN:VCALENDAR"):
            return None
        data = email.message_from_bytes(data, policy=email.policy.compat32)
    values = data.get_all("From") or []
    addresses = email.utils.getaddresses([str(v) for v in values])
    found = {addr.strip().lower() for _, addr in addresses if "@" in addr}
    return found.pop() if len(found) == 1 else None


def parse_replies(data: bytes | Message) -> list[Reply]:
    """Return the replies in an .eml message (any MIME nesting) or a bare .ics file.

    Raises :class:`InvalidReply` when there is no calendar part, the calendar cannot be
    read, its METHOD is not REPLY, or an event lacks UID, DTSTAMP or a usable ATTENDEE.
    A reply repeated in the same message (the body part and an invite.ics attachment, as
    Gmail sends it) is returned once.
    """
    calendars = _calendar_texts(data)
    replies: list[Reply] = []
    for text in calendars:
        for reply in _replies_in_calendar(text):
            if reply not in replies:
                replies.append(reply)
    if not replies:
        raise InvalidReply("the calendar holds no VEVENT")
    return replies


def reply_is_newer(reply: Reply, *, sequence: int | None, dtstamp: datetime | None) -> bool:
    """True if ``reply`` supersedes the last one recorded (RFC 5546 §2.1.5 ordering).

    A higher SEQUENCE wins; at the same SEQUENCE the later DTSTAMP wins; an equal or
    older reply (a re-import of the same file, a late duplicate) is stale.
    """
    if sequence is None or dtstamp is None:
        return True
    if reply.sequence != sequence:
        return reply.sequence > sequence
    return reply.dtstamp > dtstamp


def build_reply_ics(
    *,
    uid: str,
    organizer_email: str,
    attendee_email: str,
    attendee_name: str | None,
    partstat: str,
    sequence: int,
    dtstamp: datetime,
    summary: str | None = None,
    dtstart: datetime | None = None,
    dtend: datetime | None = None,
    delegated_to: Sequence[str] = (),
    comment: str | None = None,
    prodid: str = "-//amity//simulated calendar client//EN",
) -> bytes:
    """Return a METHOD:REPLY calendar as an attendee's calendar client would send it.

    Times are written in UTC so that no VTIMEZONE is needed. Used for the demo's
    simulated answers and by tests.
    """
    partstat = partstat.lower()
    if partstat not in PARTSTATS:
        raise ValueError(f"partstat: {partstat!r} is not one of {sorted(PARTSTATS)}")
    if partstat == "delegated" and not delegated_to:
        raise ValueError("delegated_to: a DELEGATED reply names the delegate")
    calendar = Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    calendar.add("method", "REPLY")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", _utc(dtstamp, "dtstamp"))
    event.add("sequence", sequence)
    if dtstart is not None:
        event.add("dtstart", _utc(dtstart, "dtstart"))
    if dtend is not None:
        event.add("dtend", _utc(dtend, "dtend"))
    if summary is not None:
        event.add("summary", summary)
    event.add("organizer", vCalAddress(f"mailto:{organizer_email}"))
    attendee = vCalAddress(f"mailto:{attendee_email}")
    if attendee_name:
        attendee.params["CN"] = attendee_name
    attendee.params["PARTSTAT"] = partstat.upper()
    if delegated_to:
        attendee.params["DELEGATED-TO"] = [f"mailto:{addr}" for addr in delegated_to]
    event.add("attendee", attendee)
    if comment is not None:
        event.add("comment", comment)
    calendar.add_component(event)
    return calendar.to_ical()


def build_reply_email(
    *,
    ics: bytes,
    attendee_email: str,
    attendee_name: str,
    organizer_email: str,
    organizer_name: str,
    subject: str,
    text: str,
    message_id: str,
    date: datetime,
) -> bytes:
    """Wrap a REPLY calendar in an e-mail to the organizer, as clients send it."""
    return build_imip_message(
        from_addr=attendee_email,
        from_name=attendee_name,
        to_addr=organizer_email,
        to_name=organizer_name,
        subject=subject,
        text=text,
        html=None,
        ics=ics,
        method="REPLY",
        attachments=[],
        message_id=message_id,
        date=date,
    )


def _calendar_texts(data: bytes | Message) -> list[str]:
    if isinstance(data, Message):
        message = data
    else:
        head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper()
        if head.startswith(b"BEGIN:VCALENDAR"):
            return [_decode(data, "utf-8")]
        message = email.message_from_bytes(data, policy=email.policy.compat32)
    texts = [_part_text(part) for part in message.walk() if _is_calendar(part)]
    if not texts:
        raise InvalidReply("no text/calendar part and not an .ics file")
    return texts


def _is_calendar(part: Message) -> bool:
    if part.is_multipart():
        return False
    if part.get_content_type() in _CALENDAR_TYPES:
        return True
    filename = part.get_filename() or ""
    return filename.lower().endswith(".ics")


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raise InvalidReply("the calendar part has no content")
    return _decode(payload, part.get_content_charset() or "utf-8")


def _decode(data: bytes, charset: str) -> str:
    try:
        return data.decode(charset, errors="replace").lstrip("\ufeff")
    except LookupError:
        return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def _replies_in_calendar(text: str) -> Iterable[Reply]:
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises ValueError, KeyError… on broken input
        raise InvalidReply(f"unreadable iCalendar data: {exc}") from exc
    for calendar in calendars:
        method = str(calendar.get("METHOD", "")).upper()
        if method != "REPLY":
            raise InvalidReply(f"METHOD is {method or 'missing'}, not REPLY")
        for event in calendar.walk("VEVENT"):
            yield from _replies_in_event(event)


def _replies_in_event(event: Any) -> Iterable[Reply]:
    uid = str(event.get("UID", "")).strip()
    if not uid:
        raise InvalidReply("a VEVENT has no UID")
    stamp = event.get("DTSTAMP")
    if stamp is None:
        raise InvalidReply(f"event {uid}: no DTSTAMP")
    dtstamp = stamp.dt
    if not isinstance(dtstamp, datetime):
        raise InvalidReply(f"event {uid}: DTSTAMP is a date, not a date-time")
    # DTSTAMP must be UTC (RFC 5545 §3.8.7.2); a floating one is read as UTC too.
    dtstamp = dtstamp.replace(tzinfo=UTC) if dtstamp.tzinfo is None else dtstamp.astimezone(UTC)
    try:
        sequence = int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError) as exc:
        raise InvalidReply(f"event {uid}: SEQUENCE is not a number") from exc
    attendees = event.get("ATTENDEE")
    if attendees is None:
        raise InvalidReply(f"event {uid}: no ATTENDEE")
    if not isinstance(attendees, list):
        attendees = [attendees]
    for attendee in attendees:
        partstat = str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).lower()
        if partstat not in PARTSTATS:
            raise InvalidReply(f"event {uid}: PARTSTAT {partstat.upper()} is not an answer")
        yield Reply(
            uid=uid,
            attendee_email=_email(str(attendee), uid),
            partstat=partstat,
            sequence=sequence,
            dtstamp=dtstamp,
            delegated_to=_emails(attendee.params.get("DELEGATED-TO"), uid),
            delegated_from=_emails(attendee.params.get("DELEGATED-FROM"), uid),
            sent_by=_sent_by(attendee.params.get("SENT-BY"), uid),
        )


def _sent_by(value: object, uid: str) -> str | None:
    if value is None or not str(value).strip():
        return None
    return _email(str(value), uid)


def _emails(value: object, uid: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(_email(str(item), uid) for item in items if str(item).strip())


def _email(cal_address: str, uid: str) -> str:
    value = cal_address.strip().strip('"')
    if value[:7].lower() == "mailto:":
        value = value[7:]
    value = value.strip().lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in value):
        raise InvalidReply(f"event {uid}: {cal_address!r} is not a mailto: address")
    return value


def _utc(value: datetime | date, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{field}: must be a timezone-aware datetime")
    return value.astimezone(UTC)
