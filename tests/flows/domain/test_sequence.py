"""Which edits of an event raise its SEQUENCE when a spec is applied."""

from __future__ import annotations

from flows.domain.sequence import (
    event_bumps,
    event_change_kind,
    moves_place,
    session_bumps,
    session_change_kind,
)


def test_event_bumps_on_a_new_time_or_place() -> None:
    assert [event_bumps([f]) for f in ("start_dt", "end_dt", "venue", "timezone")] == [True] * 4


def test_event_bumps_not_on_titles_or_audience() -> None:
    assert event_bumps(["titles", "audience", "kind", "is_bilingual"]) is False


def test_moves_place_on_venue_but_not_on_time() -> None:
    assert (moves_place(["venue_address"]), moves_place(["start_dt", "end_dt"])) == (True, False)


def test_session_bumps_on_time_or_cancellation() -> None:
    fields = ("start_dt", "end_dt", "is_cancelled")

    assert [session_bumps([f], place_moved=False) for f in fields] == [True] * 3


def test_session_bumps_not_on_room_title_topic_or_speakers() -> None:
    # RFC 5546 §2.1.4: another hall at the same venue does not jeopardise the answers
    fields = ["room", "title", "topic", "speakers", "cities"]

    assert session_bumps(fields, place_moved=False) is False


def test_change_kinds_name_significant_minor_and_hidden() -> None:
    assert [event_change_kind(f) for f in ("start_dt", "venue", "titles", "audience")] == [
        "significant",
        "significant",
        "minor",
        "not in calendars",
    ]
    assert [
        session_change_kind("room", place_moved=False),
        session_change_kind("title", place_moved=False),
        session_change_kind("end_dt", place_moved=False),
        session_change_kind("room", place_moved=True),
    ] == ["minor", "minor", "significant", "significant"]


def test_session_bumps_when_the_event_place_moved() -> None:
    assert session_bumps([], place_moved=True) is True
