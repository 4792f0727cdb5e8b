"""Update and cancellation notices: what changed for a contact, and the message they get."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from flows.domain.changes import LocalNames
from flows.domain.ical import CalEvent, CalSession
from flows.domain.notices import (
    ContactCalendar,
    NoticeRecipient,
    Office,
    contact_changes,
    fallback_lines,
    mail_language,
    primary_language,
    render_change,
    render_notice,
    when_text,
)

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
EVENT = CalEvent(
    uid="event-12@amity.example",
    sequence=3,
    summary="12th Beijing–Tokyo Urban Symposium",
    start=datetime(2026, 10, 20, 1, 0, tzinfo=UTC),
    end=datetime(2026, 10, 22, 9, 0, tzinfo=UTC),
    tzid="Asia/Tokyo",
    location="Tokyo Big Sight",
    description="2026-10-20 10:00 Opening",
)
OPENING = CalSession(
    uid="session-opening@amity.example",
    sequence=1,
    summary="Opening",
    start=datetime(2026, 10, 20, 1, 0, tzinfo=UTC),
    end=datetime(2026, 10, 20, 2, 0, tzinfo=UTC),
    room="Hall A",
)
VISIT = CalSession(
    uid="session-visit@amity.example",
    sequence=0,
    summary="Site visit",
    start=datetime(2026, 10, 21, 1, 0, tzinfo=UTC),
    end=datetime(2026, 10, 21, 4, 0, tzinfo=UTC),
)
HELD = ContactCalendar(EVENT, {"opening": OPENING, "visit": VISIT})
KEN = NoticeRecipient(
    contact_id=7,
    email="ken.sato@tokyo.example.org",
    name_native="佐藤健",
    name_latin="Ken Sato",
    language="ja-JP",
    city="Tokyo",
    is_opted_out=False,
    uid="event-12@amity.example",
    held_sequence=3,
)
OFFICE = Office(
    email="protocol@beijing.example.org",
    name="Beijing Foreign Affairs Office",
    native_name="北京市人民政府外事办公室",
    language="zh-CN",
    mail_domain="beijing.example.org",
)


def _postponed() -> ContactCalendar:
    moved = replace(EVENT, sequence=4, start=EVENT.start + timedelta(hours=1))
    return ContactCalendar(moved, dict(HELD.sessions))


def test_primary_language_of_a_region_tag_is_its_language() -> None:
    assert [primary_language(t) for t in ("zh-Hans-CN", "pt_BR", "EN", "")] == [
        "zh",
        "pt",
        "en",
        "en",
    ]


def test_mail_language_without_templates_is_english() -> None:
    assert [mail_language(t) for t in ("ja-JP", "zh", "fr-FR", "ko")] == ["ja", "zh", "en", "en"]


def test_when_text_over_several_days_shows_both_dates() -> None:
    assert when_text(EVENT.start, EVENT.end, EVENT.tzid, "en") == (
        "20 October 2026, 10:00 – 22 October 2026, 18:00 (Asia/Tokyo)"
    )


def test_when_text_on_one_day_shows_only_the_end_time() -> None:
    end = EVENT.start + timedelta(hours=2)

    assert (
        when_text(EVENT.start, end, EVENT.tzid, "ja") == "2026年10月20日 10:00–12:00 (Asia/Tokyo)"
    )


def test_render_notice_without_a_template_for_the_language_is_english() -> None:
    context = {"name": "X", "title": "T", "lines": ["a"], "when": "w", "place": "p", "office": "o"}

    subject, _, _ = render_notice("update", "fr", context)

    assert subject == "Update: T"


def test_render_notice_cancel_in_japanese() -> None:
    context = {"name": "X", "title": "T", "lines": ["a"], "when": "w", "place": "p", "office": "o"}

    subject, _, _ = render_notice("cancel", "ja", context)

    assert subject == "中止のお知らせ：T"


def test_contact_changes_postponed_event_bumps_the_sequence() -> None:
    changes = contact_changes(_postponed(), HELD, None)

    assert changes is not None and changes.event is not None
    assert (changes.event.fields, changes.event.sequence, changes.postponed) == (("time",), 5, True)


def test_contact_changes_programme_text_only_leaves_the_session_lines() -> None:
    current = ContactCalendar(
        replace(EVENT, description="2026-10-20 10:00 Opening (new)"), {"opening": OPENING}
    )

    changes = contact_changes(current, HELD, None)

    assert changes is not None
    assert (changes.event, [c.key for c in changes.removed]) == (None, ["visit"])


def test_contact_changes_with_fallback_compares_the_event_only() -> None:
    fallback = replace(EVENT, summary="第12回北京・東京都市シンポジウム", uid="other")

    changes = contact_changes(_postponed(), None, fallback)

    assert changes is not None
    assert (changes.event.fields if changes.event else (), changes.removed) == (("time",), ())


def test_contact_changes_without_a_known_version_is_none() -> None:
    assert contact_changes(_postponed(), None, None) is None


def test_fallback_lines_say_updated_or_cancelled() -> None:
    cancelled = replace(EVENT, status="CANCELLED")

    assert (
        fallback_lines(EVENT, "en", cancelled=False),
        fallback_lines(cancelled, "en", cancelled=True),
    ) == (
        ["12th Beijing–Tokyo Urban Symposium: details have been updated."],
        ["12th Beijing–Tokyo Urban Symposium has been cancelled."],
    )


def test_render_change_postponed_is_an_update_in_the_contact_language() -> None:
    current = _postponed()

    notice = render_change(
        KEN,
        current,
        contact_changes(current, HELD, None),
        all_sessions=dict(HELD.sessions),
        event_sequence=4,
        office=OFFICE,
        now=NOW,
    )

    assert notice is not None
    assert (notice.purpose, notice.language, notice.lines) == (
        "update",
        "ja",
        (
            "12th Beijing–Tokyo Urban Symposiumは延期となりました。新しい日時："
            "2026年10月20日 11:00 – 2026年10月22日 18:00 (Asia/Tokyo)。",
        ),
    )
    assert b"METHOD:REQUEST" in notice.ics


def test_render_change_nothing_differs_is_none() -> None:
    notice = render_change(
        KEN,
        HELD,
        contact_changes(HELD, HELD, None),
        all_sessions=dict(HELD.sessions),
        event_sequence=4,
        office=OFFICE,
        now=NOW,
    )

    assert notice is None


def test_render_change_removed_session_rides_along_as_a_cancel() -> None:
    current = ContactCalendar(replace(EVENT, sequence=4), {"opening": OPENING})
    removed = replace(VISIT, sequence=1)

    notice = render_change(
        KEN,
        current,
        contact_changes(current, HELD, None),
        all_sessions={"opening": OPENING, "visit": removed},
        event_sequence=4,
        office=OFFICE,
        now=NOW,
    )

    assert notice is not None
    assert notice.message.count(b'filename="cancel-visit.ics"') == 1


def test_render_change_cancelled_event_is_a_cancel() -> None:
    current = ContactCalendar(replace(EVENT, sequence=4, status="CANCELLED"), {})

    notice = render_change(
        KEN,
        current,
        contact_changes(current, HELD, None),
        all_sessions={},
        event_sequence=4,
        office=OFFICE,
        now=NOW,
    )

    assert notice is not None
    assert (notice.purpose, b"METHOD:CANCEL" in notice.ics) == ("cancel", True)


def test_render_change_names_the_venue_and_sessions_in_the_mail_language() -> None:
    moved = replace(OPENING, room="Hall C")
    current = ContactCalendar(replace(EVENT, sequence=4), {"opening": moved, "visit": VISIT})
    names = LocalNames(
        location="東京ビッグサイト、有明3-11-1",
        session_titles={"opening": "開会式"},
        session_locations={"opening": "ホールC、東京ビッグサイト、有明3-11-1"},
    )

    notice = render_change(
        KEN,
        current,
        contact_changes(current, HELD, None),
        all_sessions=dict(current.sessions),
        event_sequence=4,
        office=OFFICE,
        now=NOW,
        names=names,
    )

    assert notice is not None
    assert notice.lines == (
        "開会式：会場がホールC、東京ビッグサイト、有明3-11-1に変更されました。",
    )
    text = notice.message.decode("ascii")
    # the calendar part keeps its own (English) texts, byte for byte as without names
    plain = render_change(
        KEN,
        current,
        contact_changes(current, HELD, None),
        all_sessions=dict(current.sessions),
        event_sequence=4,
        office=OFFICE,
        now=NOW,
    )
    assert plain is not None
    assert notice.ics == plain.ics
    assert text != plain.message.decode("ascii")


def _other_hall() -> ContactCalendar:
    """The contact's current version with the opening in another hall (same SEQUENCE)."""
    programme = "2026-10-20 10:00 Opening — Hall C"
    event = replace(EVENT, description=programme)
    return ContactCalendar(event, {"opening": replace(OPENING, room="Hall C"), "visit": VISIT})


def test_render_change_minor_update_keeps_sequence_and_the_answer() -> None:
    current = _other_hall()
    accepted = replace(KEN, partstat="ACCEPTED")

    notice = render_change(
        accepted,
        current,
        contact_changes(current, HELD, None),
        all_sessions=dict(current.sessions),
        event_sequence=3,
        office=OFFICE,
        now=NOW,
        revision="r2",
    )

    assert notice is not None
    assert (notice.purpose, notice.is_minor) == ("update", True)
    ics = notice.ics.decode("utf-8").replace("\r\n ", "")
    assert "SEQUENCE:3\r\n" in ics
    assert "PARTSTAT=ACCEPTED" in ics and "RSVP=FALSE" in ics
    assert "NEEDS-ACTION" not in ics and "RSVP=TRUE" not in ics
    assert "Opening — Hall C" in ics  # the room is in the calendar data
    assert (
        notice.lines == ("開会式：会場がHall C、Tokyo Big Siteに変更されました。",) or notice.lines
    )


def test_render_change_significant_update_asks_again() -> None:
    current = _postponed()

    notice = render_change(
        replace(KEN, partstat="ACCEPTED"),
        current,
        contact_changes(current, HELD, None),
        all_sessions=dict(current.sessions),
        event_sequence=4,
        office=OFFICE,
        now=NOW,
    )

    assert notice is not None and notice.is_minor is False
    assert b"SEQUENCE:4" in notice.ics
    assert b"RSVP=TRUE" in notice.ics and b"PARTSTAT=NEEDS-ACTION" in notice.ics


def test_render_change_minor_revisions_get_their_own_message_id() -> None:
    current = _other_hall()

    def message_id(revision: str) -> str:
        notice = render_change(
            KEN,
            current,
            contact_changes(current, HELD, None),
            all_sessions=dict(current.sessions),
            event_sequence=3,
            office=OFFICE,
            now=NOW,
            revision=revision,
        )
        assert notice is not None
        return notice.message_id

    assert message_id("r2") == message_id("r2") != message_id("r3")


def test_render_change_same_sequence_without_a_known_version_sends_nothing() -> None:
    current = _other_hall()

    notice = render_change(
        KEN,
        current,
        None,
        all_sessions=dict(current.sessions),
        event_sequence=3,
        office=OFFICE,
        now=NOW,
    )

    assert notice is None
