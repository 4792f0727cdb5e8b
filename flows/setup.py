"""Setting up a database and reading the registry back (no flow runs for reading)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from config.settings import DATA_DIR, get_settings
from db import migrate
from db.models import City, Contact, Tie
from db.session import session_scope
from flows.registry_store import ensure_home_city

REFERENCE_PARTNERS = ("beijing_partners.csv", "beijing_partners_later.csv")
DEMO_CONTACTS = "demo_contacts.csv"


def init_database() -> str:
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    migrate.upgrade(url)
    with session_scope() as session:
        ensure_home_city(session, settings.home_city)
    return url


def load_reference_data() -> list[dict[str, Any]]:
    """Import the shipped partners and the fictitious demo contacts (idempotent)."""
    from flows.partners import import_contacts, import_partners
    from flows.runtime import run_flow

    results = [run_flow(import_partners, str(DATA_DIR / name)) for name in REFERENCE_PARTNERS]
    results.append(run_flow(import_contacts, str(DATA_DIR / DEMO_CONTACTS)))
    for result in results:
        if result["problems"]:
            raise RuntimeError(f"shipped data has problems: {result['problems'][:3]}")
    return results


def list_partners(until: int | None = None) -> list[dict[str, Any]]:
    """Every tie, oldest first, unknown dates last; ``until`` keeps ties made by that year."""
    home = aliased(City)
    partner = aliased(City)
    query = (
        select(Tie, partner, home)
        .join(partner, Tie.partner_city_id == partner.id)
        .join(home, Tie.home_city_id == home.id)
        .order_by(Tie.established_on.is_(None), Tie.established_on, partner.name)
    )
    if until is not None:
        query = query.where(
            or_(Tie.established_on.is_(None), Tie.established_on < dt.date(until + 1, 1, 1))
        )
    with session_scope() as session:
        rows = session.execute(query).all()
        return [
            {
                "tie_id": tie.id,
                "home": h.name,
                "city": p.name,
                "native_name": p.native_name,
                "country_code": p.country_code,
                "timezone": p.timezone,
                "language": p.language,
                "established_on": tie.established_on.isoformat() if tie.established_on else None,
                "established": _shown_date(tie.established_on, tie.precision),
                "precision": tie.precision,
                "kind": tie.kind,
                "status": tie.status,
            }
            for tie, p, h in rows
        ]


def _shown_date(value: Any, precision: str) -> str:
    if value is None:
        return "unknown"
    return {"day": value.isoformat(), "month": value.isoformat()[:7], "year": str(value.year)}[
        precision
    ]


def list_contacts() -> list[dict[str, Any]]:
    with session_scope() as session:
        rows = session.execute(
            select(Contact, City)
            .join(City, Contact.city_id == City.id)
            .order_by(City.name, Contact.email)
        ).all()
        return [
            {
                "id": c.id,
                "city": city.name,
                "country_code": city.country_code,
                "name_native": c.name_native,
                "name_latin": c.name_latin,
                "title": c.title,
                "honorific": c.honorific,
                "email": c.email,
                "language": c.language,
                "is_opted_out": c.is_opted_out,
            }
            for c, city in rows
        ]
