"""Messages in the office's mailbox: what each one is, read from its bytes alone.

:func:`read_message` sorts a message into one of four kinds:

- ``reply``: it carries a calendar with METHOD:REPLY (an iMIP answer; whether it counts is
  for ``amity rsvp import``'s checks to say);
- ``dsn``: an RFC 3464 delivery status notification (``multipart/report;
  report-type=delivery-status``), with each recipient's action, status and reason and the
  Message-ID of the returned message;
- ``text``: a message a person wrote (a text part, not auto-submitted): a plain answer if it
  answers one of amity's messages or comes from a contact, which the caller decides;
- ``other``: everything else (auto-replies, calendars that are not replies, empty messages).

Nothing here knows the database; matching against the delivery ledger is the caller's job.
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import email.utils
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message

__all__ = [
    "DsnRecipient",
    "Incoming",
    "message_ids",
    "normalize_message_id",
    "read_message",
]

_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
_METHOD_REPLY = re.compile(rb"^METHOD[ \t]*(;[^:\r\n]*)?:[ \t]*REPLY[ \t]*\r?$", re.I | re.M)
_MSGID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True, slots=True)
class DsnRecipient:
    """One per-recipient block of a delivery status notification (RFC 3464 §2.3)."""

    #: Final-Recipient's address, lower-cased ("" if absent or not an e-mail address)
    final_recipient: str
    #: Original-Recipient's address, lower-cased ("" if absent)
    original_recipient: str
    #: failed | delayed | delivered | relayed | expanded
    action: str
    #: the RFC 3463 status code, "5.1.1"
    status: str
    #: Diagnostic-Code without its type ("550 5.1.1 <x@y>: user unknown"), unfolded
    reason: str

    @property
    def addresses(self) -> tuple[str, ...]:
        """The recipient's addresses as amity may have written them (original first)."""
        return tuple(a for a in (self.original_recipient, self.final_recipient) if a)


@dataclass(frozen=True, slots=True)
class Incoming:
    """What a message is and what identifies it."""

    kind: str
    #: "<id@host>" or None
    message_id: str | None
    subject: str
    #: the From address, lower-cased
    sender: str
    #: In-Reply-To and References, each "<id@host>", in header order
    references: tuple[str, ...]
    #: the returned message's Message-ID (DSN only)
    returned_message_id: str | None = None
    #: the DSN's recipients (DSN only)
    recipients: tuple[DsnRecipient, ...] = ()
    #: the Date header, UTC, if readable
    date: datetime | None = None


def read_message(data: bytes) -> Incoming:
    """Sort the raw message ``data`` into reply, dsn, text or other (module docstring)."""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    base = Incoming(
        kind="other",
        message_id=normalize_message_id(msg.get("Message-ID")),
        subject=_header_text(msg.get("Subject")),
        sender=email.utils.parseaddr(_header_text(msg.get("From")))[1].strip().lower(),
        references=message_ids(msg.get("In-Reply-To"), msg.get("References")),
        date=_date(msg.get("Date")),
    )
    if _is_dsn(msg):
        returned, recipients = _dsn_parts(msg)
        return replace(base, kind="dsn", returned_message_id=returned, recipients=recipients)
    if any(_is_reply_calendar(part) for part in msg.walk()):
        return replace(base, kind="reply")
    if not _is_auto_submitted(msg) and any(
        part.get_content_type() in ("text/plain", "text/html") for part in msg.walk()
    ):
        return replace(base, kind="text")
    return base


def normalize_message_id(value: object) -> str | None:
    """``<id@host>`` from a Message-ID header value, None if it holds none."""
    if value is None:
        return None
    found = _MSGID.findall(str(value))
    if found:
        return str(found[0])
    text = str(value).strip()
    return f"<{text}>" if text and not any(ch.isspace() for ch in text) else None


def message_ids(*headers: object) -> tuple[str, ...]:
    """Every ``<id@host>`` in these header values (In-Reply-To, References), once, in order."""
    seen: list[str] = []
    for header in headers:
        if header is None:
            continue
        for found in _MSGID.findall(str(header)):
            if found not in seen:
                seen.append(found)
    return tuple(seen)


def _header_text(value: object) -> str:
    if value is None:
        return ""
    try:
        text = str(make_header(decode_header(str(value))))
    except (UnicodeError, LookupError, email.errors.HeaderParseError):
        text = str(value)
    return " ".join(text.split())


def _date(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _is_dsn(msg: Message) -> bool:
    return (
        msg.get_content_type() == "multipart/report"
        and str(msg.get_param("report-type", "")).lower() == "delivery-status"
    )


def _is_reply_calendar(part: Message) -> bool:
    if part.is_multipart():
        return False
    filename = (part.get_filename() or "").lower()
    if part.get_content_type() not in _CALENDAR_TYPES and not filename.endswith(".ics"):
        return False
    if str(part.get_param("method", "")).upper() == "REPLY":
        return True
    payload = part.get_payload(decode=True)
    return isinstance(payload, bytes) and _METHOD_REPLY.search(payload) is not None


def _is_auto_submitted(msg: Message) -> bool:
    """Out-of-office answers and list traffic: RFC 3834 Auto-Submitted, and common markers."""
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    return (
        not auto.startswith("no")
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or msg.get("X-Autoreply") is not None
    )


def _dsn_parts(msg: Message) -> tuple[str | None, tuple[DsnRecipient, ...]]:
    returned: str | None = None
    recipients: list[DsnRecipient] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            recipients += _status_blocks(part)
        elif ctype in ("message/rfc822", "text/rfc822-headers") and returned is None:
            returned = _returned_message_id(part)
    return returned, tuple(recipients)


def _status_blocks(part: Message) -> list[DsnRecipient]:
    payload = part.get_payload()
    if isinstance(payload, list):
        # the first block holds the per-message fields, each later one a recipient
        blocks = [
            {k.lower(): str(v) for k, v in block.items()}
            for block in payload
            if isinstance(block, Message)
        ]
    else:
        blocks = _parse_field_blocks(str(payload))
    found = []
    for block in blocks:
        if "action" not in block:
            continue
        found.append(
            DsnRecipient(
                final_recipient=_typed_address(block.get("final-recipient")),
                original_recipient=_typed_address(block.get("original-recipient")),
                action=block["action"].strip().lower(),
                status=block.get("status", "").strip().split(" ")[0],
                reason=_typed_value(block.get("diagnostic-code")),
            )
        )
    return found


def _parse_field_blocks(text: str) -> list[dict[str, str]]:
    """Header-style blocks separated by blank lines (for a delivery-status sent as text)."""
    blocks = []
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text.strip()):
        parsed = email.message_from_string(chunk.strip() + "\n\n")
        blocks.append({k.lower(): str(v) for k, v in parsed.items()})
    return blocks


def _typed_value(value: str | None) -> str:
    """The value of a typed field ("rfc822; x@y", "smtp; 550 …") without its type, unfolded."""
    if not value:
        return ""
    text = " ".join(value.split())
    kind, sep, rest = text.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else text


def _typed_address(value: str | None) -> str:
    address = _typed_value(value).strip().strip("<>").lower()
    return address if "@" in address and " " not in address else ""


def _returned_message_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return normalize_message_id(payload[0].get("Message-ID"))
    if isinstance(payload, str):
        data = part.get_payload(decode=True)
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else payload
        return normalize_message_id(email.message_from_string(text).get("Message-ID"))
    return None
