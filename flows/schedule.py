"""The schedule: calendar feeds, the CalDAV copy, and the updates invitees receive.

``publish_schedule`` writes the event's feed (the event and each session), a feed per partner
city and one per invited contact, then optionally puts one resource per VEVENT on a CalDAV
server. ``send_changes`` follows ``amity events apply`` / ``amity events cancel``: every
contact whose invitation went out gets ONE message per change — METHOD:REQUEST with the full
current event and a short summary of what changed in their language, or METHOD:CANCEL —
through the delivery ledger, so a repeated or resumed run sends nothing twice.

To say what changed, the calendar as it stood at each SEQUENCE sent is kept
(CalendarSnapshot); a contact is compared with the version they hold (Invitation.sequence).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_datetime, format_time
from icalendar import Calendar
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from db.calendars import (
    baseline_snapshot,
    cal_session,
    calendar_event,
    event_from_snapshot,
    live_sessions,
    primary_language,
    record_snapshot,
    snapshots_of,
    takes_part,
)
from db.events import find_event, invited_contacts, record_transition
from db.models import (
    CaldavResource,
    City,
    Contact,
    Event,
    Invitation,
    OutboxMessage,
)
from db.session import session_scope
from flows.domain.changes import (
    EVENT_KEY,
    ChangeSet,
    ComponentChange,
    compute_changes,
    summarize_changes,
)
from flows.domain.clock import zone
from flows.domain.ical import (
    CalEvent,
    Person,
    caldav_objects,
    cancel_ics,
    feed_ics,
    invitation_ics,
    session_cancel_ics,
    subset_feeds,
)
from flows.domain.mail import MailError, build_imip_message, make_message_id
from flows.domain.slug import slugify
from flows.outbound.atomic import write_atomically
from flows.outbound.caldav import CalDavClient, CalDavError, Published
from flows.outbound.ledger import chunks, send_manifest
from flows.outbound.outputs import (
    calendar_dir,
    changes_dir,
    contact_file_stem,
    contact_id_of,
    invitation_dir,
)

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates" / "mail"
#: languages the update and cancellation mails are written in; others get English
MAIL_LANGUAGES = ("en", "zh", "ja")
#: ledger purposes whose confirmed rows mean "this contact holds the event in a calendar"
_DELIVERED = ("invitation", "reminder", "update")


class ScheduleError(Exception):
    """Publishing failed; the feed files were written and nothing local was lost."""


# --- calendar data from the database ---------------------------------------------------------


def mail_language(tag: str) -> str:
    lang = primary_language(tag)
    return lang if lang in MAIL_LANGUAGES else "en"


# --- snapshots: the calendar at each SEQUENCE sent -------------------------------------------


def invitation_files(settings: Settings, slug: str) -> dict[int, Path]:
    """contact id -> the invitation .ics written for them (``<city>/<name>-<id>.ics``)."""
    found: dict[int, Path] = {}
    for path in sorted(invitation_dir(settings, slug).glob("*/*.ics")):
        contact_id = contact_id_of(path)
        if contact_id is not None:
            found[contact_id] = path
    return found


def sent_invitation(path: Path | None) -> CalEvent | None:
    """The event as the contact's invitation showed it, read back from the .ics written then.

    Used when no snapshot exists yet (invitations went out before any calendar run): the
    event's own fields can still be compared, the sessions cannot.
    """
    if path is None:
        return None
    try:
        vevent = Calendar.from_ical(path.read_bytes()).events[0]
        return CalEvent(
            uid=str(vevent["UID"]),
            sequence=int(vevent.get("SEQUENCE", 0)),
            summary=str(vevent.get("SUMMARY", "")),
            start=vevent.DTSTART.astimezone(dt.UTC),
            end=vevent.DTEND.astimezone(dt.UTC),
            tzid=str(vevent["DTSTART"].params.get("TZID", "UTC")),
            description=str(vevent.get("DESCRIPTION", "")),
            location=str(vevent.get("LOCATION", "")),
            categories=tuple(str(c) for c in vevent.categories),
            status=str(vevent.get("STATUS", "CONFIRMED")),
        )
    except (OSError, ValueError, KeyError, IndexError, AttributeError):
        return None


# --- feeds -----------------------------------------------------------------------------------


def _feed_name(title: str, who: str = "") -> str:
    return f"{title} — {who}" if who else title


def write_feeds(
    session: Session, event: Event, settings: Settings, out: Path | None = None
) -> dict[str, Any]:
    """The event feed, one feed per partner city and one per invited contact; returns paths.

    DTSTAMP is the event's last change, so the bytes stay the same while nothing changes.
    """
    folder = out or calendar_dir(settings, event.slug)
    stamp = event.updated_dt
    sessions = live_sessions(event)
    cal_sessions = [cal_session(s) for s in sessions]
    home_lang = primary_language(settings.home_city.language)
    home_event = calendar_event(event, home_lang)
    main = folder / f"{slugify(event.slug)}.ics"
    write_atomically(
        main, feed_ics(home_event, cal_sessions, name=_feed_name(home_event.summary), stamp=stamp)
    )
    contacts = invited_contacts(session, event)
    cities = {c.city.name: c.city for c in contacts}
    partner_files: dict[str, str] = {}
    by_lang: dict[str, dict[str, list[str]]] = {}
    for name, city in sorted(cities.items()):
        members = [s.uid for s in sessions if takes_part(s, name)]
        by_lang.setdefault(primary_language(city.language), {})[f"partner:{name}"] = members
    contact_files: dict[str, str] = {}
    for contact in contacts:
        if contact.is_opted_out:
            continue
        members = [s.uid for s in sessions if takes_part(s, contact.city.name)]
        by_lang.setdefault(primary_language(contact.language), {})[f"contact:{contact.id}"] = (
            members
        )
    by_id = {c.id: c for c in contacts}
    for lang, members_by_key in sorted(by_lang.items()):
        shown = calendar_event(event, lang)
        feeds = subset_feeds(
            shown, cal_sessions, members_by_key, name=_feed_name(shown.summary), stamp=stamp
        )
        for key, data in feeds.items():
            kind, _, ident = key.partition(":")
            if kind == "partner":
                path = folder / "partners" / f"{slugify(ident)}.ics"
                partner_files[ident] = str(path)
            else:
                contact = by_id[int(ident)]
                stem = contact_file_stem(
                    contact.city.name, contact.name_latin, contact.email, contact.id
                )
                path = folder / "contacts" / f"{stem}.ics"
                contact_files[contact.email] = str(path)
            write_atomically(path, data)
    return {
        "feed": str(main),
        "partners": dict(sorted(partner_files.items())),
        "contacts": dict(sorted(contact_files.items())),
        "sessions": len(cal_sessions),
    }


# --- CalDAV ----------------------------------------------------------------------------------


def publish_caldav(
    session: Session, event: Event, url: str, settings: Settings, now: dt.datetime
) -> dict[str, Any]:
    """Make the collection at ``url`` hold the event and its live sessions; remember the etags.

    What reached the server is recorded even when some resources fail, then ScheduleError.
    """
    home_lang = primary_language(settings.home_city.language)
    objects = caldav_objects(
        calendar_event(event, home_lang),
        [cal_session(s) for s in live_sessions(event)],
        event.updated_dt,
    )
    caldav = settings.caldav
    password = caldav.password.get_secret_value() if caldav.password else None
    with CalDavClient(url, caldav.username, password, timeout=caldav.timeout_seconds) as client:
        rows = {
            row.uid: row
            for row in session.scalars(
                select(CaldavResource).where(
                    CaldavResource.event_id == event.id, CaldavResource.calendar_url == client.url
                )
            )
        }
        known = {uid: Published(row.etag, row.digest) for uid, row in rows.items()}
        error: CalDavError | None = None
        try:
            client.ensure_calendar()
        except CalDavError as exc:
            raise ScheduleError(f"CalDAV {client.url}: {exc}") from exc
        except Exception as exc:  # connection refused, DNS, TLS: say where, keep the files
            raise ScheduleError(f"CalDAV {client.url}: {type(exc).__name__}: {exc}") from exc
        try:
            result = client.publish(objects, known=known)
        except CalDavError as exc:
            result, error = exc.result, exc
        for uid, published in result.published.items():
            row = rows.get(uid)
            if row is None:
                session.add(
                    CaldavResource(
                        event_id=event.id,
                        calendar_url=client.url,
                        uid=uid,
                        href=client.resource_url(uid),
                        etag=published.etag,
                        digest=published.digest,
                        published_dt=now,
                    )
                )
            elif (row.etag, row.digest) != (published.etag, published.digest):
                row.etag, row.digest, row.published_dt = published.etag, published.digest, now
        gone = [uid for uid in rows if uid not in result.published]
        if gone:
            session.execute(
                delete(CaldavResource).where(
                    CaldavResource.event_id == event.id,
                    CaldavResource.calendar_url == client.url,
                    CaldavResource.uid.in_(gone),
                )
            )
        summary = {
            "url": client.url,
            "created": sorted(result.created),
            "updated": sorted(result.updated),
            "unchanged": sorted(result.unchanged),
            "deleted": sorted(result.deleted),
        }
    if error is not None:
        # commit what did reach the server before failing, so the next run knows it
        session.commit()
        raise ScheduleError(
            f"{error}\nThe feed files are written; run again once the server is fixed."
        )
    return summary


# --- the schedule flow -----------------------------------------------------------------------


@dataclass
class ScheduleSummary:
    event: str
    status: str
    feed: str
    partners: dict[str, str] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)
    sessions: int = 0
    caldav: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _invitations_went_out(session: Session, event: Event) -> bool:
    return (
        session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.event_id == event.id,
                OutboxMessage.purpose == "invitation",
                OutboxMessage.state == "sent",
            )
            .limit(1)
        )
        is not None
    )


@task
def write_schedule(event_ref: str, out: str | None, now: dt.datetime) -> dict[str, Any]:
    """Write the feeds and keep the calendar's state at this SEQUENCE."""
    settings = get_settings()
    with session_scope() as session:
        event = find_event(session, event_ref)
        files = write_feeds(session, event, settings, Path(out) if out else None)
        record_snapshot(session, event, now, replace_existing=False)
        return {"slug": event.slug, "status": event.status, **files}


@task
def publish_schedule_caldav(event_ref: str, url: str, now: dt.datetime) -> dict[str, Any]:
    """PUT/DELETE the event's resources on the CalDAV collection at ``url``."""
    settings = get_settings()
    with session_scope() as session:
        event = find_event(session, event_ref)
        return publish_caldav(session, event, url, settings, now)


@task
def mark_scheduled(event_ref: str, now: dt.datetime) -> str:
    """draft/inviting -> scheduled once invitations went out and the schedule is published."""
    with session_scope() as session:
        event = find_event(session, event_ref)
        if event.status in ("draft", "inviting") and _invitations_went_out(session, event):
            record_transition(session, event, "scheduled", now, "schedule published")
        return event.status


@flow(name="publish schedule", flow_run_name="schedule: {event}")
def publish_schedule(
    event: str, out: str | None = None, publish: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Write the event's calendar feeds (event, partners, contacts) and publish them by CalDAV."""
    now = now or dt.datetime.now(dt.UTC)
    files = write_schedule(event, out, now)
    summary = ScheduleSummary(
        event=files["slug"],
        status=files["status"],
        feed=files["feed"],
        partners=files["partners"],
        contacts=files["contacts"],
        sessions=files["sessions"],
    )
    url = publish or get_settings().caldav.url
    if url:
        summary.caldav = publish_schedule_caldav(event, url, now)
    summary.status = mark_scheduled(event, now)
    _schedule_artifact(summary)
    return summary.to_dict()


def _schedule_artifact(summary: ScheduleSummary) -> None:
    lines = [
        f"# Calendar of {summary.event}",
        "",
        f"- feed ({summary.sessions} sessions): [{Path(summary.feed).name}](file://{summary.feed})",
    ]
    lines += [
        f"- partner {name}: [{Path(p).name}](file://{p})" for name, p in summary.partners.items()
    ]
    lines.append(
        f"- {len(summary.contacts)} contact feeds under `{Path(summary.feed).parent / 'contacts'}`"
    )
    if summary.caldav:
        c = summary.caldav
        lines.append(
            f"- CalDAV {c['url']}: {len(c['created'])} created, {len(c['updated'])} updated, "
            f"{len(c['unchanged'])} unchanged, {len(c['deleted'])} deleted"
        )
    create_markdown_artifact(
        markdown="\n".join(lines) + "\n",
        key=f"schedule-{slugify(summary.event)}"[:60].lower().replace("_", "-"),
        description=f"Calendar files of {summary.event}",
    )


# --- updates and cancellations ---------------------------------------------------------------


@cache
def _mail_env() -> Environment:
    # One environment for the update/cancel family; StrictUndefined stops the run on a
    # missing field before anything is sent, autoescape keeps names out of the HTML markup.
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def when_text(start: dt.datetime, end: dt.datetime, tzid: str, lang: str) -> str:
    tz, locale = zone(tzid), _locale(lang)
    shown_end = (
        format_time(end, "short", tzinfo=tz, locale=locale)
        if start.astimezone(tz).date() == end.astimezone(tz).date()
        else format_datetime(end, "medium", tzinfo=tz, locale=locale)
    )
    return f"{format_datetime(start, 'medium', tzinfo=tz, locale=locale)} – {shown_end} ({tzid})"


def render_notice(kind: str, lang: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """Subject, text and HTML of an update or cancellation notice in ``lang`` (else English)."""
    env = _mail_env()
    try:
        env.get_template(f"{kind}.{lang}.txt")
    except TemplateNotFound:
        lang = "en"
    subject = env.get_template(f"{kind}.{lang}.subject.txt").render(context).strip()
    return (
        subject,
        env.get_template(f"{kind}.{lang}.txt").render(context),
        env.get_template(f"{kind}.{lang}.html").render(context),
    )


def contact_changes(
    event: Event,
    baseline: Mapping[str, Any] | None,
    fallback: CalEvent | None,
    *,
    uid: str,
    held_sequence: int,
    city: str,
    lang: str,
) -> tuple[ChangeSet | None, CalEvent]:
    """What changed for one contact since the version they hold, and the event as it is now."""
    now_event = calendar_event(event, lang, uid=uid)
    now_sessions = {s.key: cal_session(s) for s in live_sessions(event) if takes_part(s, city)}
    if baseline is not None:
        old = event_from_snapshot(baseline)
        old_event = calendar_event(old, lang, uid=uid, sequence=held_sequence)
        old_sessions = {s.key: cal_session(s) for s in live_sessions(old) if takes_part(s, city)}
        changes = compute_changes(old_event, old_sessions, now_event, now_sessions)
        programme_only = changes.event is not None and changes.event.fields == ("description",)
        if programme_only and (changes.sessions or changes.added or changes.removed):
            # the event's text lists the programme: the session lines already say what moved
            changes = replace(changes, event=None)
        return changes, now_event
    if fallback is not None:
        # the invitation may be in another language than this notice: compare what matters
        old_event = replace(fallback, uid=uid, summary=now_event.summary)
        return compute_changes(old_event, {}, now_event, {}), now_event
    return None, now_event


def _contact_rows(session: Session, event: Event) -> list[dict[str, Any]]:
    """Invited contacts holding an older SEQUENCE than the event's, whose invitation went out."""
    delivered = set(
        session.scalars(
            select(OutboxMessage.recipient).where(
                OutboxMessage.event_id == event.id,
                OutboxMessage.purpose.in_(_DELIVERED),
                OutboxMessage.state == "sent",
            )
        )
    )
    rows = []
    query = (
        select(Invitation, Contact, City.name)
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(City, City.id == Contact.city_id)
        .where(Invitation.event_id == event.id)
        .order_by(Contact.city_id, Contact.email)
    )
    for invitation, contact, city in session.execute(query):
        if contact.email.lower() not in delivered or invitation.sequence >= event.sequence:
            continue
        rows.append(
            {
                "contact_id": contact.id,
                "email": contact.email,
                "name_native": contact.name_native,
                "name_latin": contact.name_latin,
                "language": contact.language,
                "city": city,
                "is_opted_out": contact.is_opted_out,
                "uid": invitation.uid,
                "held_sequence": invitation.sequence,
            }
        )
    return rows


def _fallback_line(current: CalEvent, lang: str, *, cancelled: bool) -> list[str]:
    """The summary when the version a contact holds is unknown: say cancelled, or "updated"."""
    fields = ("status",) if cancelled else ("description",)
    before = replace(current, status="CONFIRMED") if cancelled else current
    change = ComponentChange(EVENT_KEY, current.uid, fields, current.sequence)
    synthetic = ChangeSet(old_event=before, new_event=current, event=change, cancelled=cancelled)
    return summarize_changes(synthetic, lang)


def render_change(
    event: Event,
    row: Mapping[str, Any],
    baseline: Mapping[str, Any] | None,
    settings: Settings,
    now: dt.datetime,
    *,
    fallback: CalEvent | None = None,
) -> dict[str, Any] | None:
    """The REQUEST or CANCEL message of one contact, in memory; None when nothing differs.

    ``baseline`` is the snapshot of the version the contact holds; without one, ``fallback``
    is the event as their invitation showed it.
    """
    lang = mail_language(row["language"])
    changes, current = contact_changes(
        event,
        baseline,
        fallback,
        uid=row["uid"],
        held_sequence=row["held_sequence"],
        city=row["city"],
        lang=lang,
    )
    cancelled = event.status == "cancelled"
    if changes is not None and not changes and not cancelled:
        return None  # e.g. a session moved and moved back: the contact's copy is current
    lines = summarize_changes(changes, lang) if changes else []
    lines = lines or _fallback_line(current, lang, cancelled=cancelled)
    organizer = Person(settings.office.email, settings.office.name)
    attendee = Person(row["email"], row["name_latin"] or row["name_native"])
    attachments: list[tuple[str, str, bytes]] = []
    if cancelled:
        purpose, method = "cancel", "CANCEL"
        ics = cancel_ics(current, organizer=organizer, attendees=[attendee], stamp=now)
    else:
        purpose, method = "update", "REQUEST"
        ics = invitation_ics(current, organizer=organizer, attendee=attendee, stamp=now)
        # one message per contact per change: a removed session's CANCEL rides along
        removed = {c.key for c in changes.removed} if changes else set()
        for s in event.sessions:
            if s.key in removed:
                data = session_cancel_ics(
                    current, cal_session(s), organizer=organizer, attendees=[attendee], stamp=now
                )
                attachments.append(
                    (f"cancel-{slugify(s.key)}.ics", "text/calendar; method=CANCEL", data)
                )
    native = lang == primary_language(settings.office.language)
    context = {
        "name": (row["name_native"] if lang in ("zh", "ja") else row["name_latin"])
        or row["name_native"],
        "title": current.summary,
        "lines": lines,
        "when": when_text(current.start, current.end, current.tzid, lang),
        "place": current.location,
        "office": settings.office.native_name if native else settings.office.name,
    }
    subject, text, html = render_notice(purpose, lang, context)
    message_id = make_message_id(
        row["uid"], event.sequence, purpose, domain=settings.office.mail_domain
    )
    try:
        message = build_imip_message(
            from_addr=settings.office.email,
            from_name=settings.office.name,
            to_addr=row["email"],
            to_name=row["name_latin"] or row["name_native"],
            subject=subject,
            text=text,
            html=html,
            ics=ics,
            method=method,
            attachments=attachments,
            message_id=message_id,
            date=now,
        )
    except MailError as exc:
        raise ScheduleError(f"{purpose} to {row['email']} ({row['city']}): {exc}") from exc
    return {
        "purpose": purpose,
        "ics": ics,
        "message": message,
        "message_id": message_id,
        "lines": lines,
        "language": lang,
    }


@task
def plan_changes(event_ref: str) -> dict[str, Any]:
    """Who holds an older version of the event, and the snapshot each one holds."""
    with session_scope() as session:
        event = find_event(session, event_ref)
        rows = _contact_rows(session, event)
        return {
            "event_id": event.id,
            "slug": event.slug,
            "sequence": event.sequence,
            "status": event.status,
            "recipients": rows,
        }


@task
def render_changes(
    event_id: int, rows: list[dict[str, Any]], now: dt.datetime
) -> list[dict[str, Any]]:
    """Render every message first (a template or address problem stops the run before sending)."""
    settings = get_settings()
    manifest = []
    with session_scope() as session:
        event = session.get(Event, event_id)
        assert event is not None
        snapshots = snapshots_of(session, event.id)
        files: dict[int, Path] | None = None  # listed once, and only if needed
        for row in rows:
            baseline = baseline_snapshot(snapshots, row["held_sequence"])
            fallback = None
            if baseline is None:
                if files is None:
                    files = invitation_files(settings, event.slug)
                fallback = sent_invitation(files.get(row["contact_id"]))
            item = render_change(event, row, baseline, settings, now, fallback=fallback)
            if item is None:
                continue
            base = changes_dir(settings, event.slug, item["purpose"]) / contact_file_stem(
                row["city"], row["name_latin"], row["email"], row["contact_id"]
            )
            base.parent.mkdir(parents=True, exist_ok=True)
            base.with_suffix(".ics").write_bytes(item["ics"])
            base.with_suffix(".eml").write_bytes(item["message"])
            manifest.append(
                {
                    **row,
                    "purpose": item["purpose"],
                    "sequence": event.sequence,
                    "message_id": item["message_id"],
                    "eml": str(base.with_suffix(".eml")),
                    "lines": item["lines"],
                    "language": item["language"],
                }
            )
    return manifest


@task(retries=1, retry_delay_seconds=2)
def send_change_chunk(
    event_id: int, manifest: list[dict[str, Any]], now: dt.datetime
) -> dict[str, Any]:
    """Send a chunk through the delivery ledger; a confirmed send moves the SEQUENCE on."""
    return send_manifest(
        event_id,
        manifest,
        ledger_key=lambda m: (m["purpose"], f"{m['uid']}:{m['sequence']}"),
        now=now,
        on_confirmed=lambda session, sent: _move_sequences(session, event_id, sent),
    )


def _move_sequences(session: Session, event_id: int, sent: list[dict[str, Any]]) -> None:
    """The contacts now hold the SEQUENCE they were sent (never an older one)."""
    held = {m["contact_id"]: m["sequence"] for m in sent}
    for invitation in session.scalars(
        select(Invitation).where(
            Invitation.event_id == event_id, Invitation.contact_id.in_(sorted(held))
        )
    ):
        if invitation.sequence < held[invitation.contact_id]:
            invitation.sequence = held[invitation.contact_id]


@task
def refresh_schedule(event_id: int, now: dt.datetime) -> dict[str, Any]:
    """Rewrite the feeds, keep the snapshot of what was sent, update the CalDAV copies.

    Every collection the event was published to is updated (a URL given once with
    --publish is remembered in CaldavResource), plus the configured one.
    """
    settings = get_settings()
    with session_scope() as session:
        event = session.get(Event, event_id)
        assert event is not None
        files = write_feeds(session, event, settings)
        record_snapshot(session, event, now, replace_existing=True)
        slug = event.slug
        urls = set(
            session.scalars(
                select(CaldavResource.calendar_url).where(CaldavResource.event_id == event_id)
            )
        )
    if settings.caldav.url:
        urls.add(
            settings.caldav.url if settings.caldav.url.endswith("/") else settings.caldav.url + "/"
        )
    caldav: list[dict[str, Any]] = []
    for url in sorted(urls):
        try:
            with session_scope() as session:
                event = session.get(Event, event_id)
                assert event is not None
                caldav.append(publish_caldav(session, event, url, settings, now))
        except ScheduleError as exc:
            # the messages are out; a CalDAV failure is reported, not a reason to fail them
            caldav.append({"url": url, "error": str(exc)})
    return {"slug": slug, "feed": files["feed"], "caldav": caldav}


@dataclass
class ChangeSummary:
    event: str
    sequence: int
    method: str
    to_notify: int = 0
    sent: int = 0
    already_sent: int = 0
    skipped_opted_out: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    #: the summary lines each contact got, by e-mail address
    lines: dict[str, list[str]] = field(default_factory=dict)
    feed: str = ""
    #: one entry per CalDAV collection updated (or its error)
    caldav: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@flow(name="send changes", flow_run_name="changes: {event}")
def send_changes(event: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """Send each invited contact one update (REQUEST) or cancellation (CANCEL) of the event."""
    now = now or dt.datetime.now(dt.UTC)
    settings = get_settings()
    plan = plan_changes(event)
    cancelled = plan["status"] == "cancelled"
    summary = ChangeSummary(
        event=plan["slug"], sequence=plan["sequence"], method="CANCEL" if cancelled else "REQUEST"
    )
    summary.skipped_opted_out = [r["email"] for r in plan["recipients"] if r["is_opted_out"]]
    recipients = [r for r in plan["recipients"] if not r["is_opted_out"]]
    summary.to_notify = len(recipients)
    if recipients:
        manifest = render_changes(plan["event_id"], recipients, now)
        summary.lines = {m["email"]: m["lines"] for m in manifest}
        futures = [
            send_change_chunk.submit(plan["event_id"], chunk, now)
            for chunk in chunks(manifest, settings.batch_size)
        ]
        for future in futures:
            outcome = future.result()
            summary.sent += outcome["sent"]
            summary.already_sent += outcome["already_sent"]
            summary.failed += outcome["failed"]
    refreshed = refresh_schedule(plan["event_id"], now)
    summary.feed, summary.caldav = refreshed["feed"], refreshed["caldav"]
    _changes_artifact(summary)
    return summary.to_dict()


def _changes_artifact(summary: ChangeSummary) -> None:
    what = "Cancellations" if summary.method == "CANCEL" else "Updates"
    lines = [
        f"# {what} of {summary.event} (SEQUENCE {summary.sequence})",
        "",
        f"- to notify: {summary.to_notify}; {_counts_text(summary.to_dict())}",
        f"- feed: [{Path(summary.feed).name}](file://{summary.feed})",
    ]
    lines += [f"- failed: {f['email']} ({f['city']}): {f['reason']}" for f in summary.failed]
    lines += [f"- CalDAV: {c['error']}" for c in summary.caldav if "error" in c]
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
    return f"{result['method']} SEQUENCE {result['sequence']}: {_counts_text(result)}"


def iter_failures(result: Mapping[str, Any]) -> Iterable[str]:
    for failure in result["failed"]:
        yield f"{failure['email']} ({failure['city']}): {failure['reason']}"
    for caldav in result.get("caldav") or []:
        if "error" in caldav:
            yield f"CalDAV: {caldav['error']}"
