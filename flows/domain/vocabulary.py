"""The closed word lists: what the database's check constraints allow and imports accept."""

from __future__ import annotations

TIE_KINDS = ("friendship_city", "sister_city", "friendly_exchange")
TIE_STATUSES = ("active", "suspended", "ended")
CITY_KINDS = ("municipality", "district", "region", "province", "prefecture", "other")
#: how much of a tie's `established_on` is known (Tokyo "March 1979" is month, Kyiv unknown)
PRECISIONS = ("day", "month", "year", "unknown")
EVENT_STATUSES = ("draft", "inviting", "scheduled", "held", "reported", "cancelled")
RSVP_STATES = ("needs-action", "accepted", "declined", "tentative", "delegated")
#: what `amity rsvp fetch` made of a message in the office's mailbox
MAILBOX_KINDS = ("reply", "bounce", "needs-person", "ignored")
