"""Writing partner and contact records to the database: upserts that report what changed.

Plain functions that take a session; the import flows call them inside one transaction, so
a file is imported whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from config.settings import HomeCity
from db.models import City, Contact, Tie
from flows.domain.registry import (
    CLEAR,
    ContactRecord,
    PartnerRecord,
    Problem,
    anniversary_md,
)


@dataclass
class UpsertSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: one line per changed field: "Tokyo: established_on 1979-03-01 -> 1979-03-14"
    changes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _table(model: type) -> Table:
    # Core UPDATE ... WHERE id = :b_id with executemany; the ORM's bulk form wants the pk name
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def ensure_home_city(session: Session, home: HomeCity) -> City:
    city = session.scalar(select(City).where(City.is_home.is_(True)))
    if city is None:
        city = session.scalar(
            select(City).where(City.name == home.name, City.country_code == home.country_code)
        )
    if city is None:
        city = City(
            name=home.name,
            native_name=home.native_name,
            country_code=home.country_code,
            timezone=home.timezone,
            language=home.language,
            kind="municipality",
            is_home=True,
        )
        session.add(city)
        session.flush()
    return city


def _diff(label: str, current: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    return [
        f"{label}: {name} {current[name]!r} -> {value!r}"
        for name, value in wanted.items()
        if current[name] != value
    ]


_CITY_COLS = ("native_name", "timezone", "language", "kind")
_TIE_COLS = ("kind", "established_on", "precision", "status", "source", "note")
_CONTACT_COLS = (
    "name_native",
    "name_latin",
    "language",
    "title",
    "honorific",
    "office",
    "is_opted_out",
    "note",
    "rank",
    "gender",
    "family_name",
    "family_name_latin",
    "salutations",
    "reply_delegates",
)


#: import columns whose attribute is named otherwise
_CONTACT_ATTRIBUTES = {"opted_out": "is_opted_out"}


def _city_ids(session: Session) -> dict[tuple[str, str], int]:
    """(name, country code) -> id, for every city in the registry."""
    return {
        (row.name, row.country_code): row.id
        for row in session.execute(select(City.id, City.name, City.country_code))
    }


def upsert_partners(
    session: Session, home: HomeCity, records: list[PartnerRecord]
) -> UpsertSummary:
    """Create or update each partner city and its tie with the home city (or a home district)."""
    summary = UpsertSummary()
    home_city = ensure_home_city(session, home)
    cities = {
        (row.name, row.country_code): row
        for row in session.execute(
            select(City.id, City.name, City.country_code, *(getattr(City, c) for c in _CITY_COLS))
        )
    }
    districts = {
        row.name: row.id
        for row in session.execute(select(City.id, City.name).where(City.parent_id == home_city.id))
    }
    changed_cities = _write_partner_cities(session, records, cities, summary)
    homes = _TieHomes(home.name, home_city.id, districts)
    changed_rows = _write_ties(session, records, homes, _city_ids(session), summary)
    # a partner counts once as updated, whether its city, its tie or both changed
    for rec in records:
        existing = cities.get(rec.key)
        if existing is not None and (existing.id in changed_cities or rec.row in changed_rows):
            summary.updated += 1
    summary.unchanged = len(records) - summary.created - summary.updated - len(summary.problems)
    return summary


def _write_partner_cities(
    session: Session,
    records: list[PartnerRecord],
    cities: dict[tuple[str, str], Row[Any]],
    summary: UpsertSummary,
) -> set[int]:
    """Insert the records' new cities and update the changed ones; returns the ids updated."""
    new_cities = []
    city_updates = []
    for rec in records:
        wanted: dict[str, Any] = {
            "native_name": rec.native_name,
            "timezone": rec.timezone,
            "language": rec.language,
            "kind": rec.city_kind,
        }
        existing = cities.get(rec.key)
        if existing is None:
            new_cities.append(
                {
                    "name": rec.city,
                    "country_code": rec.country_code,
                    "is_home": False,
                    "parent_id": None,
                    **wanted,
                }
            )
            continue
        if "city_kind" in rec.kept:
            wanted["kind"] = existing.kind
        changes = _diff(rec.city, existing._asdict(), wanted)
        if changes:
            summary.changes.extend(changes)
            city_updates.append({"b_id": existing.id, **wanted})
    if new_cities:
        session.execute(insert(City), new_cities)
    if city_updates:
        session.execute(
            update(_table(City)).where(_table(City).c.id == bindparam("b_id")),
            city_updates,
        )
    return {u["b_id"] for u in city_updates}


@dataclass(frozen=True)
class _TieHomes:
    """The home side of a tie: the home city, or one of its districts by name."""

    home_name: str
    home_city_id: int
    districts: dict[str, int]


def _write_ties(
    session: Session,
    records: list[PartnerRecord],
    homes: _TieHomes,
    city_ids: dict[tuple[str, str], int],
    summary: UpsertSummary,
) -> set[int]:
    """Insert new ties and update changed ones; returns the rows (of the file) whose tie changed."""
    ties = {
        (row.home_city_id, row.partner_city_id): row
        for row in session.execute(
            select(
                Tie.id, Tie.home_city_id, Tie.partner_city_id, *(getattr(Tie, c) for c in _TIE_COLS)
            )
        )
    }
    new_ties = []
    tie_updates = []
    changed_rows: set[int] = set()
    for rec in records:
        home_id = _tie_home_id(rec, homes, summary)
        if home_id is None:
            continue
        partner_id = city_ids[rec.key]
        wanted = _tie_values(rec)
        existing = ties.get((home_id, partner_id))
        anniversary = anniversary_md(rec.established_on)
        if existing is None:
            new_ties.append(
                {
                    "home_city_id": home_id,
                    "partner_city_id": partner_id,
                    "anniversary_md": anniversary,
                    **wanted,
                }
            )
            summary.created += 1
            continue
        stored = existing._asdict()
        # an empty optional cell keeps the stored value
        wanted.update({c: stored[c] for c in rec.kept if c in wanted})
        if "established_on" in rec.kept:
            anniversary = anniversary_md(stored["established_on"])
        changes = _diff(rec.city, stored, wanted)
        if changes:
            summary.changes.extend(changes)
            tie_updates.append({"b_id": existing.id, "anniversary_md": anniversary, **wanted})
            changed_rows.add(rec.row)
    if new_ties:
        session.execute(insert(Tie), new_ties)
    if tie_updates:
        session.execute(
            update(_table(Tie)).where(_table(Tie).c.id == bindparam("b_id")),
            tie_updates,
        )
    return changed_rows


def _tie_home_id(rec: PartnerRecord, homes: _TieHomes, summary: UpsertSummary) -> int | None:
    """The city on the home side of the record's tie; None (and a problem) for an unknown district."""
    if not rec.home_district:
        return homes.home_city_id
    district_id = homes.districts.get(rec.home_district)
    if district_id is None:
        summary.problems.append(
            Problem(
                "",
                rec.row,
                "home_district",
                rec.home_district,
                f"not a district of {homes.home_name}",
            )
        )
    return district_id


def _tie_values(rec: PartnerRecord) -> dict[str, Any]:
    return {
        "kind": rec.kind,
        "established_on": rec.established_on,
        "precision": rec.precision,
        "status": rec.status,
        "source": rec.source,
        "note": rec.note,
    }


def upsert_contacts(session: Session, records: list[ContactRecord]) -> UpsertSummary:
    """Create or update contacts; each must belong to a city already in the registry."""
    summary = UpsertSummary()
    city_ids = _city_ids(session)
    contacts = {
        (row.city_id, row.email): row
        for row in session.execute(
            select(
                Contact.id,
                Contact.city_id,
                Contact.email,
                *(getattr(Contact, c) for c in _CONTACT_COLS),
            )
        )
    }
    new, updates = [], []
    for rec in records:
        city_id = city_ids.get((rec.city, rec.country_code))
        if city_id is None:
            summary.problems.append(
                Problem(
                    "",
                    rec.row,
                    "city",
                    rec.city,
                    f"no partner city {rec.city} ({rec.country_code})",
                )
            )
            continue
        wanted = {c: getattr(rec, c) for c in _CONTACT_COLS}
        existing = contacts.get((city_id, rec.email))
        if existing is None:
            wanted["salutations"] = {k: v for k, v in rec.salutations.items() if v != CLEAR}
            new.append({"city_id": city_id, "email": rec.email, **wanted})
            summary.created += 1
            continue
        stored = existing._asdict()
        # an empty optional cell keeps the stored value; CLEAR cleared it in the record
        for column in rec.kept:
            attribute = _CONTACT_ATTRIBUTES.get(column, column)
            if attribute in wanted:
                wanted[attribute] = stored[attribute]
        salutations = {**(stored["salutations"] or {}), **rec.salutations}
        wanted["salutations"] = {k: v for k, v in salutations.items() if v != CLEAR}
        changes = _diff(f"{rec.email}", stored, wanted)
        if changes:
            summary.changes.extend(changes)
            updates.append({"b_id": existing.id, **wanted})
            summary.updated += 1
        else:
            summary.unchanged += 1
    if summary.problems:
        return summary
    _write_contacts(session, new, updates)
    return summary


def _write_contacts(
    session: Session, new: list[dict[str, Any]], updates: list[dict[str, Any]]
) -> None:
    if new:
        session.execute(insert(Contact), new)
    if updates:
        session.execute(
            update(_table(Contact)).where(_table(Contact).c.id == bindparam("b_id")),
            updates,
            execution_options={"synchronize_session": False},
        )


def set_city_names(
    session: Session, names: dict[str, dict[str, str]], *, source: str
) -> UpsertSummary:
    """Give registry cities their names by language; every city named must be in the registry.

    Languages not in ``names`` keep what they had, so a file of one language adds to the rest.
    """
    summary = UpsertSummary()
    cities = {c.name: c for c in session.scalars(select(City))}
    unknown = sorted(set(names) - set(cities))
    for city in unknown:
        summary.problems.append(Problem(source, 0, "city", city, "no such city in the registry"))
    if summary.problems:
        return summary
    for city, by_lang in names.items():
        row = cities[city]
        merged = {**(row.names or {}), **by_lang}
        if merged != (row.names or {}):
            summary.changes.append(f"{city}: names in {len(merged)} languages")
            row.names = merged
            summary.updated += 1
        else:
            summary.unchanged += 1
    return summary
