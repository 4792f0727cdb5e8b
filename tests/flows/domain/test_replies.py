"""Reading iMIP REPLY messages (.eml at any nesting, bare .ics) and building them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from flows.domain.replies import (
    InvalidReply,
    Reply,
    build_reply_email,
    build_reply_ics,
    parse_replies,
    reply_is_newer,
)

UID = "inv-12-tokyo-0001@beijing.example.org"
STAMP = datetime(2025, 3, 5, 2, 15, tzinfo=UTC)


def reply_ics(**overrides: object) -> bytes:
    args: dict[str, object] = {
        "uid": UID,
        "organizer_email": "fao@beijing.example.org",
        "attendee_email": "Tanaka@Metro.Tokyo.example.jp",
        "attendee_name": "田中 太郎",
        "partstat": "accepted",
        "sequence": 1,
        "dtstamp": STAMP,
        "summary": "第12回北京・東京都市シンポジウム",
        "dtstart": datetime(2025, 9, 16, 9, tzinfo=timezone(timedelta(hours=8))),
        "dtend": datetime(2025, 9, 18, 17, tzinfo=timezone(timedelta(hours=8))),
    }
    args.update(overrides)
    return build_reply_ics(**args)  # type: ignore[arg-type]


def expected(partstat: str = "accepted", **overrides: object) -> Reply:
    values: dict[str, object] = {
        "uid": UID,
        "attendee_email": "tanaka@metro.tokyo.example.jp",
        "partstat": partstat,
        "sequence": 1,
        "dtstamp": STAMP,
    }
    values.update(overrides)
    return Reply(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("partstat", ["accepted", "declined", "tentative", "needs-action"])
def test_parse_replies_bare_ics_each_partstat(partstat: str) -> None:
    assert parse_replies(reply_ics(partstat=partstat)) == [expected(partstat)]


def test_parse_replies_dtstamp_is_utc() -> None:
    tokyo = timezone(timedelta(hours=9))

    replies = parse_replies(reply_ics(dtstamp=datetime(2025, 3, 5, 11, 15, tzinfo=tokyo)))

    assert replies[0].dtstamp == STAMP
    assert replies[0].dtstamp.tzinfo == UTC


def test_parse_replies_email_from_build_reply_email() -> None:
    raw = build_reply_email(
        ics=reply_ics(partstat="declined"),
        attendee_email="tanaka@metro.tokyo.example.jp",
        attendee_name="田中 太郎",
        organizer_email="fao@beijing.example.org",
        organizer_name="Foreign Affairs Office",
        subject="Declined: 第12回北京・東京都市シンポジウム",
        text="Tanaka Taro has declined this invitation.\n",
        message_id="<reply-1@metro.tokyo.example.jp>",
        date=STAMP,
    )

    assert parse_replies(raw) == [expected("declined")]


def test_parse_replies_nested_parts_and_duplicate_attachment_give_one_reply() -> None:
    ics = reply_ics(partstat="tentative")
    calendar = MIMEText(ics.decode("utf-8"), "calendar", "utf-8")
    calendar.set_param("method", "REPLY")
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText("Tentatively accepted.", "plain"))
    alternative.attach(calendar)
    related = MIMEMultipart("related")
    related.attach(alternative)
    outer = MIMEMultipart("mixed")
    outer.attach(related)
    outer.attach(MIMEApplication(ics, "ics", Name="invite.ics"))
    outer["Subject"] = "Tentative: Symposium"

    assert parse_replies(outer.as_bytes()) == [expected("tentative")]


def test_parse_replies_reads_a_client_style_reply() -> None:
    # Uppercase MAILTO:, folded lines, quoted CN, no SEQUENCE, Windows zone name unused:
    # the shapes Outlook and Apple Calendar send.
    raw = (
        b"BEGIN:VCALENDAR\r\n"
        b"METHOD:REPLY\r\n"
        b"PRODID:Microsoft Exchange Server 2010\r\n"
        b"VERSION:2.0\r\n"
        b"BEGIN:VEVENT\r\n"
        b'ATTENDEE;PARTSTAT=ACCEPTED;CN="Kim, Min-jun":MAILTO:MinJun.Kim@Seoul.exa\r\n'
        b" mple.kr\r\n"
        b"COMMENT;LANGUAGE=ko-KR:\r\n"
        b"SUMMARY;LANGUAGE=ko-KR:Accepted: Friendship Cities Conference\r\n"
        b"DTSTART:20250916T010000Z\r\n"
        b"UID:conf-2025-seoul-0004@beijing.example.org\r\n"
        b"DTSTAMP:20250302T081500Z\r\n"
        b"END:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )

    assert parse_replies(raw) == [
        Reply(
            uid="conf-2025-seoul-0004@beijing.example.org",
            attendee_email="minjun.kim@seoul.example.kr",
            partstat="accepted",
            sequence=0,
            dtstamp=datetime(2025, 3, 2, 8, 15, tzinfo=UTC),
        )
    ]


def test_parse_replies_delegation_names_the_delegate() -> None:
    raw = reply_ics(partstat="delegated", delegated_to=["Deputy@Metro.Tokyo.example.jp"])

    assert parse_replies(raw) == [
        expected("delegated", delegated_to=("deputy@metro.tokyo.example.jp",))
    ]


def test_parse_replies_reads_delegate_line_with_delegated_from() -> None:
    raw = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nMETHOD:REPLY\r\n"
        b"BEGIN:VEVENT\r\nUID:u-1\r\nDTSTAMP:20250302T081500Z\r\nSEQUENCE:2\r\n"
        b'ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO="mailto:b@x.example":mailto:a@x.example\r\n'
        b'ATTENDEE;PARTSTAT=ACCEPTED;DELEGATED-FROM="mailto:a@x.example":mailto:b@x.example\r\n'
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    stamp = datetime(2025, 3, 2, 8, 15, tzinfo=UTC)

    assert parse_replies(raw) == [
        Reply("u-1", "a@x.example", "delegated", 2, stamp, delegated_to=("b@x.example",)),
        Reply("u-1", "b@x.example", "accepted", 2, stamp, delegated_from=("a@x.example",)),
    ]


def test_parse_replies_lf_only_and_bom_are_accepted() -> None:
    raw = b"\xef\xbb\xbf" + reply_ics().replace(b"\r\n", b"\n")

    assert parse_replies(raw) == [expected()]


def ics_with(*lines: str, method: str = "REPLY") -> bytes:
    body = "\r\n".join(lines)
    head = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nMETHOD:{method}\r\n"
    return (head + body + "\r\nEND:VCALENDAR\r\n").encode()


EVENT_OK = [
    "BEGIN:VEVENT",
    "UID:u-1",
    "DTSTAMP:20250302T081500Z",
    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@x.example",
    "END:VEVENT",
]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"Subject: hello\r\n\r\nJust text.\r\n", "no text/calendar part and not an .ics file"),
        (b"", "no text/calendar part and not an .ics file"),
        (ics_with(*EVENT_OK, method="REQUEST"), "METHOD is REQUEST, not REPLY"),
        (ics_with(*EVENT_OK, method="PUBLISH"), "METHOD is PUBLISH, not REPLY"),
        (ics_with("BEGIN:VTODO", "UID:t", "END:VTODO"), "the calendar holds no VEVENT"),
        (ics_with(*[e for e in EVENT_OK if not e.startswith("UID")]), "a VEVENT has no UID"),
        (ics_with(*[e for e in EVENT_OK if not e.startswith("DTSTAMP")]), "event u-1: no DTSTAMP"),
        (ics_with(*[e for e in EVENT_OK if not e.startswith("ATT")]), "event u-1: no ATTENDEE"),
        (
            ics_with(*[e.replace("ACCEPTED", "COMPLETED") for e in EVENT_OK]),
            "event u-1: PARTSTAT COMPLETED is not an answer",
        ),
        (
            ics_with(*[e.replace("mailto:a@x.example", "urn:uuid:1234") for e in EVENT_OK]),
            "event u-1: 'urn:uuid:1234' is not a mailto: address",
        ),
    ],
)
def test_parse_replies_invalid_input_gives_reason(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidReply) as caught:
        parse_replies(data)

    assert caught.value.reason == reason


def test_parse_replies_garbage_calendar_is_invalid() -> None:
    with pytest.raises(InvalidReply) as caught:
        parse_replies(b"BEGIN:VCALENDAR\r\nthis is not a content line\r\n")

    assert caught.value.reason.startswith("unreadable iCalendar data: ")


def test_build_reply_ics_refuses_unknown_partstat() -> None:
    with pytest.raises(ValueError, match="partstat"):
        reply_ics(partstat="maybe")


def test_build_reply_ics_delegation_needs_delegate() -> None:
    with pytest.raises(ValueError, match="delegated_to"):
        reply_ics(partstat="delegated")


def test_build_reply_ics_writes_reply_method_and_utc_times() -> None:
    lines = reply_ics().decode("utf-8").split("\r\n")

    assert "METHOD:REPLY" in lines
    assert "DTSTART:20250916T010000Z" in lines
    assert "SEQUENCE:1" in lines
    assert "ORGANIZER:mailto:fao@beijing.example.org" in lines


@pytest.mark.parametrize(
    ("sequence", "dtstamp", "newer"),
    [
        (None, None, True),
        (0, STAMP, True),
        (1, STAMP - timedelta(minutes=1), True),
        (1, STAMP, False),
        (1, STAMP + timedelta(minutes=1), False),
        (2, STAMP - timedelta(days=1), False),
    ],
)
def test_reply_is_newer_orders_by_sequence_then_dtstamp(
    sequence: int | None, dtstamp: datetime | None, newer: bool
) -> None:
    assert reply_is_newer(expected(), sequence=sequence, dtstamp=dtstamp) is newer
