"""Who is invited, as plain records: the contact, their city's names, the tie, the reference.

The records cross Prefect task boundaries (plan → render → send), so they are frozen
dataclasses of plain values, never ORM objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.settings import get_settings
from db.events import invitation_uid
from db.models import City, Contact, Event, Invitation, ReferenceCounter, Tie
from flows.domain.i18n import primary


@dataclass(frozen=True)
class TieDate:
    established_on: dt.date | None
    precision: str  #: day | month | year | unknown


@dataclass(frozen=True)
class Invitee:
    """One invited contact, with everything a letter, an .ics and an e-mail need of them."""

    contact_id: int
    email: str
    name_native: str
    name_latin: str
    family_name: str
    family_name_latin: str
    title: str
    honorific: str
    rank: str
    gender: str
    office: str
    language: str  #: BCP 47 tag of the contact's preferred language
    salutations: Mapping[str, str]
    is_opted_out: bool
    city: str  #: the registry's (English) name, for file names and summaries
    city_names: Mapping[str, str]  #: language -> the city's name
    timezone: str
    tie: TieDate
    #: the contact's invitation (filled by the plan): calendar UID, SEQUENCE, answer. Only
    #: these fields have defaults: the review's data digest tells them apart by it
    uid: str = ""
    sequence: int = 0
    #: the answer recorded; "" for a contact this run invites for the first time (a reminder
    #: goes only to those invited before who have not answered)
    rsvp_state: str = "needs-action"
    #: the letter's reference number within ``reference_year`` (0 = not given yet)
    reference_year: int = 0
    reference_number: int = 0

    def with_invitation(self, **changes: object) -> Invitee:
        return replace(self, **changes)  # type: ignore[arg-type]


def city_names(city: City) -> dict[str, str]:
    """The city's names by language: the registry's, then its English and native names."""
    names = dict(city.names or {})
    names.setdefault("en", city.name)
    names.setdefault(primary(city.language), city.native_name)
    return names


def partner_ties(session: Session) -> dict[int, TieDate]:
    """The tie of each partner city: the one rule letters, reports and reminders share.

    A partner's tie is its tie with the home city itself; a partner tied only to one of the
    home city's districts counts from the earliest such tie.
    """
    home_ids = set(session.scalars(select(City.id).where(City.is_home.is_(True))))
    found: dict[int, tuple[int, TieDate]] = {}
    rows = session.execute(
        select(Tie.partner_city_id, Tie.home_city_id, Tie.established_on, Tie.precision)
    )
    for partner_id, home_id, established, precision in rows:
        rank = 0 if home_id in home_ids else 1
        tie = TieDate(established, precision)
        current = found.get(partner_id)
        if (
            current is None
            or rank < current[0]
            or (
                rank == current[0]
                and established is not None
                and (current[1].established_on is None or established < current[1].established_on)
            )
        ):
            found[partner_id] = (rank, tie)
    return {partner: tie for partner, (_, tie) in found.items()}


def invitees(session: Session, contacts: Sequence[Contact | Row[Any]]) -> list[Invitee]:
    """The contacts (ORM objects, or rows of the contact table) as invitees."""
    ties = partner_ties(session)
    cities = {c.id: c for c in session.scalars(select(City))}
    # a city's names once, shared by all its contacts (read only: letters copy them)
    names: dict[int, dict[str, str]] = {}
    out = []
    for contact in contacts:
        city = cities[contact.city_id]
        if city.id not in names:
            names[city.id] = city_names(city)
        out.append(
            Invitee(
                contact_id=contact.id,
                email=contact.email,
                name_native=contact.name_native,
                name_latin=contact.name_latin,
                family_name=contact.family_name,
                family_name_latin=contact.family_name_latin,
                title=contact.title,
                honorific=contact.honorific,
                rank=contact.rank,
                gender=contact.gender,
                office=contact.office,
                language=contact.language,
                salutations=dict(contact.salutations or {}),
                is_opted_out=contact.is_opted_out,
                city=city.name,
                city_names=names[city.id],
                timezone=city.timezone,
                tie=ties.get(city.id, TieDate(None, "unknown")),
            )
        )
    return out


def next_references(session: Session, year: int, count: int, *, reserve: bool) -> list[int]:
    """The next ``count`` numbers of the office's letter counter for ``year``.

    With ``reserve`` the numbers are taken (the counter row is updated in this transaction,
    which holds its row lock until commit, so two runs never get the same number); without,
    they are what the next run would take (for a dry run's preview).
    """
    if count == 0:
        return []
    if reserve:
        try:
            with session.begin_nested():
                session.execute(insert(ReferenceCounter).values(year=year, last_number=0))
        except IntegrityError:
            pass  # the year's row exists
        last = session.execute(
            update(ReferenceCounter)
            .where(ReferenceCounter.year == year)
            .values(last_number=ReferenceCounter.last_number + count)
            .returning(ReferenceCounter.last_number)
        ).scalar_one()
        return list(range(last - count + 1, last + 1))
    taken = session.scalar(
        select(ReferenceCounter.last_number).where(ReferenceCounter.year == year)
    )
    start = (taken or 0) + 1
    return list(range(start, start + count))


def plan_invitees(
    session: Session,
    event: Event,
    contacts: list[Contact],
    *,
    year: int,
    now: dt.datetime,
    dry_run: bool,
) -> list[Invitee]:
    """The invitees with their invitations: UID, SEQUENCE, answer and letter number.

    Unless ``dry_run``, contacts not invited yet get their Invitation row and every
    invitation without a number takes the next ones of the office's counter for ``year``
    (a dry run shows the numbers the next run would take).
    """
    domain = get_settings().office.mail_domain
    existing = {
        inv.contact_id: inv
        for inv in session.scalars(select(Invitation).where(Invitation.event_id == event.id))
    }
    unnumbered = [
        c.id
        for c in contacts
        if not c.is_opted_out and (c.id not in existing or existing[c.id].reference_number is None)
    ]
    taken = next_references(session, year, len(unnumbered), reserve=not dry_run)
    numbers = dict(zip(unnumbered, taken, strict=True))
    rows = []
    new: list[dict[str, object]] = []  # inserted at once: 10,000 ORM objects flush in ~1.5 s
    for row in invitees(session, contacts):
        inv = existing.get(row.contact_id)
        number = numbers.get(row.contact_id)
        if inv is None:
            uid = invitation_uid(event.slug, row.contact_id, domain)
            if not dry_run and not row.is_opted_out:
                new.append(
                    {
                        "event_id": event.id,
                        "contact_id": row.contact_id,
                        "uid": uid,
                        "sequence": event.sequence,
                        "created_dt": now,
                        "reference_year": year,
                        "reference_number": number,
                    }
                )
            # not invited before: nothing to remind of
            sequence, rsvp_state, reference = event.sequence, "", None
        else:
            uid, sequence, rsvp_state = inv.uid, inv.sequence, inv.rsvp_state
            if number is not None and not dry_run:
                inv.reference_year, inv.reference_number = year, number
            if inv.reference_number is not None:
                reference = (inv.reference_year, inv.reference_number)
            else:
                reference = None
        reference_year, reference_number = reference or (year, number or 0)
        rows.append(
            row.with_invitation(
                uid=uid,
                sequence=sequence,
                rsvp_state=rsvp_state,
                reference_year=reference_year,
                reference_number=reference_number,
            )
        )
    if new:
        session.execute(insert(Invitation), new)
    return rows
