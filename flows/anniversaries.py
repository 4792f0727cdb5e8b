"""The anniversaries as a person reads them: the year's milestones and the subscription feed.

Read-only and without Prefect (`amity anniversaries` stays quick); the digest that sends
is the flow in flows/reminders.py.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from config.settings import Settings, get_settings
from db.anniversaries import dated_ties
from db.session import session_scope
from flows.domain import anniversaries as dom
from flows.domain.reminder_digest import DigestOffice, anniversary_uid


def digest_office(settings: Settings) -> DigestOffice:
    office, home = settings.office, settings.home_city
    return DigestOffice(
        email=office.email,
        name=office.name,
        native_name=office.native_name,
        language=office.language,
        mail_domain=office.mail_domain,
        home_city=home.name,
        home_city_native=home.native_name,
        feb29=settings.reminders.feb29_policy,
    )


def list_anniversaries(year: int, *, settings: Settings | None = None) -> list[dict[str, Any]]:
    """The milestones falling in ``year`` (no flow, nothing sent)."""
    settings = settings or get_settings()
    rules = settings.reminders
    language = settings.office.language
    with session_scope() as session:
        ties = {t.tie_id: t for t in dated_ties(session)}
    found = dom.anniversaries_between(
        ties.values(),
        start=date(year, 1, 1),
        end=date(year, 12, 31),
        milestones=rules.milestones,
        feb29=rules.feb29_policy,
    )
    return [
        {
            "tie_id": a.tie_id,
            "partner": ties[a.tie_id].partner,
            "native_name": ties[a.tie_id].partner_native,
            "country_code": ties[a.tie_id].country,
            "milestone": a.milestone,
            "ordinal": dom.ordinal(a.milestone, language),
            "date": a.on.isoformat(),
            "precision": ties[a.tie_id].precision,
            "when": dom.date_text(a.on, ties[a.tie_id].precision, language),
            "established_on": ties[a.tie_id].established_on.isoformat()  # type: ignore[union-attr]
            if ties[a.tie_id].established_on
            else None,
            "note": dom.feb29_note(ties[a.tie_id], language, rules.feb29_policy),
        }
        for a in found
    ]


def anniversaries_feed(*, now: datetime, settings: Settings | None = None) -> tuple[bytes, int]:
    """The subscription calendar of every dated tie's yearly anniversary, and its size."""
    settings = settings or get_settings()
    office = digest_office(settings)
    with session_scope() as session:
        ties = [(t, anniversary_uid(t.tie_id, office.mail_domain)) for t in dated_ties(session)]
    data = dom.anniversaries_calendar(
        ties,
        stamp=now,
        home_city=office.home_name,
        language=office.language,
        feb29=office.feb29,
    )
    return data, len(ties)
