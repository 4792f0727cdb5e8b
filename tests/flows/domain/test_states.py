"""Event states that cannot be skipped: the pure rules (flows.domain.states)."""

from __future__ import annotations

import datetime as dt

from flows.domain.states import (
    edition_placeholders,
    guest_refusal,
    held_refusal,
    not_taken_place,
    reopen_refusal,
)

NOW = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)
ENDS = dt.datetime(2027, 4, 22, 9, 0, tzinfo=dt.UTC)  # 17:00 in Beijing


def test_not_taken_place_scheduled_event_before_its_end_is_refused_with_the_way_out() -> None:
    reason = not_taken_place("bts-12", "scheduled", ENDS, "Asia/Shanghai", NOW, what="a report")

    assert reason == (
        "event 'bts-12' has not ended yet (it ends 2027-04-22 17:00 Asia/Shanghai): record a "
        "report once it is over, or if it took place, mark it with `amity events held bts-12`"
    )


def test_not_taken_place_ended_or_marked_held_is_allowed() -> None:
    after = ENDS + dt.timedelta(minutes=1)

    assert [
        not_taken_place("e", "scheduled", ENDS, "UTC", after, what="a report"),
        not_taken_place("e", "held", ENDS, "UTC", NOW, what="a report"),
        not_taken_place("e", "reported", ENDS, "UTC", NOW, what="attendance"),
    ] == [None, None, None]


def test_not_taken_place_draft_inviting_and_cancelled_are_refused_even_after_the_end() -> None:
    after = ENDS + dt.timedelta(days=1)

    assert [
        not_taken_place("e", status, ENDS, "UTC", after, what="attendance")
        for status in ("draft", "inviting", "cancelled")
    ] == [
        "event 'e' is draft: no attendance to record yet",
        "event 'e' is inviting: no attendance to record yet",
        "event 'e' is cancelled: there is no attendance of it",
    ]


def test_held_and_reopen_refusals() -> None:
    assert [held_refusal("e", s) for s in ("draft", "inviting", "scheduled", "cancelled")] == [
        "event 'e' is a draft: nobody was invited to it",
        None,
        None,
        "event 'e' is cancelled: it was not held",
    ]
    assert [reopen_refusal("e", s) for s in ("reported", "held")] == [
        None,
        "event 'e' is held, not reported: there is nothing to reopen",
    ]


def _spec(host: str, venue: str, rooms: dict[str, str], edition: int) -> dict[str, object]:
    return {
        "host_city": host,
        "edition": edition,
        "venue": venue,
        "venues": {"en": venue},
        "sessions": [{"key": k, "room": r} for k, r in rooms.items()],
    }


def test_edition_placeholders_name_the_venue_and_each_room_of_the_previous_host() -> None:
    previous = _spec("Tokyo", "Tokyo Big Sight", {"opening": "Hall A", "forum": "Room 3"}, 13)
    draft = _spec("Beijing", "(to be decided)", {"opening": "Hall A", "forum": "Room 9"}, 14)

    assert edition_placeholders(draft, previous) == [
        "venue: '(to be decided)': to be decided",
        "sessions.opening.room: 'Hall A': a room of Tokyo (edition 13)",
    ]


def test_edition_placeholders_same_host_or_filled_in_is_clear() -> None:
    previous = _spec("Beijing", "BICC", {"opening": "Hall A"}, 11)

    assert edition_placeholders(_spec("Beijing", "BICC", {"opening": "Hall A"}, 12), previous) == []
    assert edition_placeholders(_spec("Tokyo", "Big Sight", {"opening": "B1"}, 12), previous) == []
    assert edition_placeholders(_spec("Tokyo", "BICC", {"opening": "B1"}, 12), previous) == [
        "venue: 'BICC': the venue of Beijing (edition 11)"
    ]


def test_guest_refusal_partner_host_invites_itself() -> None:
    assert guest_refusal("bts-13", "Tokyo", hosted_at_home=False) == (
        "event 'bts-13' is hosted by Tokyo: the office is its guest, and Tokyo sends the "
        "invitations; nothing was sent"
    )
    assert guest_refusal("bts-12", "Beijing", hosted_at_home=True) is None
