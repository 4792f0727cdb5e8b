"""The office's daily anniversary digest: from one day's ledger rows to one e-mail per recipient.

Pure: the ledger rows, the ties they name and the clock come in; the rendered digest and the
messages go out. The wording and the .ics are :mod:`flows.domain.anniversaries`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from flows.domain import anniversaries as dom
from flows.domain import i18n
from flows.domain.mail import build_plain_message, make_message_id
from flows.domain.slug import slugify

DIGEST_PURPOSE = "reminder-digest"


@dataclass(frozen=True)
class DigestOffice:
    """Who sends the digest, and the home city it speaks for."""

    email: str
    name: str
    native_name: str
    #: BCP 47 tag the digest is written in
    language: str
    mail_domain: str
    home_city: str
    home_city_native: str
    feb29: str = dom.DEFAULT_FEB29

    def _in_language(self, native: str, english: str) -> str:
        # the native form when the digest's reader writes in its script (北京 in zh and ja)
        if (
            i18n.primary(self.language) != "en"
            and native
            and i18n.writes_in_script(native, self.language)
        ):
            return native
        return english

    @property
    def home_name(self) -> str:
        return self._in_language(self.home_city_native, self.home_city)

    @property
    def sender_name(self) -> str:
        return self._in_language(self.native_name, self.name)


@dataclass(frozen=True)
class LedgerRow:
    """A ``reminder`` row stamped with a digest day."""

    tie_id: int
    milestone: int
    lead_days: int
    anniversary: date
    lead_date: date
    #: claimed, sent, missed or superseded
    state: str


@dataclass(frozen=True)
class DigestItem:
    """One reminder as the flow reports it."""

    tie_id: int
    partner: str
    milestone: int
    lead_days: int
    anniversary: str
    lead_date: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DigestMessage:
    recipient: str
    message_id: str
    data: bytes


@dataclass(frozen=True)
class DayDigest:
    """Everything needed to send one day's digest (plain data, passed between tasks)."""

    day: date
    messages: tuple[DigestMessage, ...]
    markdown: str
    due: tuple[DigestItem, ...]
    missed: tuple[DigestItem, ...]


def digest_occurrence(day: date) -> str:
    """The ledger occurrence of ``day``'s digest."""
    return f"reminders:{day.isoformat()}"


def digest_message_id(day: date, recipient: str, *, mail_domain: str) -> str:
    return make_message_id(DIGEST_PURPOSE, day.isoformat(), recipient, domain=mail_domain)


def anniversary_uid(tie_id: int, mail_domain: str) -> str:
    """Stable per tie: the same calendar entry whenever it is sent or subscribed to."""
    return f"anniversary-tie-{tie_id}@{mail_domain}"


def event_when(on: date, precision: str, language: str) -> str:
    """When an earlier event was held, at the precision its date is known ("2019", not "in")."""
    precision = precision if precision in ("day", "month", "year") else "day"
    return dom.date_text(on, precision, language, bare_year=True)


def split_ledger_rows(
    rows: Sequence[LedgerRow],
) -> tuple[list[dom.DueReminder], list[dom.SkippedReminder]]:
    """The day's reminders to show (each with the lead times it superseded) and the missed ones.

    ``rows`` come in anniversary order; the due ones are sorted by anniversary, tie, milestone.
    """
    superseded: dict[tuple[int, int], list[int]] = defaultdict(list)
    for r in rows:
        if r.state == "superseded":
            superseded[(r.tie_id, r.milestone)].append(r.lead_days)
    due = [
        dom.DueReminder(
            r.tie_id,
            r.milestone,
            r.lead_days,
            r.anniversary,
            r.lead_date,
            tuple(sorted(superseded[(r.tie_id, r.milestone)], reverse=True)),
        )
        for r in rows
        if r.state in ("claimed", "sent")
    ]
    due.sort(key=lambda r: (r.anniversary, r.tie_id, r.milestone))
    missed = [
        dom.SkippedReminder(
            r.tie_id, r.milestone, r.lead_days, r.anniversary, r.lead_date, "missed"
        )
        for r in rows
        if r.state == "missed"
    ]
    return due, missed


def digest_item(
    r: dom.DueReminder | dom.SkippedReminder, ties: Mapping[int, dom.TieRecord]
) -> DigestItem:
    tie = ties.get(r.tie_id)
    return DigestItem(
        tie_id=r.tie_id,
        partner=tie.partner if tie else "",
        milestone=r.milestone,
        lead_days=r.lead_days,
        anniversary=r.anniversary.isoformat(),
        lead_date=r.lead_date.isoformat(),
    )


def _attachments(
    due: Sequence[dom.DueReminder],
    ties: Mapping[int, dom.TieRecord],
    office: DigestOffice,
    now: datetime,
) -> list[tuple[str, str, bytes]]:
    """The .ics of each tie with a due reminder (its first milestone names the file)."""
    attachments = []
    for tie_id in dict.fromkeys(r.tie_id for r in due):
        tie = ties[tie_id]
        milestone = next(r.milestone for r in due if r.tie_id == tie_id)
        ics = dom.anniversary_ics(
            tie,
            uid=anniversary_uid(tie_id, office.mail_domain),
            stamp=now,
            home_city=office.home_name,
            language=office.language,
            feb29=office.feb29,
        )
        attachments.append((f"{slugify(tie.partner)}-{milestone}.ics", "text/calendar", ics))
    return attachments


def build_day_digest(
    day: date,
    rows: Sequence[LedgerRow],
    ties: Mapping[int, dom.TieRecord],
    undated: tuple[Sequence[dom.TieRecord], int],
    *,
    office: DigestOffice,
    now: datetime,
    recipients: Sequence[str],
    bounced: Sequence[dom.FailingAddress] = (),
) -> DayDigest:
    """Render the digest of ``day`` from its ledger rows and build one message per recipient.

    ``ties`` holds every tie the rows name; ``undated`` the first undated ties and their total.
    """
    due, missed = split_ledger_rows(rows)
    digest = dom.DigestInput(
        today=day,
        home_city=office.home_name,
        due=due,
        ties=ties,
        missed=missed,
        undated=undated[0],
        undated_total=undated[1],
        feb29=office.feb29,
        bounced=bounced,
    )
    mail = dom.render_digest(digest, office.language)
    attachments = _attachments(due, ties, office, now)
    messages = []
    for recipient in recipients:
        message_id = digest_message_id(day, recipient, mail_domain=office.mail_domain)
        data = build_plain_message(
            from_addr=office.email,
            from_name=office.sender_name,
            to_addr=recipient,
            to_name="",
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            attachments=attachments,
            message_id=message_id,
            date=now,
        )
        messages.append(DigestMessage(recipient, message_id, data))
    return DayDigest(
        day=day,
        messages=tuple(messages),
        markdown=mail.markdown,
        due=tuple(digest_item(r, ties) for r in due),
        missed=tuple(digest_item(m, ties) for m in missed),
    )


def nothing_due_digest(
    day: date, undated: tuple[Sequence[dom.TieRecord], int], *, office: DigestOffice
) -> str:
    """The markdown of a day with no digest: nothing due, and the ties still undated."""
    digest = dom.DigestInput(
        today=day,
        home_city=office.home_name,
        due=[],
        ties={},
        undated=undated[0],
        undated_total=undated[1],
        feb29=office.feb29,
    )
    return dom.render_digest(digest, office.language).markdown
