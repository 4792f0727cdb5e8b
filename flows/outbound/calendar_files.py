"""Calendar files on disk: the feeds, the invitations read back, the change messages written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from db.calendars import cal_session, calendar_event, live_sessions, takes_part
from db.events import invited_contacts
from db.models import Contact, Event, Invitation
from flows.domain.ical import CalEvent, feed_ics, subset_feeds
from flows.domain.notices import primary_language
from flows.domain.slug import slugify
from flows.domain.uids import contact_uid
from flows.outbound.atomic import write_atomically
from flows.outbound.outputs import (
    calendar_dir,
    changes_dir,
    contact_file_stem,
    contact_id_of,
    invitation_dir,
)


@dataclass(frozen=True)
class FeedFiles:
    """The feeds written for an event."""

    #: the event's own feed (the event and every live session)
    feed: str
    #: partner city -> its feed
    partners: dict[str, str] = field(default_factory=dict)
    #: contact e-mail -> their feed
    contacts: dict[str, str] = field(default_factory=dict)
    #: how many sessions the event's feed holds
    sessions: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _feed_name(title: str, who: str = "") -> str:
    return f"{title} — {who}" if who else title


def _feed_members(
    sessions: Sequence[Any], contacts: Sequence[Contact]
) -> dict[str, dict[str, list[str]]]:
    """language -> feed key ("partner:<city>", "contact:<id>") -> the session UIDs it holds."""
    cities = {c.city.name: c.city for c in contacts}
    by_lang: dict[str, dict[str, list[str]]] = {}
    for name, city in sorted(cities.items()):
        members = [s.uid for s in sessions if takes_part(s, name)]
        by_lang.setdefault(primary_language(city.language), {})[f"partner:{name}"] = members
    for contact in contacts:
        if contact.is_opted_out:
            continue
        members = [s.uid for s in sessions if takes_part(s, contact.city.name)]
        by_lang.setdefault(primary_language(contact.language), {})[f"contact:{contact.id}"] = (
            members
        )
    return by_lang


def write_feeds(
    session: Session, event: Event, settings: Settings, out: Path | None = None
) -> FeedFiles:
    """The event feed, one feed per partner city and one per invited contact; returns paths.

    DTSTAMP is the event's last change, so the bytes stay the same while nothing changes.
    """
    folder = out or calendar_dir(settings, event.slug)
    stamp = event.updated_dt
    sessions = live_sessions(event)
    cal_sessions = [cal_session(s) for s in sessions]
    home_event = calendar_event(event, primary_language(settings.home_city.language))
    main = folder / f"{slugify(event.slug)}.ics"
    write_atomically(
        main, feed_ics(home_event, cal_sessions, name=_feed_name(home_event.summary), stamp=stamp)
    )
    contacts = invited_contacts(session, event)
    by_id = {c.id: c for c in contacts}
    event_uids = contact_event_uids(session, event, contacts, settings.office.mail_domain)
    partner_files: dict[str, str] = {}
    contact_files: dict[str, str] = {}
    for lang, members_by_key in sorted(_feed_members(sessions, contacts).items()):
        shown = calendar_event(event, lang)
        feeds = subset_feeds(
            shown,
            cal_sessions,
            members_by_key,
            name=_feed_name(shown.summary),
            stamp=stamp,
            event_uids=event_uids,
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
    return FeedFiles(
        feed=str(main),
        partners=dict(sorted(partner_files.items())),
        contacts=dict(sorted(contact_files.items())),
        sessions=len(cal_sessions),
    )


def contact_event_uids(
    session: Session, event: Event, contacts: Sequence[Contact], domain: str
) -> dict[str, str]:
    """Feed key ("contact:<id>") -> the UID the contact's invitation carries (stored on the
    Invitation row; for a contact not invited yet, the one the invitation will carry)."""
    stored = dict(
        session.execute(
            select(Invitation.contact_id, Invitation.uid).where(Invitation.event_id == event.id)
        ).all()
    )
    return {
        f"contact:{c.id}": stored.get(c.id) or contact_uid(event.slug, c.id, domain)
        for c in contacts
    }


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


def write_change(
    settings: Settings, slug: str, purpose: str, stem: str, *, ics: bytes, message: bytes
) -> Path:
    """Write one contact's change message and its .ics under the event's changes folder;
    returns the .eml written."""
    base = changes_dir(settings, slug, purpose) / stem
    base.parent.mkdir(parents=True, exist_ok=True)
    base.with_suffix(".ics").write_bytes(ics)
    base.with_suffix(".eml").write_bytes(message)
    return base.with_suffix(".eml")
