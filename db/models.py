"""amity's data model: typed SQLAlchemy 2 declarative classes; invariants live in the database.

Schema changes go through Alembic (db/migrations). While nothing has shipped, the single
initial revision is regenerated with `python -m db.regen` after a model change.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from flows.domain.vocabulary import (
    EVENT_STATUSES,
    MAILBOX_KINDS,
    PRECISIONS,
    RSVP_STATES,
    TIE_KINDS,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC; SQLite forgets the zone, so it is put back on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: amity stores aware UTC datetimes only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
utc_datetime = Annotated[dt.datetime, mapped_column(UTCDateTime())]
short_str = Annotated[str, mapped_column(String(200))]


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class City(Base):
    __tablename__ = "city"
    __table_args__ = (
        UniqueConstraint("name", "country_code"),
        CheckConstraint(
            _in("kind", ("municipality", "district", "region", "province", "prefecture", "other")),
            name="kind",
        ),
    )

    id: Mapped[intpk]
    #: English name as commonly written ("Brussels (Brussels-Capital Region)")
    name: Mapped[short_str]
    #: name in the city's own language and script ("東京都", "القاهرة")
    native_name: Mapped[short_str]
    #: ISO 3166-1 alpha-2
    country_code: Mapped[str] = mapped_column(String(2))
    #: IANA zone name
    timezone: Mapped[str] = mapped_column(String(64))
    #: BCP 47 tag of the administration's language
    language: Mapped[str] = mapped_column(String(35))
    kind: Mapped[str] = mapped_column(String(20), default="municipality")
    #: the name by language for letters, calendars and reports ({"ru": "Москва", "zh": "莫斯科"});
    #: keys are BCP 47 primary subtags, loaded from config/data/city_names.yaml or an import
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    #: districts of the home city point at it; they keep ties of their own
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("city.id"))
    is_home: Mapped[bool] = mapped_column(Boolean, default=False)

    parent: Mapped[City | None] = relationship(remote_side="City.id")
    contacts: Mapped[list[Contact]] = relationship(back_populates="city")


class Tie(Base):
    __tablename__ = "tie"
    __table_args__ = (
        UniqueConstraint("home_city_id", "partner_city_id"),
        CheckConstraint(_in("kind", TIE_KINDS), name="kind"),
        CheckConstraint(_in("precision", PRECISIONS), name="precision"),
        CheckConstraint(_in("status", ("active", "suspended", "ended")), name="status"),
        # a date is present exactly when its precision is known
        CheckConstraint(
            "(precision = 'unknown') = (established_on IS NULL)", name="date_matches_precision"
        ),
        CheckConstraint(
            "(established_on IS NULL) = (anniversary_md IS NULL)", name="anniversary_md_set"
        ),
    )

    id: Mapped[intpk]
    home_city_id: Mapped[int] = mapped_column(ForeignKey("city.id"))
    partner_city_id: Mapped[int] = mapped_column(ForeignKey("city.id"))
    kind: Mapped[str] = mapped_column(String(20), default="sister_city")
    #: the day the tie was made, truncated to its precision (1979-03 is stored as 1979-03-01)
    established_on: Mapped[dt.date | None] = mapped_column(Date)
    precision: Mapped[str] = mapped_column(String(10), default="unknown")
    #: month*100 + day of the anniversary as reminded (month precision: day 1; year: 0101);
    #: indexed so the daily reminder query finds the day's anniversaries without a scan
    anniversary_md: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    source: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")

    home_city: Mapped[City] = relationship(foreign_keys=[home_city_id])
    partner_city: Mapped[City] = relationship(foreign_keys=[partner_city_id])


class Contact(Base):
    __tablename__ = "contact"
    __table_args__ = (
        UniqueConstraint("city_id", "email"),
        CheckConstraint(_in("gender", ("female", "male", "")), name="gender"),
    )

    id: Mapped[intpk]
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    #: name in the contact's own script ("小池 百合子")
    name_native: Mapped[short_str]
    #: name in Latin script ("Yuriko Koike")
    name_latin: Mapped[short_str]
    #: "Governor", "Mayor", ...
    title: Mapped[str] = mapped_column(String(200), default="")
    #: form of address as given by the partner ("H.E.", "Dr.", "Mme"); never guessed
    honorific: Mapped[str] = mapped_column(String(100), default="")
    office: Mapped[str] = mapped_column(String(300), default="")
    #: office rank for the form of address (flows.domain.address.RANKS: mayor, governor, ...); "" = not recorded
    rank: Mapped[str] = mapped_column(String(30), default="", server_default="")
    #: "female", "male" or "" (not recorded); never guessed from the name
    gender: Mapped[str] = mapped_column(String(10), default="", server_default="")
    #: family name in the native script ("Петров", "山田") and in Latin script; "" = not recorded
    family_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    family_name_latin: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: salutations an organizer wrote by hand, by language ({"fr": "Madame la Présidente,"})
    salutations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    email: Mapped[str] = mapped_column(String(320))
    #: BCP 47 tag of the language the contact prefers
    language: Mapped[str] = mapped_column(String(35))
    is_opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    #: addresses that may answer invitations for the contact (an aide: iMIP SENT-BY),
    #: lower-case, separated by spaces; a reply from anyone else is refused
    reply_delegates: Mapped[str] = mapped_column(Text, default="", server_default="")

    city: Mapped[City] = relationship(back_populates="contacts")


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint(
            _in("kind", ("conference", "symposium", "festival", "delegation_visit", "other")),
            name="kind",
        ),
        CheckConstraint(_in("status", EVENT_STATUSES), name="status"),
        CheckConstraint("end_dt > start_dt", name="ends_after_start"),
        UniqueConstraint("series", "edition"),
    )

    id: Mapped[intpk]
    #: stable handle used on the command line and in file names
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    #: titles by language; "en" always present
    titles: Mapped[dict[str, str]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(20))
    series: Mapped[str | None] = mapped_column(String(200))
    edition: Mapped[int | None] = mapped_column(Integer)
    host_city_id: Mapped[int] = mapped_column(ForeignKey("city.id"))
    venue: Mapped[str] = mapped_column(String(300), default="")
    venue_address: Mapped[str] = mapped_column(String(500), default="")
    #: IANA zone in which the event happens; times are stored in UTC
    timezone: Mapped[str] = mapped_column(String(64))
    start_dt: Mapped[utc_datetime]
    end_dt: Mapped[utc_datetime]
    status: Mapped[str] = mapped_column(String(12), default="draft")
    #: how precisely the dates are known: "day" for planned events; historical records
    #: may be known only to the month or year (stored as the first day of it)
    date_precision: Mapped[str] = mapped_column(String(10), default="day")
    #: sources and caveats (historical records)
    note: Mapped[str] = mapped_column(Text, default="")
    is_bilingual: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the calendar UID of the event as a whole (feeds, CalDAV)
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    #: SEQUENCE of the event component; bumped on every significant change
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    #: who is invited, as in the spec: {"ties": "all"|kind, "cities": [...], "districts": bool}
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: the spec as last applied (for computing what changed)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: agreements signed and follow-ups: {"agreements": [...], "follow_ups": [...]}
    outcomes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_dt: Mapped[utc_datetime]
    updated_dt: Mapped[utc_datetime]

    host_city: Mapped[City] = relationship()
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event", order_by="EventSession.start_dt", cascade="all, delete-orphan"
    )


class EventSession(Base):
    __tablename__ = "event_session"
    __table_args__ = (
        UniqueConstraint("event_id", "key"),
        CheckConstraint("end_dt > start_dt", name="ends_after_start"),
    )

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    #: stable key from the spec, so a renamed session keeps its calendar entry
    key: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    start_dt: Mapped[utc_datetime]
    end_dt: Mapped[utc_datetime]
    room: Mapped[str] = mapped_column(String(200), default="")
    topic: Mapped[str] = mapped_column(Text, default="")
    speakers: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: cities whose delegations take part (names); empty = everyone
    cities: Mapped[list[str]] = mapped_column(JSON, default=list)
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    is_cancelled: Mapped[bool] = mapped_column(Boolean, default=False)

    event: Mapped[Event] = relationship(back_populates="sessions")


class Invitation(Base):
    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("event_id", "contact_id"),
        UniqueConstraint("reference_year", "reference_number"),
        CheckConstraint(_in("rsvp_state", RSVP_STATES), name="rsvp_state"),
    )

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    #: calendar UID of this contact's copy of the event; never changes
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    #: SEQUENCE last sent to this contact
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    #: language the letter was written in, and whether it fell back to English
    letter_language: Mapped[str | None] = mapped_column(String(35))
    is_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    rsvp_state: Mapped[str] = mapped_column(String(14), default="needs-action")
    #: when the reply was made (its DTSTAMP) and to which SEQUENCE it answered
    rsvp_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rsvp_sequence: Mapped[int | None] = mapped_column(Integer)
    delegated_to: Mapped[str | None] = mapped_column(String(320))
    created_dt: Mapped[utc_datetime]
    #: the letter's reference: number ``reference_number`` of the office's ``reference_year``
    #: (printed through the office's reference pattern, e.g. 京外办函〔2027〕23号)
    reference_year: Mapped[int | None] = mapped_column(Integer)
    reference_number: Mapped[int | None] = mapped_column(Integer)

    event: Mapped[Event] = relationship()
    contact: Mapped[Contact] = relationship()


class ReferenceCounter(Base):
    """The office's outgoing-letter counter, one row per year; numbers are never reused."""

    __tablename__ = "reference_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: the last number given out in ``year``
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class OutboxMessage(Base):
    """The delivery ledger: a message is claimed here before it is sent and confirmed after."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("purpose", "recipient", "occurrence"),
        CheckConstraint(_in("state", ("claimed", "sent", "failed")), name="state"),
    )

    id: Mapped[intpk]
    #: invitation | reminder (the invitation again, to who has not answered) | update |
    #: cancel | reminder-digest (the anniversary digest)
    purpose: Mapped[str] = mapped_column(String(30))
    #: lower-cased e-mail address
    recipient: Mapped[str] = mapped_column(String(320))
    #: what makes the message distinct for this purpose and recipient: "UID:SEQUENCE:invite"
    #: for an invitation, "UID:SEQUENCE:YYYY-MM-DD" for a reminder, "UID:SEQUENCE" for an
    #: update or cancellation, "reminders:YYYY-MM-DD" for a digest
    occurrence: Mapped[str] = mapped_column(String(200))
    #: kept from the first claim, so that a re-send after a crash carries the same one
    message_id: Mapped[str] = mapped_column(String(300))
    #: claimed (being sent, or its run died) → sent or failed; the next run claims a failed
    #: message again (a failed digest counts as done)
    state: Mapped[str] = mapped_column(String(10), default="claimed")
    #: "host:pid:random" of the run holding the claim (for a digest, random only): a claim
    #: whose process is gone on this host, or older than the lease, is taken over
    claim_token: Mapped[str] = mapped_column(String(64))
    #: when the current claim was made (a takeover stamps it again)
    claimed_dt: Mapped[utc_datetime]
    sent_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: delivery attempts of the last send (SMTP retries transient failures); for a digest,
    #: how many times it was claimed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: why the last send failed (permanent refusal, or transient after every retry); cleared
    #: when the row is claimed again
    error: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("event.id", ondelete="SET NULL"), index=True
    )
    #: where the transport put it: the file in the Maildir outbox, or smtp://host:port
    path: Mapped[str | None] = mapped_column(String(1000))


class Reminder(Base):
    """One row per (tie, milestone, lead time): a reminder is sent once or recorded as missed."""

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("tie_id", "milestone", "lead_days"),
        CheckConstraint(_in("state", ("claimed", "sent", "missed", "superseded")), name="state"),
    )

    id: Mapped[intpk]
    tie_id: Mapped[int] = mapped_column(ForeignKey("tie.id", ondelete="CASCADE"))
    #: years since the tie was made (10, 20, 25, ...)
    milestone: Mapped[int] = mapped_column(Integer)
    lead_days: Mapped[int] = mapped_column(Integer)
    anniversary_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="claimed")
    #: the office day whose digest carried it
    digest_date: Mapped[dt.date | None] = mapped_column(Date)
    created_dt: Mapped[utc_datetime]


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("event_id", "contact_id"),
        UniqueConstraint("event_id", "walk_in_name", "city_id"),
        CheckConstraint("delegation_size >= 0", name="delegation_size"),
        # either an invited contact or a walk-in with a name
        CheckConstraint(
            "(contact_id IS NULL) <> (walk_in_name IS NULL)", name="contact_or_walk_in"
        ),
    )

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    walk_in_name: Mapped[str | None] = mapped_column(String(200))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id"))
    #: a walk-in's city and ISO country as written on the sheet: walk-ins often come from
    #: cities that are not partners (no City row), and the report still names them
    walk_in_city: Mapped[str | None] = mapped_column(String(200))
    walk_in_country: Mapped[str | None] = mapped_column(String(2))
    is_attended: Mapped[bool] = mapped_column(Boolean)
    delegation_size: Mapped[int] = mapped_column(Integer, default=1)
    notes: Mapped[str] = mapped_column(Text, default="")
    #: rows made by the demo, labelled as such in every output
    is_simulated: Mapped[bool] = mapped_column(Boolean, default=False)


class Report(Base):
    __tablename__ = "report"
    __table_args__ = (UniqueConstraint("event_id", "language"),)

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(35))
    generated_dt: Mapped[utc_datetime]
    #: folder holding report.html, report.pdf, report.md, contacts.csv
    path: Mapped[str] = mapped_column(String(1000))
    #: the headline figures, for comparisons across editions
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EventTransition(Base):
    """Every status change of an event, in order: the lifecycle's log."""

    __tablename__ = "event_transition"

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    at_dt: Mapped[utc_datetime]
    note: Mapped[str] = mapped_column(Text, default="")


class CaldavResource(Base):
    """One calendar object amity put on a CalDAV server: kept to update or delete it safely."""

    __tablename__ = "caldav_resource"
    __table_args__ = (UniqueConstraint("calendar_url", "uid"),)

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    #: the collection the object lives in (a publish to another server starts afresh)
    calendar_url: Mapped[str] = mapped_column(String(1000))
    #: UID of the VEVENT (the event's or one session's)
    uid: Mapped[str] = mapped_column(String(200))
    href: Mapped[str] = mapped_column(String(1000))
    #: the server's ETag, sent back as If-Match so a change made on the server is not overwritten
    etag: Mapped[str] = mapped_column(String(200))
    #: sha256 of the bytes last uploaded: equal bytes are not uploaded again
    digest: Mapped[str] = mapped_column(String(64))
    published_dt: Mapped[utc_datetime]


class CalendarSnapshot(Base):
    """The event's calendar as it stood when a SEQUENCE was sent to invitees.

    An update says what changed since the version the contact holds (Invitation.sequence),
    so the state at each sent SEQUENCE is kept: language-neutral data, not rendered .ics.
    """

    __tablename__ = "calendar_snapshot"
    __table_args__ = (UniqueConstraint("event_id", "sequence"),)

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    #: Event.sequence at the time of the snapshot
    sequence: Mapped[int] = mapped_column(Integer)
    #: {"event": {...times, venue, titles, status}, "sessions": {key: {...}}}
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    taken_dt: Mapped[utc_datetime]


Index("ix_tie_partner_city_id", Tie.partner_city_id)


class MailboxMessage(Base):
    """A message of the office's mailbox that `amity rsvp fetch` has read, so it is read once.

    Keyed by the mailbox's (folder, UIDVALIDITY, UID) and looked up by Message-ID too: a
    fetch that dies after the commit but before marking the message in the mailbox, or a
    message copied to another folder, finds its row and changes nothing.
    """

    __tablename__ = "mailbox_message"
    __table_args__ = (
        UniqueConstraint("account", "folder", "uidvalidity", "uid"),
        CheckConstraint(_in("kind", MAILBOX_KINDS), name="kind"),
    )

    id: Mapped[intpk]
    #: "user@host" of the IMAP account
    account: Mapped[str] = mapped_column(String(300))
    folder: Mapped[str] = mapped_column(String(300))
    #: IMAP UIDVALIDITY and UID (unsigned 32-bit numbers, hence BigInteger)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    #: the Message-ID header as "<id@host>" (the ledger's form); None when the message has none
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    #: reply (iMIP REPLY) | bounce (a DSN for one of amity's messages) | needs-person (a
    #: plain answer to read) | ignored (anything else: left alone in the mailbox)
    kind: Mapped[str] = mapped_column(String(20))
    #: what was done: "recorded", the reasons a reply was refused, the bounce status ...
    outcome: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    #: the From address, lower-cased
    sender: Mapped[str] = mapped_column(String(320), default="")
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("event.id", ondelete="SET NULL"), index=True
    )
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL")
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    processed_dt: Mapped[utc_datetime]
    #: flagged with the keyword or moved in the mailbox (False: the next fetch marks it)
    is_marked: Mapped[bool] = mapped_column(Boolean, default=False)


class Bounce(Base):
    """A delivery status notification saying one of amity's messages could not be delivered.

    The address stays failing while the contact's e-mail equals ``address``: changing the
    contact's address ends it, without touching this row (the history stays).
    """

    __tablename__ = "bounce"
    __table_args__ = (UniqueConstraint("mailbox_message_id", "address"),)

    id: Mapped[intpk]
    mailbox_message_id: Mapped[int] = mapped_column(
        ForeignKey("mailbox_message.id", ondelete="CASCADE")
    )
    #: the ledger row of the message that bounced (None: matched by recipient only, or gone)
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    #: the failed recipient, lower-cased
    address: Mapped[str] = mapped_column(String(320), index=True)
    #: RFC 3463 status ("5.1.1") and the remote server's words (Diagnostic-Code)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    reported_dt: Mapped[utc_datetime]


class Approval(Base):
    """A review of rendered messages and the decision on it: who sent what abroad, and why.

    Everything a run would send is rendered first; its bytes are kept under the review (with
    LF line ends, as a Maildir stores them; SMTP sends them with CRLF) and their digest
    recorded here. A decision applies to exactly those bytes: the data they were rendered
    from (``data_digest``) must be unchanged when they go out.
    """

    __tablename__ = "approval"
    __table_args__ = (
        CheckConstraint(
            _in("decision", ("pending", "approved", "rejected", "expired", "superseded")),
            name="decision",
        ),
        CheckConstraint(_in("mode", ("record", "pause", "suspend")), name="mode"),
    )

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    #: the ledger's purpose and occurrence of the messages (invitation / reminder)
    purpose: Mapped[str] = mapped_column(String(30))
    occurrence: Mapped[str] = mapped_column(String(200))
    #: the Prefect flow run that rendered the messages (and waits, when paused or suspended)
    flow_run_id: Mapped[str] = mapped_column(String(36), index=True)
    #: how a decision reaches the run: "record" (the run ended; `amity approve` sends),
    #: "pause" (the run waits in its process), "suspend" (it resumes on a worker)
    mode: Mapped[str] = mapped_column(String(10))
    #: pending → approved | rejected | expired | superseded (a newer review of the same event)
    decision: Mapped[str] = mapped_column(String(12), default="pending")
    #: sha256 over every reviewed message (recipient, Message-ID, the bytes' sha256)
    digest: Mapped[str] = mapped_column(String(64))
    #: sha256 of the data the messages were rendered from (contacts, event, invitations)
    data_digest: Mapped[str] = mapped_column(String(64))
    message_count: Mapped[int] = mapped_column(Integer)
    #: what the reviewer saw: counts by language, preflight warnings, samples, recipients
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the reviewed messages: e-mail, city, Message-ID, the kept .eml copy, its sha256 …
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    requested_dt: Mapped[utc_datetime]
    #: a pending review past this time is expired: nothing of it is sent
    expires_dt: Mapped[utc_datetime]
    #: when the approved messages go out (None: as soon as approved)
    send_at_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: the Prefect flow run scheduled to send at ``send_at_dt``
    scheduled_run_id: Mapped[str | None] = mapped_column(String(36))
    decided_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    #: when the approved messages were handed to the delivery ledger
    sent_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
