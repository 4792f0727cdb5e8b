"""Invitees as plain records, the tie of a partner, and the office's letter counter."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from db.invitees import TieDate, city_names, next_references, partner_ties
from db.models import City, Tie
from db.session import session_scope
from flows.domain.registry import anniversary_md


def _city(session, name: str, *, is_home: bool = False, parent: City | None = None) -> City:
    city = City(
        name=name,
        native_name=name,
        country_code="CN" if is_home or parent else "FR",
        timezone="Europe/Paris",
        language="fr",
        is_home=is_home,
        parent=parent,
        kind="district" if parent else "municipality",
        names={"zh": f"{name}市"},
    )
    session.add(city)
    session.flush()
    return city


def _tie(session, home: City, partner: City, on: dt.date | None, precision: str) -> None:
    session.add(
        Tie(
            home_city_id=home.id,
            partner_city_id=partner.id,
            established_on=on,
            precision=precision,
            anniversary_md=anniversary_md(on),
        )
    )


def test_partner_ties_prefers_the_home_citys_own_tie_over_a_districts(amity_db: str) -> None:
    with session_scope() as s:
        home = _city(s, "Beijing", is_home=True)
        district = _city(s, "Chaoyang", parent=home)
        lyon, nice = _city(s, "Lyon"), _city(s, "Nice")
        _tie(s, district, lyon, dt.date(1980, 1, 1), "day")
        _tie(s, home, lyon, dt.date(1990, 5, 1), "month")
        _tie(s, district, nice, dt.date(2001, 1, 1), "year")
        s.flush()
        ties = partner_ties(s)
        assert (ties[lyon.id], ties[nice.id]) == (
            TieDate(dt.date(1990, 5, 1), "month"),
            TieDate(dt.date(2001, 1, 1), "year"),
        )


def test_city_names_adds_the_english_and_native_names(amity_db: str) -> None:
    with session_scope() as s:
        lyon = _city(s, "Lyon")
        assert city_names(lyon) == {"zh": "Lyon市", "en": "Lyon", "fr": "Lyon"}


def test_next_references_reserve_counts_on_and_a_preview_takes_nothing(amity_db: str) -> None:
    with session_scope() as s:
        assert next_references(s, 2027, 3, reserve=False) == [1, 2, 3]
        assert next_references(s, 2027, 2, reserve=True) == [1, 2]
    with session_scope() as s:
        assert next_references(s, 2027, 2, reserve=False) == [3, 4]
        assert next_references(s, 2027, 3, reserve=True) == [3, 4, 5]
        assert next_references(s, 2028, 1, reserve=True) == [1]
        assert next_references(s, 2027, 0, reserve=True) == []
    with session_scope() as s:
        assert s.scalar(select(City).limit(1)) is None
