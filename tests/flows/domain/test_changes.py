"""What changed between two snapshots, which SEQUENCE to send, and the digest for people."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from flows.domain.changes import (
    ComponentChange,
    apply_sequences,
    compute_changes,
    summarize_changes,
    summary_language,
)
from flows.domain.ical import CalEvent, CalSession

EVENT = CalEvent(
    uid="event-12@amity.example",
    sequence=3,
    summary="12th Beijing–Tokyo Urban Symposium",
    start=datetime(2026, 10, 20, 1, 0, tzinfo=UTC),
    end=datetime(2026, 10, 22, 9, 0, tzinfo=UTC),
    tzid="Asia/Tokyo",
    location="Tokyo Big Sight",
)
OPENING = CalSession(
    uid="session-1@amity.example",
    sequence=1,
    summary="Opening",
    start=datetime(2026, 10, 20, 1, 0, tzinfo=UTC),
    end=datetime(2026, 10, 20, 2, 0, tzinfo=UTC),
    room="Hall A",
)
PANEL = CalSession(
    uid="session-2@amity.example",
    sequence=0,
    summary="Population management",
    start=datetime(2026, 10, 20, 3, 0, tzinfo=UTC),
    end=datetime(2026, 10, 20, 5, 0, tzinfo=UTC),
    room="Hall B",
)
SESSIONS = {"opening": OPENING, "panel": PANEL}


def test_compute_changes_same_snapshot_is_empty() -> None:
    changes = compute_changes(EVENT, SESSIONS, replace(EVENT), dict(SESSIONS))

    assert (bool(changes), changes.is_empty) == (False, True)
    assert summarize_changes(changes, "en") == []


def test_compute_changes_moved_session_bumps_only_that_session() -> None:
    moved = replace(
        PANEL, start=PANEL.start + timedelta(hours=1), end=PANEL.end + timedelta(hours=1)
    )

    changes = compute_changes(EVENT, SESSIONS, EVENT, {**SESSIONS, "panel": moved})

    assert changes.event is None
    assert changes.sessions == (ComponentChange("panel", PANEL.uid, ("time",), sequence=1),)
    assert changes.sessions[0].bump is True


def test_compute_changes_title_only_keeps_sequence() -> None:
    renamed = replace(EVENT, summary="Urban Symposium 2026")

    changes = compute_changes(EVENT, SESSIONS, renamed, SESSIONS)

    assert changes.event == ComponentChange("event", EVENT.uid, ("summary",), sequence=3)
    assert changes.event.bump is False


def test_compute_changes_new_venue_moves_every_session() -> None:
    changes = compute_changes(EVENT, SESSIONS, replace(EVENT, location="Tokyo Forum"), SESSIONS)

    assert changes.event == ComponentChange("event", EVENT.uid, ("location",), sequence=4)
    assert [(c.key, c.fields, c.sequence) for c in changes.sessions] == [
        ("opening", ("location",), 2),
        ("panel", ("location",), 1),
    ]


def test_compute_changes_added_and_removed_sessions() -> None:
    closing = replace(PANEL, uid="session-3@amity.example", summary="Closing")

    changes = compute_changes(EVENT, SESSIONS, EVENT, {"opening": OPENING, "closing": closing})

    assert changes.added == ("closing",)
    assert changes.removed == (ComponentChange("panel", PANEL.uid, ("status",), sequence=1),)


def test_compute_changes_cancelled_event() -> None:
    changes = compute_changes(EVENT, SESSIONS, replace(EVENT, status="CANCELLED"), SESSIONS)

    assert (changes.cancelled, changes.postponed) == (True, False)
    assert changes.event == ComponentChange("event", EVENT.uid, ("status",), sequence=4)
    assert summarize_changes(changes, "fr") == ["12th Beijing–Tokyo Urban Symposium est annulé."]


def test_compute_changes_postponed_event() -> None:
    later = replace(
        EVENT, start=EVENT.start + timedelta(days=30), end=EVENT.end + timedelta(days=30)
    )

    changes = compute_changes(EVENT, SESSIONS, later, SESSIONS)

    assert (changes.cancelled, changes.postponed) == (False, True)


def test_compute_changes_changed_uid_is_refused() -> None:
    with pytest.raises(ValueError, match="UID changed"):
        compute_changes(EVENT, SESSIONS, replace(EVENT, uid="other"), SESSIONS)


def test_apply_sequences_sets_bumped_values() -> None:
    moved_event = replace(EVENT, start=EVENT.start - timedelta(hours=1))
    changes = compute_changes(EVENT, SESSIONS, moved_event, SESSIONS)

    event, sessions = apply_sequences(changes, moved_event, SESSIONS)

    assert (event.sequence, sessions["opening"].sequence, sessions["panel"].sequence) == (4, 1, 0)


def test_summarize_changes_english_digest() -> None:
    moved = replace(
        PANEL,
        start=PANEL.start + timedelta(hours=1),
        end=PANEL.end + timedelta(hours=1),
        room="Hall C",
    )
    closing = replace(
        PANEL,
        uid="session-3@amity.example",
        summary="Closing",
        start=datetime(2026, 10, 22, 7, 0, tzinfo=UTC),
        end=datetime(2026, 10, 22, 8, 0, tzinfo=UTC),
    )
    changes = compute_changes(EVENT, SESSIONS, EVENT, {"panel": moved, "closing": closing})

    assert summarize_changes(changes, "en") == [
        "Population management: new time 20 October 2026, 13:00 – 15:00 (Asia/Tokyo).",
        "Population management: new place: Hall C, Tokyo Big Sight.",
        "New session: Closing, 22 October 2026, 16:00 – 17:00 (Asia/Tokyo).",
        "Session cancelled: Opening.",
    ]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "议程取消：Opening。"),
        ("ja", "セッション中止：Opening。"),
        ("ko", "세션 취소: Opening."),
        ("es", "Sesión cancelada: Opening."),
        ("fr", "Séance annulée : Opening."),
        ("de", "Sitzung abgesagt: Opening."),
        ("ru", "Заседание отменено: «Opening»."),
        ("ar", "تم إلغاء الجلسة: Opening."),
        ("pt-BR", "Session cancelled: Opening."),
    ],
)
def test_summarize_changes_in_each_language(lang: str, expected: str) -> None:
    changes = compute_changes(EVENT, SESSIONS, EVENT, {"panel": PANEL})

    assert summarize_changes(changes, lang) == [expected]


def test_summarize_changes_dates_in_the_readers_locale() -> None:
    later = replace(PANEL, start=PANEL.start + timedelta(days=1), end=PANEL.end + timedelta(days=1))
    changes = compute_changes(EVENT, SESSIONS, EVENT, {**SESSIONS, "panel": later})

    assert summarize_changes(changes, "de") == [
        "Population management: neue Zeit 21. Oktober 2026, 12:00 – 14:00 (Asia/Tokyo)."
    ]


@pytest.mark.parametrize(
    ("lang", "expected"), [("zh_CN", "zh"), ("zh-Hant-TW", "zh"), ("pt", "en"), ("AR", "ar")]
)
def test_summary_language_falls_back_to_english(lang: str, expected: str) -> None:
    assert summary_language(lang) == expected


def test_compute_changes_new_room_is_minor_same_sequence() -> None:
    other_hall = replace(PANEL, room="Hall C")

    changes = compute_changes(EVENT, SESSIONS, EVENT, {**SESSIONS, "panel": other_hall})

    (change,) = changes.sessions
    assert (change.fields, change.bump, change.sequence) == (("room",), False, PANEL.sequence)
    assert changes.event is None
    assert summarize_changes(changes, "en") == [
        "Population management: new place: Hall C, Tokyo Big Sight."
    ]
