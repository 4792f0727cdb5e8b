"""Event series: the next edition starts as a draft copy of the last one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from sqlalchemy import select

from config.settings import Settings
from db.events import apply_spec
from db.models import City, Event
from db.session import session_scope
from flows.domain.clock import utc_to_local
from flows.domain.events import SpecError, parse_event_spec
from flows.domain.letters import en_ordinal
from flows.domain.slug import slugify

#: the next edition keeps the weekday: 52 weeks later
EDITION_GAP = dt.timedelta(weeks=52)


def next_edition_spec(spec: dict[str, Any], *, host: str, host_timezone: str) -> dict[str, Any]:
    """The spec of the next edition: edition + 1, dates 52 weeks on, the programme kept.

    When the host changes, the wall-clock times are kept in the new host's zone and the
    venue is left for the organizer to fill in.
    """
    edition = int(spec["edition"]) + 1
    old_tz = spec["timezone"]

    def shift(iso: str) -> str:
        local = utc_to_local(dt.datetime.fromisoformat(iso), old_tz).replace(tzinfo=None)
        return (local + EDITION_GAP).isoformat(timespec="minutes")

    moved = host != spec["host_city"]
    out = {
        "slug": f"{slugify(spec['series'], unique=False)}-{edition}",
        "title": spec["titles"],
        "kind": spec["kind"],
        "series": spec["series"],
        "edition": edition,
        "series_hosts": spec["series_hosts"],
        "host_city": host,
        "venue": "(to be decided)" if moved else spec["venue"],
        "venue_address": "" if moved else spec["venue_address"],
        "timezone": host_timezone,
        "start": shift(spec["start"]),
        "end": shift(spec["end"]),
        "bilingual": spec["bilingual"],
        "invite": spec["invite"],
        "sessions": [
            {
                **{k: v for k, v in s.items() if k not in ("start", "end")},
                "start": shift(s["start"]),
                "end": shift(s["end"]),
            }
            for s in spec["sessions"]
        ],
    }
    if spec.get("rsvp_by"):
        out["rsvp_by"] = (dt.date.fromisoformat(spec["rsvp_by"]) + EDITION_GAP).isoformat()
    return out


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
        hosts = spec.get("series_hosts") or []
        host = spec["host_city"]
        if len(hosts) > 1 and host in hosts:
            host = hosts[(hosts.index(host) + 1) % len(hosts)]
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
