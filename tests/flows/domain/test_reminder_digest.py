"""The daily anniversary digest: from the day's ledger rows to one message per recipient."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime
from email import policy

from flows.domain.anniversaries import DueReminder, SkippedReminder, TieRecord
from flows.domain.reminder_digest import (
    DigestItem,
    DigestOffice,
    LedgerRow,
    anniversary_uid,
    build_day_digest,
    digest_item,
    digest_occurrence,
    event_when,
    nothing_due_digest,
    split_ledger_rows,
)

DAY = date(2029, 2, 12)
NOW = datetime(2029, 2, 12, 0, 30, tzinfo=UTC)
TOKYO = TieRecord(1, "Tokyo", date(1979, 3, 14), "day", "東京都", "JP")
BERLIN = TieRecord(2, "Berlin", date(1994, 4, 5), "day", "Berlin", "DE")
OFFICE = DigestOffice(
    email="protocol@beijing.example.org",
    name="Beijing Foreign Affairs Office",
    native_name="北京市人民政府外事办公室",
    language="en",
    mail_domain="beijing.example.org",
    home_city="Beijing",
    home_city_native="北京",
)
ROWS = [
    LedgerRow(1, 50, 90, date(2029, 3, 14), date(2028, 12, 14), "superseded"),
    LedgerRow(1, 50, 30, date(2029, 3, 14), date(2029, 2, 12), "claimed"),
    LedgerRow(2, 35, 7, date(2029, 4, 5), date(2029, 3, 29), "missed"),
]


def test_split_ledger_rows_due_carries_its_superseded_leads() -> None:
    due, missed = split_ledger_rows(ROWS)

    assert (due, missed) == (
        [DueReminder(1, 50, 30, date(2029, 3, 14), date(2029, 2, 12), (90,))],
        [SkippedReminder(2, 35, 7, date(2029, 4, 5), date(2029, 3, 29), "missed")],
    )


def test_split_ledger_rows_due_sorted_by_anniversary_then_tie() -> None:
    rows = [
        LedgerRow(2, 35, 7, date(2029, 4, 5), date(2029, 3, 29), "sent"),
        LedgerRow(1, 50, 30, date(2029, 3, 14), date(2029, 2, 12), "claimed"),
    ]

    due, _ = split_ledger_rows(rows)

    assert [r.tie_id for r in due] == [1, 2]


def test_digest_item_of_an_unknown_tie_has_no_partner() -> None:
    reminder = DueReminder(9, 10, 30, date(2029, 3, 14), date(2029, 2, 12))

    assert digest_item(reminder, {}) == DigestItem(9, "", 10, 30, "2029-03-14", "2029-02-12")


def test_event_when_year_precision_drops_in() -> None:
    on = date(2019, 5, 1)

    assert [event_when(on, p, "en") for p in ("year", "month", "unknown")] == [
        "2019",
        "May 2019",
        "1 May 2019",
    ]


def test_anniversary_uid_and_occurrence_are_stable() -> None:
    assert (anniversary_uid(1, "beijing.example.org"), digest_occurrence(DAY)) == (
        "anniversary-tie-1@beijing.example.org",
        "reminders:2029-02-12",
    )


def test_digest_office_in_chinese_uses_native_names() -> None:
    zh = DigestOffice("a@b.example", "Office", "外办", "zh", "b.example", "Beijing", "北京")

    assert (zh.home_name, zh.sender_name, OFFICE.home_name, OFFICE.sender_name) == (
        "北京",
        "外办",
        "Beijing",
        "Beijing Foreign Affairs Office",
    )


def test_build_day_digest_one_message_per_recipient_with_the_tie_calendar() -> None:
    recipients = ["protocol@beijing.example.org", "desk@beijing.example.org"]

    digest = build_day_digest(
        DAY, ROWS, {1: TOKYO, 2: BERLIN}, ([], 0), office=OFFICE, now=NOW, recipients=recipients
    )

    assert [m.recipient for m in digest.messages] == recipients
    assert (digest.due, digest.missed) == (
        (DigestItem(1, "Tokyo", 50, 30, "2029-03-14", "2029-02-12"),),
        (DigestItem(2, "Berlin", 35, 7, "2029-04-05", "2029-03-29"),),
    )
    parsed = email.message_from_bytes(digest.messages[0].data, policy=policy.default)
    names = [p.get_filename() for p in parsed.iter_attachments()]
    assert names == ["tokyo-50.ics"]


def test_nothing_due_digest_lists_the_undated_ties() -> None:
    kyiv = TieRecord(4, "Kyiv", None, "unknown", "Київ", "UA")

    markdown = nothing_due_digest(DAY, ([kyiv], 1), office=OFFICE)

    assert markdown.count("Kyiv") == 1
