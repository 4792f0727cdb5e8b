"""Event series: the next edition starts as a draft copy of the last one (the rules are
:mod:`flows.domain.series`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from sqlalchemy import select

from config.settings import Settings
from db.events import apply_spec
from db.models import City, Event
from db.session import session_scope
from flows.domain.events import SpecError, parse_event_spec
from flows.domain.letters import en_ordinal
from flows.domain.series import next_edition_spec, next_host


def create_next_edition(series: str, settings: Settings, *, now: dt.datetime) -> dict[str, Any]:
    """Create the next edition of ``series`` as a draft; write its spec for the organizer to edit."""
    with session_scope() as session:
        last = session.scalar(
            select(Event)
            .where(Event.series == series, Event.edition.is_not(None))
            .order_by(Event.edition.desc())
            .limit(1)
        )
        if last is None:
            raise SpecError(
                series, ["no numbered edition of this series (see `amity events list`)"]
            )
        spec = dict(last.spec)
        host = next_host(spec)
        tz = session.scalar(select(City.timezone).where(City.name == host))
        data = next_edition_spec(spec, host=host, host_timezone=tz or spec["timezone"])
        known = session.scalars(select(City.name)).all()
        parsed = parse_event_spec(f"next edition of {series}", data, known_cities=known)
        result = apply_spec(session, parsed, settings, now=now)
        if not result.created:
            raise SpecError(parsed.slug, ["that edition exists already"])
    path = settings.out_dir / parsed.slug / f"{parsed.slug}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"# The {en_ordinal(parsed.edition or 0)} edition, copied from the previous one as a draft.\n"
        "# Edit and apply with: amity events apply THIS_FILE\n"
        + yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return {
        "slug": parsed.slug,
        "edition": parsed.edition,
        "host_city": host,
        "spec": str(path),
        "start": data["start"],
        "end": data["end"],
    }
