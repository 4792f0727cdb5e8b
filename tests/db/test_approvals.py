"""The review's data digest: what the messages were rendered from, read back at send time."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select, update

from config.settings import get_settings
from db.approvals import data_digest, planned_data_digest
from db.events import apply_spec
from db.models import City, Contact, Event, Invitation, Tie
from db.outbox import IN_LIMIT
from db.session import session_scope
from flows.domain.events import parse_event_spec
from tests.db.test_invitees import _city, _tie

NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
#: more contacts than one statement reads
COUNT = IN_LIMIT + 60


def _event_with_contacts() -> tuple[int, list[int]]:
    with session_scope() as s:
        home = _city(s, "Beijing", is_home=True)
        lyon = _city(s, "Lyon")
        s.add(Tie(home_city_id=home.id, partner_city_id=lyon.id, established_on=None))
        s.execute(
            insert(Contact),
            [
                {
                    "city_id": lyon.id,
                    "name_native": f"Camille Martin {n}",
                    "name_latin": f"Camille Martin {n}",
                    "title": "Maire",
                    "email": f"c{n}@lyon.example.org",
                    "language": "fr",
                    "salutations": {"fr": f"Madame la Maire {n}"} if n % 7 == 0 else {},
                }
                for n in range(COUNT)
            ],
        )
        spec = parse_event_spec(
            "spec",
            {
                "slug": "forum",
                "title": {"en": "Forum", "fr": "Forum"},
                "kind": "conference",
                "host_city": "Beijing",
                "venue": "Hall",
                "venue_address": "Street 1",
                "timezone": "Asia/Shanghai",
                "start": "2027-09-14T09:00",
                "end": "2027-09-15T17:00",
                "invite": {"ties": "all"},
            },
            known_cities=["Beijing", "Lyon"],
        )
        apply_spec(s, spec, get_settings(), now=NOW)
        event_id = s.scalars(select(Event.id)).one()
        ids = list(s.scalars(select(Contact.id).order_by(Contact.id)))
        s.execute(
            insert(Invitation),
            [
                {
                    "event_id": event_id,
                    "contact_id": c,
                    "uid": f"u{c}@amity",
                    "sequence": 0,
                    "created_dt": NOW,
                    "reference_year": 2026,
                    "reference_number": c,
                }
                for c in ids
            ],
        )
    return event_id, ids


def _digest(event_id: int, ids: list[int]) -> str:
    with session_scope() as s:
        return data_digest(s, event_id, ids)


def _edit(contact_id: int, title: str) -> None:
    with session_scope() as s:
        s.execute(update(Contact).where(Contact.id == contact_id).values(title=title))


def test_data_digest_reads_every_contact_over_several_statements(amity_db: str) -> None:
    event_id, ids = _event_with_contacts()
    assert _digest(event_id, ids[::-1]) == _digest(event_id, ids)  # the order is not data
    outside, listed = ids[0], ids[1:]
    before = _digest(event_id, listed)
    _edit(outside, "Maire adjoint")
    assert _digest(event_id, listed) == before  # a contact not messaged is not part of it

    seen = {before}
    # one contact read by the first statement, one by the second
    for contact_id in (listed[0], listed[-1]):
        _edit(contact_id, "Maire adjoint")
        seen.add(_digest(event_id, listed))
    with session_scope() as s:
        s.execute(update(Invitation).where(Invitation.contact_id == listed[-1]).values(sequence=1))
    seen.add(_digest(event_id, listed))
    assert len(seen) == 4


def test_the_data_digest_keeps_its_form_so_earlier_reviews_still_match(amity_db: str) -> None:
    """A review recorded by an earlier amity (pending, or approved for a later hour) is checked
    against the digest this one computes: the same data must give the same digest."""
    event_id, ids = _event_with_contacts()
    # as amity computed them before the digest of the planned invitees (6069d01)
    assert _digest(event_id, ids) == (
        "1a79d7a30b6527bffe639af077c6588d6c13565e338403fa6c35dc3319d87250"
    )
    assert _digest(event_id, ids[::3]) == (
        "3643eeb7a722f2b5e7f7663b0a8a02a91831f3e3fb625ce893eacd8d523627f1"
    )


def test_contacts_read_as_rows_make_the_same_invitees_as_orm_objects(amity_db: str) -> None:
    """The digest reads plain rows; reviews recorded from ORM objects must still match."""
    from db.invitees import invitees

    _event_with_contacts()
    with session_scope() as s:
        s.execute(update(Contact).where(Contact.id % 5 == 0).values(is_opted_out=True))
    with session_scope() as s:
        orm = list(s.scalars(select(Contact).order_by(Contact.id)))
        rows = list(s.execute(select(Contact.__table__).order_by(Contact.id)))
        assert repr(invitees(s, rows)) == repr(invitees(s, orm))
        assert any(i.is_opted_out for i in invitees(s, rows))


def test_the_planned_invitees_digest_as_the_database_reads_them_back(amity_db: str) -> None:
    """A run digests the invitees it planned and rendered from; a later approval reads the
    same data back from the database: once the plan is committed, both give one digest."""
    from db.invitees import plan_invitees

    event_id, ids = _event_with_contacts()
    with session_scope() as s:
        home = s.scalars(select(City).where(City.is_home.is_(True))).one()
        nice = _city(s, "Nice")
        _tie(s, home, nice, dt.date(1998, 5, 1), "month")
        s.execute(update(Contact).where(Contact.id.in_(ids[:40])).values(city_id=nice.id))
        s.execute(update(Contact).where(Contact.id % 9 == 0).values(is_opted_out=True))
        # invited for the first time, and invited before without a letter number
        s.execute(delete(Invitation).where(Invitation.contact_id.in_(ids[::4])))
        s.execute(
            update(Invitation)
            .where(Invitation.contact_id.in_(ids[1::4]))
            .values(reference_number=None, sequence=2)
        )
    with session_scope() as s:
        event = s.get(Event, event_id)
        assert event is not None
        contacts = list(s.scalars(select(Contact).order_by(Contact.id.desc())))
        planned = plan_invitees(s, event, contacts, year=2027, now=NOW, dry_run=False)
    rendered = [r for r in planned if not r.is_opted_out]
    assert {r.city for r in rendered} == {"Lyon", "Nice"}
    with session_scope() as s:
        at_plan = planned_data_digest(s, event_id, rendered)
    assert at_plan == _digest(event_id, [r.contact_id for r in rendered])
    # edited after its letter was rendered: the database no longer gives the rendered digest
    _edit(rendered[0].contact_id, "Maire adjoint")
    assert _digest(event_id, [r.contact_id for r in rendered]) != at_plan
