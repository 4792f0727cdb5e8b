"""Which edits of an event raise its SEQUENCE when a spec is applied (RFC 5546 §2.1.4).

An edit that jeopardises the invitees' answers raises the SEQUENCE, so calendars ask again
(RSVP=TRUE): the event's time or place, a session added, removed, moved or given another
room (a session's LOCATION names its room and the venue, so a new venue moves every session).
Other edits — titles, texts, the audience, a session's topic or speakers — are sent with the
same SEQUENCE and keep the answers. Comparing two calendar snapshots uses the same idea in
:mod:`flows.domain.changes` (``BUMP_FIELDS``).
"""

from __future__ import annotations

from collections.abc import Iterable

#: event fields whose change raises the event's SEQUENCE
EVENT_BUMP_FIELDS = frozenset({"start_dt", "end_dt", "venue", "venue_address", "timezone"})
#: event fields that move every session too (a session's LOCATION names the venue)
PLACE_FIELDS = frozenset({"venue", "venue_address", "timezone"})
#: session fields whose change raises the session's SEQUENCE, and so the event's
SESSION_BUMP_FIELDS = frozenset({"start_dt", "end_dt", "room", "is_cancelled"})


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
