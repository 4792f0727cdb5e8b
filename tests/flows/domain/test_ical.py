"""iCalendar building: golden files, the byte-level RFC rules, and two parsers agreeing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from flows.domain.ical import (
    CalEvent,
    CalSession,
    Person,
    caldav_objects,
    cancel_ics,
    ensure_local_time_exists,
    feed_ics,
    invitation_ics,
    session_cancel_ics,
    subset_feeds,
    vtimezone,
)
from tests.goldens import golden
from tests.ics_rules import ics_problems, parser_disagreements, update_problems

STAMP = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)
OFFICE = Person("foreign-affairs@city.example", "Foreign Affairs Office")
TAKAHASHI = Person("takahashi@tokyo.example", "高橋 一郎")
HOSTILE = 'Room 3, Building B; "East" wing\\annex\nsecond line, 会议室 ، قاعة'

SYMPOSIUM = CalEvent(
    uid="event-12-symposium@amity.example",
    sequence=0,
    summary="12th Beijing–Tokyo Urban Symposium",
    start=datetime(2026, 10, 20, 1, 0, tzinfo=UTC),
    end=datetime(2026, 10, 22, 9, 0, tzinfo=UTC),
    tzid="Asia/Tokyo",
    description="Urban construction, administration and population management.",
    location="Tokyo Metropolitan Government Building, Shinjuku",
    categories=("Symposium", "Urban planning"),
)
# A week that crosses the end of summer time in Berlin (25 October 2026).
MUSIC_WEEK = CalEvent(
    uid="event-3-music-week@amity.example",
    sequence=2,
    summary="Music Week for Friendship Cities",
    start=datetime(2026, 10, 23, 16, 0, tzinfo=UTC),
    end=datetime(2026, 10, 27, 21, 0, tzinfo=UTC),
    tzid="Europe/Berlin",
    location="Konzerthaus Berlin, Gendarmenmarkt",
    categories=("Festival",),
    url="https://city.example/events/music-week",
)
CONCERTS = [
    CalSession(
        uid="session-31@amity.example",
        sequence=0,
        summary="Opening concert",
        start=datetime(2026, 10, 23, 17, 0, tzinfo=UTC),
        end=datetime(2026, 10, 23, 19, 0, tzinfo=UTC),
        room="Großer Saal",
        topic="Orchestras of the partner cities",
        speakers=("Li Wei", "Anna Schmidt"),
    ),
    CalSession(
        uid="session-32@amity.example",
        sequence=1,
        summary="Chamber music after the clock change",
        start=datetime(2026, 10, 25, 18, 0, tzinfo=UTC),
        end=datetime(2026, 10, 25, 20, 0, tzinfo=UTC),
        room="Kleiner Saal",
        topic="Quartets from Tokyo and Cairo",
        speakers=("山田 花子", "أحمد حسن"),
        categories=("Concert",),
    ),
]


def _builds() -> dict[str, bytes]:
    moved = replace(
        SYMPOSIUM,
        sequence=1,
        start=SYMPOSIUM.start + timedelta(days=7),
        end=SYMPOSIUM.end + timedelta(days=7),
    )
    hostile_event = replace(MUSIC_WEEK, summary=HOSTILE, location=HOSTILE, description=HOSTILE)
    hostile_session = replace(
        CONCERTS[0],
        summary=HOSTILE,
        room=HOSTILE,
        topic=HOSTILE,
        speakers=(HOSTILE,),
        categories=("a,b", "c;d"),
    )
    return {
        "invitation.ics": invitation_ics(
            SYMPOSIUM,
            organizer=OFFICE,
            attendee=TAKAHASHI,
            stamp=STAMP,
            alarm_before=timedelta(days=1),
        ),
        "update.ics": invitation_ics(
            moved, organizer=OFFICE, attendee=TAKAHASHI, stamp=STAMP + timedelta(days=2)
        ),
        "cancel.ics": cancel_ics(
            replace(moved, sequence=2),
            organizer=OFFICE,
            attendees=[TAKAHASHI, Person("sato@tokyo.example", "Sato, Hanako")],
            stamp=STAMP + timedelta(days=3),
        ),
        "session_cancel.ics": session_cancel_ics(
            MUSIC_WEEK,
            replace(CONCERTS[1], sequence=2),
            organizer=OFFICE,
            attendees=[TAKAHASHI],
            stamp=STAMP,
        ),
        "feed.ics": feed_ics(MUSIC_WEEK, CONCERTS, name="Music Week 2026", stamp=STAMP),
        "hostile_feed.ics": feed_ics(hostile_event, [hostile_session], name=HOSTILE, stamp=STAMP),
        "hostile_invitation.ics": invitation_ics(
            hostile_event,
            organizer=OFFICE,
            attendee=Person("x@example.org", 'Dr. "Quote", Name: with; specials\r\nBcc: x'),
            stamp=STAMP,
        ),
    }


BUILDS = _builds()


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_golden_ics_matches_file(name: str) -> None:
    golden(f"ics/{name}", BUILDS[name])


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_golden_ics_follows_the_rules(name: str) -> None:
    assert ics_problems(BUILDS[name]) == []


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_golden_ics_reads_the_same_in_three_parsers(name: str) -> None:
    assert parser_disagreements(BUILDS[name]) == []


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_golden_ics_has_every_vtimezone(name: str) -> None:
    assert icalendar.Calendar.from_ical(BUILDS[name]).get_missing_tzids() == set()


def test_build_same_input_gives_same_bytes() -> None:
    assert _builds() == BUILDS


def test_invitation_attendee_and_organizer_parameters() -> None:
    calendar = icalendar.Calendar.from_ical(BUILDS["invitation.ics"])
    vevent = calendar.events[0]
    attendee = vevent["ATTENDEE"]

    assert calendar["METHOD"] == "REQUEST"
    assert "X-WR-CALNAME" not in calendar and "NAME" not in calendar
    assert str(attendee) == "mailto:takahashi@tokyo.example"
    assert dict(attendee.params) == {
        "CN": "高橋 一郎",
        "CUTYPE": "INDIVIDUAL",
        "PARTSTAT": "NEEDS-ACTION",
        "ROLE": "REQ-PARTICIPANT",
        "RSVP": "TRUE",
    }
    assert str(vevent["ORGANIZER"]) == "mailto:foreign-affairs@city.example"
    assert datetime(2026, 10, 20, 10, 0, tzinfo=vevent.DTSTART.tzinfo) == vevent.DTSTART
    assert (
        vevent.DTSTART.tzinfo is not None and str(vevent["DTSTART"].params["TZID"]) == "Asia/Tokyo"
    )


def test_invitation_cn_loses_quotes_and_line_breaks() -> None:
    vevent = icalendar.Calendar.from_ical(BUILDS["hostile_invitation.ics"]).events[0]

    assert vevent["ATTENDEE"].params["CN"] == "Dr. Quote, Name: with; specials Bcc: x"


def test_update_keeps_uid_and_raises_sequence() -> None:
    assert update_problems(BUILDS["invitation.ics"], BUILDS["update.ics"]) == []


def test_update_without_sequence_bump_is_reported() -> None:
    moved = replace(SYMPOSIUM, start=SYMPOSIUM.start + timedelta(hours=1))
    same_sequence = invitation_ics(
        moved, organizer=OFFICE, attendee=TAKAHASHI, stamp=STAMP + timedelta(days=1)
    )

    assert update_problems(BUILDS["invitation.ics"], same_sequence) == [
        "event-12-symposium@amity.example: time/recurrence/status/location changed, "
        "SEQUENCE stayed 0"
    ]


def test_cancel_lists_attendees_without_alarm() -> None:
    calendar = icalendar.Calendar.from_ical(BUILDS["cancel.ics"])
    vevent = calendar.events[0]

    assert (calendar["METHOD"], vevent["STATUS"], vevent["SEQUENCE"]) == ("CANCEL", "CANCELLED", 2)
    assert [str(a) for a in vevent["ATTENDEE"]] == [
        "mailto:takahashi@tokyo.example",
        "mailto:sato@tokyo.example",
    ]
    assert vevent.subcomponents == []
    assert update_problems(BUILDS["update.ics"], BUILDS["cancel.ics"]) == []


def test_feed_has_event_and_sessions_with_place_and_speakers() -> None:
    calendar = icalendar.Calendar.from_ical(BUILDS["feed.ics"])
    events = calendar.events

    assert "METHOD" not in calendar
    assert str(calendar["X-WR-CALNAME"]) == "Music Week 2026"
    assert [str(e["UID"]) for e in events] == [
        MUSIC_WEEK.uid,
        "session-31@amity.example",
        "session-32@amity.example",
    ]
    assert str(events[2]["LOCATION"]) == "Kleiner Saal, Konzerthaus Berlin, Gendarmenmarkt"
    assert str(events[2]["DESCRIPTION"]) == "Quartets from Tokyo and Cairo\n\n山田 花子, أحمد حسن"
    assert events[2].categories == ["Concert"]
    assert events[1].categories == ["Festival"]
    assert all("ATTENDEE" not in e for e in events)


def test_feed_covers_both_sides_of_the_dst_change() -> None:
    vevents = icalendar.Calendar.from_ical(BUILDS["feed.ics"]).events

    assert [e.DTSTART.utcoffset() for e in vevents[1:]] == [timedelta(hours=2), timedelta(hours=1)]


def test_hostile_text_round_trips_through_both_parsers() -> None:
    vevent = icalendar.Calendar.from_ical(BUILDS["hostile_feed.ics"]).events[1]

    assert str(vevent["SUMMARY"]) == HOSTILE
    assert str(vevent["LOCATION"]) == f"{HOSTILE}, {HOSTILE}"
    assert vevent.categories == ["a,b", "c;d"]
    assert parser_disagreements(BUILDS["hostile_feed.ics"]) == []


def test_subset_feed_equals_feed_of_chosen_sessions() -> None:
    feeds = subset_feeds(
        MUSIC_WEEK,
        CONCERTS,
        {"tokyo": {"session-32@amity.example"}, "none": set()},
        name="Music Week 2026",
        stamp=STAMP,
    )

    assert feeds == {
        "tokyo": feed_ics(MUSIC_WEEK, CONCERTS[1:], name="Music Week 2026", stamp=STAMP),
        "none": feed_ics(MUSIC_WEEK, [], name="Music Week 2026", stamp=STAMP),
    }


def test_caldav_objects_one_vevent_each_without_method_or_name() -> None:
    objects = caldav_objects(MUSIC_WEEK, CONCERTS, STAMP)

    assert list(objects) == [MUSIC_WEEK.uid, *(s.uid for s in CONCERTS)]
    for uid, data in objects.items():
        calendar = icalendar.Calendar.from_ical(data)
        assert [str(e["UID"]) for e in calendar.events] == [uid]
        assert ("METHOD" in calendar, "X-WR-CALNAME" in calendar, "NAME" in calendar) == (
            False,
            False,
            False,
        )
        assert ics_problems(data) == []


@pytest.mark.parametrize(
    "tzid",
    [
        "Europe/Berlin",
        "America/New_York",
        "America/Santiago",
        "Australia/Lord_Howe",
        "Africa/Casablanca",
        "Europe/Dublin",
        "Asia/Tokyo",
        "Pacific/Chatham",
        "Asia/Tehran",
    ],
)
def test_vtimezone_offsets_agree_with_zoneinfo(tzid: str) -> None:
    event = replace(
        SYMPOSIUM,
        tzid=tzid,
        start=datetime(2026, 1, 5, tzinfo=UTC),
        end=datetime(2027, 12, 20, tzinfo=UTC),
    )

    data = invitation_ics(event, organizer=OFFICE, attendee=TAKAHASHI, stamp=STAMP)

    assert ics_problems(data) == []
    assert parser_disagreements(data) == []


def test_vtimezone_from_icalendar_alone_is_an_hour_late_in_spring() -> None:
    # Why flows.domain.ical builds its own: icalendar's onset of a forward jump is 03:00, in
    # TZOFFSETFROM time that is 02:00 UTC instead of 01:00 UTC.
    event = replace(MUSIC_WEEK, start=datetime(2026, 3, 20, tzinfo=UTC))
    ours = invitation_ics(event, organizer=OFFICE, attendee=TAKAHASHI, stamp=STAMP)
    theirs = icalendar.Timezone.from_tzid(
        "Europe/Berlin", first_date=date(2026, 1, 1), last_date=date(2027, 1, 1)
    ).to_ical()
    head, rest = ours.split(b"BEGIN:VTIMEZONE\r\n")
    swapped = head + theirs + rest.split(b"END:VTIMEZONE\r\n")[1]

    assert ics_problems(swapped)[:1] == [
        "VTIMEZONE Europe/Berlin: at 2026-03-29 01:00:00Z the offset is 1:00:00, "
        "zoneinfo says 2:00:00"
    ]


def test_vtimezone_is_built_once_per_zone_and_span() -> None:
    assert vtimezone("Asia/Tokyo", 2026, 2026) is vtimezone("Asia/Tokyo", 2026, 2026)


@pytest.mark.parametrize(
    ("local", "message"),
    [
        ("2026-03-29T02:30", "2026-03-29 02:30 does not exist in Europe/Berlin"),
        ("2026-10-25T02:30", "2026-10-25 02:30 occurs twice in Europe/Berlin"),
    ],
)
def test_ensure_local_time_exists_refuses_dst_times(local: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ensure_local_time_exists(datetime.fromisoformat(local), "Europe/Berlin")


def test_ensure_local_time_exists_accepts_ordinary_time() -> None:
    assert ensure_local_time_exists(datetime(2026, 10, 25, 3, 30), "Europe/Berlin") is None


def test_cal_event_with_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        replace(SYMPOSIUM, start=datetime(2026, 10, 20, 9))


def test_cal_session_ending_before_start_is_refused() -> None:
    with pytest.raises(ValueError, match="is not after start"):
        replace(CONCERTS[0], end=CONCERTS[0].start)


# --- each rule fails on a deliberately broken file ----------------------------------------

GOOD = BUILDS["invitation.ics"]
GOOD_CANCEL = BUILDS["cancel.ics"]


def _sub(old: bytes, new: bytes, data: bytes = GOOD) -> bytes:
    assert old in data, old
    return data.replace(old, new, 1)


def _drop_block(name: bytes, data: bytes = GOOD) -> bytes:
    head, rest = data.split(b"BEGIN:" + name + b"\r\n", 1)
    return head + rest.split(b"END:" + name + b"\r\n", 1)[1]


BROKEN = {
    "bare_lf": (GOOD.replace(b"\r\n", b"\n"), "bare LF"),
    "no_final_crlf": (GOOD[:-2], "does not end with CRLF"),
    "long_line": (_sub(b"DESCRIPTION:Urban", b"DESCRIPTION:" + b"x" * 80 + b"Urban"), "octets"),
    "utf8_split": (
        _sub(
            "高橋".encode(),
            "高".encode() + b"\r\n " + "橋".encode()[:1] + b"\r\n " + "橋".encode()[1:],
        ),
        "invalid UTF-8",
    ),
    "no_version": (_sub(b"VERSION:2.0\r\n", b""), "exactly one VERSION"),
    "no_prodid": (_sub(b"PRODID:-//amity//amity calendar 1.0//EN\r\n", b""), "exactly one PRODID"),
    "two_vcalendars": (GOOD + GOOD, "exactly one VCALENDAR"),
    "unbalanced": (_sub(b"END:VALARM\r\n", b""), "does not match a BEGIN"),
    "no_uid": (_sub(b"UID:event-12-symposium@amity.example\r\n", b""), "exactly one UID"),
    "two_uids": (_sub(b"SEQUENCE:0\r\n", b"SEQUENCE:0\r\nUID:other\r\n"), "exactly one UID"),
    "no_dtstamp": (_sub(b"DTSTAMP:20260504T030000Z\r\n", b""), "exactly one DTSTAMP"),
    "local_dtstamp": (
        _sub(b"DTSTAMP:20260504T030000Z", b"DTSTAMP:20260504T030000"),
        "is not a UTC date-time",
    ),
    "duplicate_uid": (
        _sub(
            b"END:VCALENDAR",
            BUILDS["invitation.ics"].split(b"END:VTIMEZONE\r\n")[1].split(b"END:VCALENDAR")[0]
            + b"END:VCALENDAR",
        ),
        "is not unique",
    ),
    "tzid_without_vtimezone": (_drop_block(b"VTIMEZONE"), "has no VTIMEZONE"),
    "dtend_before_dtstart": (
        _sub(b"DTEND;TZID=Asia/Tokyo:20261022T180000", b"DTEND;TZID=Asia/Tokyo:20261019T180000"),
        "not after DTSTART",
    ),
    "dtend_and_duration": (
        _sub(b"SEQUENCE:0\r\n", b"SEQUENCE:0\r\nDURATION:PT1H\r\n"),
        "both DTEND and DURATION",
    ),
    "unescaped_comma": (
        _sub(b"DESCRIPTION:Urban construction\\,", b"DESCRIPTION:Urban construction,"),
        "unescaped ','",
    ),
    "unescaped_semicolon": (_sub(b"SUMMARY:12th", b"SUMMARY:12th;"), "unescaped ';'"),
    "bad_escape": (_sub(b"SUMMARY:12th", b"SUMMARY:12th \\x"), "invalid escape"),
    "raw_newline": (
        _sub(b"SUMMARY:12th", b"SUMMARY:first\r\nsecond 12th"),
        "malformed content line",
    ),
    "unquoted_colon_param": (
        _sub(b'CN="Foreign Affairs Office"', b"CN=Office: Foreign"),
        "is not a mailto: address",
    ),
    "unquoted_comma_param": (
        _sub(b'CN="Foreign Affairs Office"', b"CN=Office, Foreign"),
        "has several values",
    ),
    "unquoted_semicolon_param": (
        _sub(b'CN="Foreign Affairs Office"', b"CN=Office; Foreign"),
        "malformed parameter",
    ),
    "valarm_without_trigger": (_sub(b"TRIGGER:-P1D\r\n", b""), "exactly one TRIGGER"),
    "valarm_without_action": (_sub(b"ACTION:DISPLAY\r\n", b""), "exactly one ACTION"),
    "request_without_attendee": (
        GOOD.replace(GOOD[GOOD.index(b"ATTENDEE") : GOOD.index(b"CATEGORIES")], b""),
        "needs at least one ATTENDEE",
    ),
    "calname_in_request": (
        _sub(b"METHOD:REQUEST\r\n", b"METHOD:REQUEST\r\nX-WR-CALNAME:x\r\n"),
        "must not carry a calendar name",
    ),
    "cancel_without_status": (
        _sub(b"STATUS:CANCELLED\r\n", b"", GOOD_CANCEL),
        "needs STATUS:CANCELLED",
    ),
    "cancel_without_sequence": (_sub(b"SEQUENCE:2\r\n", b"", GOOD_CANCEL), "needs a SEQUENCE"),
    "cancel_with_valarm": (
        _sub(
            b"END:VEVENT",
            b"BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT",
            GOOD_CANCEL,
        ),
        "must not carry a VALARM",
    ),
    "wrong_vtimezone_offset": (
        _sub(b"TZOFFSETTO:+0900", b"TZOFFSETTO:+0800"),
        "zoneinfo says 9:00:00",
    ),
    "nonexistent_local_time": (
        _sub(
            b"DTSTART;TZID=Europe/Berlin:20261023T180000",
            b"DTSTART;TZID=Europe/Berlin:20260329T023000",
            BUILDS["feed.ics"],
        ),
        "does not exist",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_ics_problems_reports_broken_file(case: str) -> None:
    data, expected = BROKEN[case]

    problems = ics_problems(data)

    assert [p for p in problems if expected in p] != [], problems


@pytest.mark.parametrize(
    "own_uid",
    [
        "invitation-music-week-7@amity.example",
        # long enough to fold, with TEXT characters that need escaping
        "invitation-" + "very-long-slug-" * 6 + "7,a;b@amity.example",
    ],
)
def test_subset_feeds_contact_uid_gives_the_same_bytes_as_building_it(own_uid: str) -> None:
    members = {"contact:7": ["session-31@amity.example"], "partner:Berlin": []}

    feeds = subset_feeds(
        MUSIC_WEEK,
        CONCERTS,
        members,
        name="Music Week",
        stamp=STAMP,
        event_uids={"contact:7": own_uid},
    )
    built = subset_feeds(
        replace(MUSIC_WEEK, uid=own_uid),
        CONCERTS,
        {"contact:7": ["session-31@amity.example"]},
        name="Music Week",
        stamp=STAMP,
    )

    assert feeds["contact:7"] == built["contact:7"]
    assert MUSIC_WEEK.uid.encode() in feeds["partner:Berlin"]
    assert ics_problems(feeds["contact:7"]) == []


_LONG_UID = "invitation-" + "very-long-slug-" * 6 + "7,a;b\\c@amity.example"


@pytest.mark.parametrize(
    ("event", "attendee", "options"),
    [
        (SYMPOSIUM, TAKAHASHI, {}),
        (SYMPOSIUM, Person("a@b.example"), {}),  # no CN
        (replace(SYMPOSIUM, uid=_LONG_UID), TAKAHASHI, {}),
        (
            replace(MUSIC_WEEK, uid="ü-uid@amity.example", description=HOSTILE, location=HOSTILE),
            Person(
                "long.name@berlin.example", 'Dr. "Anna" Maria Schmidt-Müller; Bürgermeisterin ' * 3
            ),
            {"alarm_before": timedelta(days=1)},
        ),
        (
            replace(
                SYMPOSIUM, all_day=True, summary="ATTENDEE;CN=x:mailto:a@b\nUID:amity-uid-slot"
            ),
            Person("attendee-slot@amity.invalid", "UID:amity-uid-slot"),
            {"partstat": "ACCEPTED", "rsvp": False, "role": "OPT-PARTICIPANT"},
        ),
        (MUSIC_WEEK, TAKAHASHI, {"method": "CANCEL", "rsvp": False}),
    ],
)
def test_invitation_from_its_frame_equals_the_whole_serialisation(
    event: CalEvent, attendee: Person, options: dict[str, object]
) -> None:
    """The UID and ATTENDEE lines written into a frame serialised once give the very bytes
    of the invitation serialised whole, whatever the text around them."""
    from flows.domain.ical import _invitation

    settings: dict[str, object] = {
        "method": "REQUEST",
        "role": "REQ-PARTICIPANT",
        "alarm_before": None,
        "partstat": "NEEDS-ACTION",
        "rsvp": True,
        **options,
    }
    framed = invitation_ics(event, organizer=OFFICE, attendee=attendee, stamp=STAMP, **settings)  # type: ignore[arg-type]
    whole = _invitation(event, organizer=OFFICE, attendee=attendee, stamp=STAMP, **settings)  # type: ignore[arg-type]

    assert framed == whole
    # the frame is shared: a second contact of the same event gets its own lines in it
    other = invitation_ics(
        replace(event, uid="other@amity.example"),
        organizer=OFFICE,
        attendee=Person("other@x.example", "Other"),
        stamp=STAMP,
        **settings,  # type: ignore[arg-type]
    )
    assert b"UID:other@amity.example\r\n" in other
    assert b"mailto:other@x.example" in other and attendee.email.encode() not in other
