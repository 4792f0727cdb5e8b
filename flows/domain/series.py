"""Event series: the rules that make the next edition from the last one's spec."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flows.domain.clock import utc_to_local
from flows.domain.slug import slugify
from flows.domain.states import VENUE_TO_BE_DECIDED

#: the next edition keeps the weekday: 52 weeks later
EDITION_GAP = dt.timedelta(weeks=52)


def next_edition_spec(spec: Mapping[str, Any], *, host: str, host_timezone: str) -> dict[str, Any]:
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
        "venue": VENUE_TO_BE_DECIDED if moved else spec["venue"],
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


def next_host(spec: Mapping[str, Any]) -> str:
    """The host of the next edition: the next of ``series_hosts`` in turn, else the same."""
    hosts = spec.get("series_hosts") or []
    host: str = spec["host_city"]
    if len(hosts) > 1 and host in hosts:
        return str(hosts[(hosts.index(host) + 1) % len(hosts)])
    return host
