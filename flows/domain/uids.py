"""Calendar UIDs: one rule for each thing a calendar holds, so that a contact's calendar
never shows one event twice.

A contact sees the event under ONE UID — their invitation's — in the invitation, every
update and cancellation, and their personal feed. The shared feeds (the event's own, a
partner city's) and the CalDAV collection carry the event's UID; each session has its own.
"""

from __future__ import annotations


def event_uid(slug: str, domain: str) -> str:
    """The event in the shared feeds and on CalDAV."""
    return f"event-{slug}@{domain}"


def session_uid(slug: str, key: str, domain: str) -> str:
    """One session (agenda item) everywhere it is shown."""
    return f"session-{slug}-{key}@{domain}"


def contact_uid(slug: str, contact_id: int, domain: str) -> str:
    """The event as one contact sees it: invitation, updates, cancellation, personal feed.

    Stored on the contact's Invitation row when it is made and never changed; use the stored
    value where the row exists.
    """
    return f"invitation-{slug}-{contact_id}@{domain}"
