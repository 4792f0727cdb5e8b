"""Setting up a database and reading the registry back (no flow runs for reading)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from config.settings import DATA_DIR, get_settings
from db import migrate
from db.models import City, Contact, Event, Tie
from db.registry import ensure_home_city
from db.session import session_scope
from flows.domain.clock import local_to_utc
from flows.domain.event_dates import record_span
from flows.domain.uids import event_uid

REFERENCE_PARTNERS = ("beijing_partners.csv", "beijing_partners_later.csv")
DEMO_CONTACTS = "demo_contacts.csv"
CITY_NAMES = "city_names.yaml"


def init_database() -> str:
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    migrate.upgrade(url)
    with session_scope() as session:
        ensure_home_city(session, settings.home_city)
    return url


def load_reference_events() -> dict[str, Any]:
    """The historical events of config/data/events.yaml, as held events (idempotent).

    An event is recorded only if the sources date it (the 1997 Music Week to the month, the
    2000 conference to the day); the symposium series, undated, is reported as skipped.
    Dates are kept as local midnights from the first day of what is known to the day after
    its last (see :mod:`flows.domain.event_dates`), with `date_precision` saying how much is
    known; a record loaded earlier with invented times is corrected.
    """
    settings = get_settings()
    data = yaml.safe_load((DATA_DIR / "events.yaml").read_text(encoding="utf-8"))
    loaded, skipped = [], []
    with session_scope() as session:
        home = ensure_home_city(session, settings.home_city)
        for item in data["events"]:
            start_text, precision = item.get("start_date"), item.get("start_date_precision")
            if not start_text or item.get("host_city") != home.name:
                skipped.append({"id": item["id"], "reason": "no date or host in the sources"})
                continue
            parts = [int(p) for p in str(start_text).split("-")] + [1, 1]
            start_day = dt.date(parts[0], parts[1], parts[2])
            local_start, local_end = record_span(
                start_day, precision or "day", item.get("duration_days_announced")
            )
            tz = home.timezone
            start, end = local_to_utc(local_start, tz), local_to_utc(local_end, tz)
            existing = session.scalar(select(Event).where(Event.slug == item["id"]))
            if existing is not None:
                if not existing.spec and (existing.start_dt, existing.end_dt) != (start, end):
                    existing.start_dt, existing.end_dt = start, end
                    existing.timezone = tz
                loaded.append(item["id"])
                continue
            session.add(
                Event(
                    slug=item["id"],
                    uid=event_uid(item["id"], settings.office.mail_domain),
                    titles={"en": item["title"]},
                    kind=item["kind"],
                    series=item.get("series"),
                    edition=item.get("edition"),
                    host_city_id=home.id,
                    timezone=tz,
                    start_dt=start,
                    end_dt=end,
                    status="held",
                    date_precision=precision or "day",
                    audience={"cities": item.get("participating_cities") or []},
                    spec={},
                    outcomes={},
                    note=" ".join(str(item.get("notes") or "").split()),
                    created_dt=dt.datetime.now(dt.UTC),
                    updated_dt=dt.datetime.now(dt.UTC),
                )
            )
            loaded.append(item["id"])
    return {"file": str(DATA_DIR / "events.yaml"), "loaded": loaded, "skipped": skipped}


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
