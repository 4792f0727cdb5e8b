"""Ties as the anniversary digest and calendar show them: partners, contacts, earlier events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from db.models import Attendance, City, Contact, Event, Tie
from flows.domain import anniversaries as dom
from flows.domain.clock import zone
from flows.domain.reminder_digest import event_when

#: how many undated ties the digest names (the rest are counted)
UNDATED_SHOWN = 50


def _contacts_of(session: Session, city_ids: set[int]) -> dict[int, list[dom.Contact]]:
    contacts: dict[int, list[dom.Contact]] = defaultdict(list)
    for c in session.scalars(
        select(Contact).where(Contact.city_id.in_(city_ids)).order_by(Contact.name_latin)
    ):
        name = (
            c.name_native if c.name_native == c.name_latin else f"{c.name_native} ({c.name_latin})"
        )
        contacts[c.city_id].append(dom.Contact(name, c.title, "" if c.is_opted_out else c.email))
    return contacts


def _past_events_of(
    session: Session, city_ids: set[int], *, language: str, today: date
) -> dict[int, list[dom.PastEvent]]:
    """Events held before ``today`` that a city hosted or attended."""
    attended = (
        select(
            Attendance.event_id, func.coalesce(Attendance.city_id, Contact.city_id).label("city")
        )
        .outerjoin(Contact, Attendance.contact_id == Contact.id)
        .where(Attendance.is_attended.is_(True))
        .subquery()
    )
    held = session.execute(
        select(Event, City.id)
        .join(
            City,
            or_(
                Event.host_city_id == City.id,
                City.id.in_(
                    select(attended.c.city).where(attended.c.event_id == Event.id).scalar_subquery()
                ),
            ),
        )
        .where(
            City.id.in_(city_ids),
            Event.status != "cancelled",
            Event.start_dt < datetime.combine(today, datetime.min.time(), tzinfo=UTC),
        )
        .order_by(Event.start_dt)
    ).all()
    events: dict[int, list[dom.PastEvent]] = defaultdict(list)
    for event, city_id in held:
        title = event.titles.get(language) or event.titles.get("en") or event.slug
        # the local day: a historical record starts at midnight in its zone, not in UTC
        when = event_when(
            event.start_dt.astimezone(zone(event.timezone)).date(), event.date_precision, language
        )
        events[city_id].append(dom.PastEvent(title, when))
    return events


def tie_records(
    session: Session, tie_ids: Iterable[int], *, language: str, today: date
) -> dict[int, dom.TieRecord]:
    """Ties with their partner's contacts and earlier events, for the digest and the .ics."""
    ids = sorted(set(tie_ids))
    if not ids:
        return {}
    partner = aliased(City)
    rows = session.execute(
        select(Tie, partner).join(partner, Tie.partner_city_id == partner.id).where(Tie.id.in_(ids))
    ).all()
    city_ids = {p.id for _, p in rows}
    contacts = _contacts_of(session, city_ids)
    events = _past_events_of(session, city_ids, language=language, today=today)
    out: dict[int, dom.TieRecord] = {}
    for tie, p in rows:
        out[tie.id] = dom.TieRecord(
            tie.id,
            p.name,
            tie.established_on,
            tie.precision,
            p.native_name,
            p.country_code,
            tuple(contacts[p.id]),
            tuple(events[p.id]),
        )
    return out


def undated_ties(session: Session) -> tuple[list[dom.TieRecord], int]:
    """The first active ties with no known date (by partner name), and how many there are."""
    partner = aliased(City)
    where = and_(Tie.established_on.is_(None), Tie.status == "active")
    total = session.scalar(select(func.count()).select_from(Tie).where(where)) or 0
    rows = session.execute(
        select(Tie.id, partner.name, partner.native_name)
        .join(partner, Tie.partner_city_id == partner.id)
        .where(where)
        .order_by(partner.name)
        .limit(UNDATED_SHOWN)
    ).all()
    return [dom.TieRecord(i, name, None, "unknown", native) for i, name, native in rows], total


def dated_ties(session: Session) -> list[dom.TieRecord]:
    """Every active tie with a known date, by id, with its partner's names and country."""
    partner = aliased(City)
    rows = session.execute(
        select(
            Tie.id,
            Tie.established_on,
            Tie.precision,
            partner.name,
            partner.native_name,
            partner.country_code,
        )
        .join(partner, Tie.partner_city_id == partner.id)
        .where(Tie.status == "active", Tie.established_on.is_not(None))
        .order_by(Tie.id)
    ).all()
    return [
        dom.TieRecord(i, name, est, prec, native, country)
        for i, est, prec, name, native, country in rows
    ]
