"""Event states that cannot be skipped: what an event's state allows, and why not.

draft → inviting → scheduled → held → reported (or cancelled). A report and an attendance
sheet describe an event that took place: one that has ended, or that an organizer marked
held. A draft made from the previous edition cannot be invited to while it still holds
that edition's placeholders, and an edition a partner city hosts is that city's to invite to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flows.domain.clock import utc_to_local

#: states in which the event has taken place
TAKEN_PLACE = ("held", "reported")
#: states in which nothing has been sent yet, or only invitations: nothing took place
NOT_STARTED = ("draft", "inviting")
#: the venue `events next-edition` writes when the host changes
VENUE_TO_BE_DECIDED = "(to be decided)"


def not_taken_place(
    slug: str, status: str, end_dt: dt.datetime, timezone: str, now: dt.datetime, *, what: str
) -> str | None:
    """Why ``what`` ("a report", "attendance") cannot be recorded for the event yet, or None.

    An event that has ended counts as taken place once invitations went out and its
    calendar was published (scheduled); before that, only an organizer's word (`events held`).
    """
    if status == "cancelled":
        return f"event {slug!r} is cancelled: there is no {what} of it"
    if status in TAKEN_PLACE:
        return None
    if status in NOT_STARTED:
        nothing = "nothing to report" if what == "a report" else f"no {what} to record"
        return f"event {slug!r} is {status}: {nothing} yet"
    if end_dt <= now:
        return None
    ends = utc_to_local(end_dt, timezone).strftime("%Y-%m-%d %H:%M")
    return (
        f"event {slug!r} has not ended yet (it ends {ends} {timezone}): record {what} once it is "
        f"over, or if it took place, mark it with `amity events held {slug}`"
    )


def held_refusal(slug: str, status: str) -> str | None:
    """Why the event cannot be marked held, or None (also None when it already is)."""
    if status == "cancelled":
        return f"event {slug!r} is cancelled: it was not held"
    if status == "draft":
        return f"event {slug!r} is a draft: nobody was invited to it"
    return None


def reopen_refusal(slug: str, status: str) -> str | None:
    """Why the event's report cannot be undone, or None."""
    if status != "reported":
        return f"event {slug!r} is {status}, not reported: there is nothing to reopen"
    return None


def _texts(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [str(v) for v in value.values() if v]
    return [str(value)] if value else []


def edition_placeholders(spec: Mapping[str, Any], previous: Mapping[str, Any] | None) -> list[str]:
    """Values a draft edition still holds for the organizer to decide, one line each.

    ``spec`` and ``previous`` are stored specs (``EventSpec.to_json()``); ``previous`` is the
    series' edition before it. When the host changed, a venue or a room equal to the previous
    edition's belongs to the previous host.
    """
    found: list[str] = []
    venues = _texts(spec.get("venues")) or _texts(spec.get("venue"))
    if any(VENUE_TO_BE_DECIDED in v for v in venues):
        found.append(f"venue: {spec.get('venue') or ''!r}: to be decided")
    if previous is None or previous.get("host_city") == spec.get("host_city"):
        return found
    before = previous.get("host_city")
    edition = previous.get("edition")
    if venues and not found and spec.get("venue") == previous.get("venue"):
        found.append(f"venue: {spec.get('venue')!r}: the venue of {before} (edition {edition})")
    rooms = {s.get("key"): s.get("room") for s in previous.get("sessions") or []}
    for s in spec.get("sessions") or []:
        room = s.get("room")
        if room and room == rooms.get(s.get("key")):
            found.append(
                f"sessions.{s.get('key')}.room: {room!r}: a room of {before} (edition {edition})"
            )
    return found


def guest_refusal(slug: str, host_city: str, *, hosted_at_home: bool) -> str | None:
    """Why the home office cannot invite to an event, or None: a partner hosts it."""
    if hosted_at_home:
        return None
    return (
        f"event {slug!r} is hosted by {host_city}: the office is its guest, and {host_city} "
        "sends the invitations; nothing was sent"
    )
