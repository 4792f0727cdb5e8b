"""Which edits of an event raise its SEQUENCE when a spec is applied (RFC 5546 §2.1.4).

A *significant* edit jeopardises the invitees' answers: it raises the SEQUENCE and calendars
ask again (RSVP=TRUE, PARTSTAT=NEEDS-ACTION) — the event's times or dates, its venue (a
session's LOCATION names the venue, so a new venue moves every session), a session added,
removed or moved in time, a cancellation. A *minor* edit — a session's room, title, topic
or speakers, the event's titles — is sent as an update with the same SEQUENCE that keeps
each contact's answer (RSVP=FALSE and the PARTSTAT they gave). Edits calendars do not show
(the audience, outcomes) send nothing. Comparing two calendar snapshots uses the same rule in
:mod:`flows.domain.changes` (``BUMP_FIELDS``).
"""

from __future__ import annotations

from collections.abc import Iterable

#: event fields whose change raises the event's SEQUENCE
EVENT_BUMP_FIELDS = frozenset({"start_dt", "end_dt", "venue", "venue_address", "timezone"})
#: event fields that move every session too (a session's LOCATION names the venue)
PLACE_FIELDS = frozenset({"venue", "venue_address", "timezone"})
#: session fields whose change raises the session's SEQUENCE, and so the event's
SESSION_BUMP_FIELDS = frozenset({"start_dt", "end_dt", "is_cancelled"})
#: event fields that no calendar shows: changing only these sends nothing
EVENT_HIDDEN_FIELDS = frozenset({"audience", "outcomes", "is_bilingual", "host_city_id"})

SIGNIFICANT = "significant"
MINOR = "minor"
HIDDEN = "not in calendars"


def event_change_kind(name: str) -> str:
    """What changing one event field is: significant, minor, or not in calendars."""
    if name in EVENT_BUMP_FIELDS:
        return SIGNIFICANT
    return HIDDEN if name in EVENT_HIDDEN_FIELDS else MINOR


def session_change_kind(name: str, *, place_moved: bool) -> str:
    """What changing one session field is (a moved venue moves every session)."""
    return SIGNIFICANT if place_moved or name in SESSION_BUMP_FIELDS else MINOR


def event_bumps(changed: Iterable[str]) -> bool:
    """Whether changing these event fields raises the event's SEQUENCE."""
    return any(name in EVENT_BUMP_FIELDS for name in changed)


def moves_place(changed: Iterable[str]) -> bool:
    """Whether these event fields move the place of every session."""
    return any(name in PLACE_FIELDS for name in changed)


def session_bumps(changed: Iterable[str], *, place_moved: bool) -> bool:
    """Whether a session with these fields changed (and the event's place moved or not)
    raises its SEQUENCE; a session added or removed always raises the event's."""
    return place_moved or any(name in SESSION_BUMP_FIELDS for name in changed)
