"""Anniversary dates, due reminders, wording, the digest and the anniversary calendar."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
import recurring_ical_events
from ical.calendar_stream import IcsCalendarStream

from flows.domain.anniversaries import (
    DEFAULT_LEAD_DAYS,
    Contact,
    DigestInput,
    DueReminder,
    FailingAddress,
    PastEvent,
    SkippedReminder,
    TieRecord,
    anniversaries_between,
    anniversaries_calendar,
    anniversary_date,
    anniversary_ics,
    candidate_keys,
    date_text,
    due_reminders,
    month_day_key,
    office_today,
    ordinal,
    render_digest,
    suggested_action,
)
from tests.goldens import golden
from tests.ics_rules import ics_problems

STAMP = datetime(2028, 3, 14, 0, 0, tzinfo=UTC)


def assert_golden(name: str, produced: bytes) -> None:
    golden(f"reminders/{name}", produced)


def tie(tie_id: int, established: date | None, precision: str, **kw: object) -> TieRecord:
    return TieRecord(tie_id, f"City {tie_id}", established, precision, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- dates


def test_anniversary_date_day_precision_keeps_the_day() -> None:
    assert anniversary_date(date(1979, 3, 14), "day", 50) == date(2029, 3, 14)


def test_anniversary_date_month_precision_is_first_of_month() -> None:
    assert anniversary_date(date(1980, 10, 17), "month", 50) == date(2030, 10, 1)


def test_anniversary_date_year_precision_is_first_of_january() -> None:
    assert anniversary_date(date(1985, 6, 30), "year", 40) == date(2025, 1, 1)


def test_anniversary_date_unknown_precision_is_never() -> None:
    assert [
        anniversary_date(date(1990, 1, 1), "unknown", 30),
        anniversary_date(None, "day", 30),
    ] == [None, None]


def test_anniversary_date_unknown_policy_raises() -> None:
    with pytest.raises(ValueError, match="29 February policy"):
        anniversary_date(date(2008, 2, 29), "day", 1, feb29="leap-only")


def test_anniversary_date_feb29_in_leap_year_is_feb29() -> None:
    assert anniversary_date(date(2008, 2, 29), "day", 20) == date(2028, 2, 29)


def test_anniversary_date_feb29_in_common_year_default_is_feb28() -> None:
    assert anniversary_date(date(2008, 2, 29), "day", 25) == date(2033, 2, 28)


def test_anniversary_date_feb29_in_common_year_mar1_policy_is_mar1() -> None:
    assert [
        anniversary_date(date(2008, 2, 29), "day", 25, feb29="mar1"),
        anniversary_date(date(2008, 2, 29), "day", 20, feb29="mar1"),
    ] == [date(2033, 3, 1), date(2028, 2, 29)]


def test_office_today_at_the_date_line_is_the_home_date() -> None:
    now = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert [office_today(now, "Asia/Shanghai"), office_today(now, "America/New_York")] == [
        date(2027, 1, 1),
        date(2026, 12, 31),
    ]


def test_office_today_naive_datetime_raises() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        office_today(datetime(2026, 12, 31, 16, 30), "Asia/Shanghai")


def test_month_day_key_per_precision() -> None:
    assert [
        month_day_key(date(1979, 3, 14), "day"),
        month_day_key(date(1980, 10, 17), "month"),
        month_day_key(date(1985, 6, 30), "year"),
        month_day_key(date(2008, 2, 29), "day"),
        month_day_key(None, "unknown"),
    ] == [314, 1001, 101, 229, None]


def test_anniversaries_between_lists_a_year_in_date_order() -> None:
    ties = [
        tie(1, date(1979, 3, 14), "day"),
        tie(2, date(1999, 11, 5), "month"),
        tie(3, date(2019, 4, 1), "year"),
        tie(4, None, "unknown"),
    ]
    found = anniversaries_between(ties, start=date(2029, 1, 1), end=date(2029, 12, 31))
    assert [(a.tie_id, a.milestone, a.on) for a in found] == [
        (3, 10, date(2029, 1, 1)),
        (1, 50, date(2029, 3, 14)),
        (2, 30, date(2029, 11, 1)),
    ]


# ---------------------------------------------------------------------------- due reminders


def test_due_reminders_on_the_lead_date_sends_that_lead() -> None:
    due, skipped = due_reminders(
        [tie(1, date(1979, 3, 14), "day")], today=date(2028, 3, 14), since=date(2028, 3, 13)
    )
    assert (due, skipped) == (
        [DueReminder(1, 50, 365, date(2029, 3, 14), date(2028, 3, 14))],
        [],
    )


def test_due_reminders_day_before_lead_date_sends_nothing() -> None:
    due, skipped = due_reminders(
        [tie(1, date(1979, 3, 14), "day")], today=date(2028, 3, 13), since=date(2028, 3, 12)
    )
    assert (due, skipped) == ([], [])


def test_due_reminders_month_precision_counts_from_first_of_month() -> None:
    due, _ = due_reminders(
        [tie(2, date(1980, 10, 20), "month")], today=date(2030, 9, 1), since=date(2030, 8, 31)
    )
    assert due == [DueReminder(2, 50, 30, date(2030, 10, 1), date(2030, 9, 1))]


def test_due_reminders_year_precision_counts_from_first_of_january() -> None:
    due, _ = due_reminders(
        [tie(3, date(1985, 7, 1), "year")], today=date(2024, 7, 5), since=date(2024, 7, 4)
    )
    assert due == [DueReminder(3, 40, 180, date(2025, 1, 1), date(2024, 7, 5))]


def test_due_reminders_unknown_date_is_never_due() -> None:
    ties = [tie(4, None, "unknown"), tie(5, date(2000, 1, 1), "unknown")]
    results = [due_reminders(ties, today=date(2025, 1, 1) - timedelta(days=d)) for d in range(400)]
    assert all(r == ([], []) for r in results)


def test_due_reminders_feb29_common_year_uses_feb28() -> None:
    due, _ = due_reminders(
        [tie(5, date(2008, 2, 29), "day")], today=date(2033, 2, 21), since=date(2033, 2, 20)
    )
    assert due == [DueReminder(5, 25, 7, date(2033, 2, 28), date(2033, 2, 21))]


def test_due_reminders_feb29_leap_year_uses_feb29() -> None:
    due, _ = due_reminders(
        [tie(5, date(2008, 2, 29), "day")], today=date(2028, 2, 22), since=date(2028, 2, 21)
    )
    assert due == [DueReminder(5, 20, 7, date(2028, 2, 29), date(2028, 2, 22))]


def test_due_reminders_dec31_tie_seen_from_the_year_before() -> None:
    # 2024 is a leap year: 365 days before 31 December 2024 is 1 January 2024.
    due, _ = due_reminders(
        [tie(6, date(1999, 12, 31), "day")], today=date(2024, 1, 1), since=date(2023, 12, 31)
    )
    assert due == [DueReminder(6, 25, 365, date(2024, 12, 31), date(2024, 1, 1))]


def test_due_reminders_dec31_tie_seen_from_the_year_after_is_missed() -> None:
    # The scheduler was down from 20 December to 2 January: the 7-day reminder came due
    # on 24 December, but the anniversary (31 December) has passed by the next run.
    due, skipped = due_reminders(
        [tie(6, date(1999, 12, 31), "day")], today=date(2025, 1, 2), since=date(2024, 12, 20)
    )
    assert (due, skipped) == (
        [],
        [SkippedReminder(6, 25, 7, date(2024, 12, 31), date(2024, 12, 24), "missed")],
    )


def test_due_reminders_lead_date_across_year_boundary() -> None:
    ties = [tie(7, date(2001, 1, 5), "day")]
    on_dec29, _ = due_reminders(ties, today=date(2025, 12, 29), since=date(2025, 12, 28))
    on_dec06, _ = due_reminders(ties, today=date(2025, 12, 6), since=date(2025, 12, 5))
    assert [on_dec06, on_dec29] == [
        [DueReminder(7, 25, 30, date(2026, 1, 5), date(2025, 12, 6))],
        [DueReminder(7, 25, 7, date(2026, 1, 5), date(2025, 12, 29))],
    ]


def test_due_reminders_catch_up_after_gap_sends_each_passed_lead_once() -> None:
    # Down from 1 February to 1 March; two anniversaries had a lead date meanwhile.
    ties = [tie(1, date(2001, 3, 14), "day"), tie(2, date(1996, 3, 20), "day")]
    due, skipped = due_reminders(ties, today=date(2026, 3, 1), since=date(2026, 2, 1))
    assert (due, skipped) == (
        [
            DueReminder(1, 25, 30, date(2026, 3, 14), date(2026, 2, 12)),
            DueReminder(2, 30, 30, date(2026, 3, 20), date(2026, 2, 18)),
        ],
        [],
    )


def test_due_reminders_catch_up_sends_most_urgent_and_supersedes_earlier() -> None:
    # Down from 1 December to 20 February: both the 90-day (14 Dec) and 30-day (12 Feb)
    # lead dates passed; one reminder goes out, the 90-day one is recorded as superseded.
    due, skipped = due_reminders(
        [tie(1, date(2001, 3, 14), "day")], today=date(2026, 2, 20), since=date(2025, 12, 1)
    )
    assert (due, skipped) == (
        [DueReminder(1, 25, 30, date(2026, 3, 14), date(2026, 2, 12), superseded=(90,))],
        [SkippedReminder(1, 25, 90, date(2026, 3, 14), date(2025, 12, 14), "superseded")],
    )


def test_due_reminders_catch_up_after_anniversary_records_missed() -> None:
    due, skipped = due_reminders(
        [tie(1, date(2001, 3, 14), "day")], today=date(2026, 3, 20), since=date(2026, 2, 1)
    )
    assert (due, skipped) == (
        [],
        [
            SkippedReminder(1, 25, 30, date(2026, 3, 14), date(2026, 2, 12), "missed"),
            SkippedReminder(1, 25, 7, date(2026, 3, 14), date(2026, 3, 7), "missed"),
        ],
    )


def test_due_reminders_already_done_is_not_sent_again() -> None:
    ties = [tie(1, date(1979, 3, 14), "day")]
    first, _ = due_reminders(ties, today=date(2028, 3, 14), since=date(2028, 3, 13))
    again, skipped = due_reminders(
        ties, today=date(2028, 3, 14), since=date(2028, 3, 13), already_done={first[0].key}
    )
    assert (len(first), again, skipped) == (1, [], [])


def test_due_reminders_first_run_ignores_history_and_sends_most_urgent() -> None:
    ties = [tie(1, date(2001, 3, 14), "day"), tie(2, date(2001, 1, 10), "day")]
    due, skipped = due_reminders(ties, today=date(2026, 3, 1))
    assert (due, skipped) == (
        [DueReminder(1, 25, 30, date(2026, 3, 14), date(2026, 2, 12), superseded=(365, 180, 90))],
        [
            SkippedReminder(1, 25, 365, date(2026, 3, 14), date(2025, 3, 14), "superseded"),
            SkippedReminder(1, 25, 180, date(2026, 3, 14), date(2025, 9, 15), "superseded"),
            SkippedReminder(1, 25, 90, date(2026, 3, 14), date(2025, 12, 14), "superseded"),
        ],
    )


def test_due_reminders_daily_runs_send_every_lead_exactly_once() -> None:
    ties = [tie(1, date(1979, 3, 14), "day"), tie(2, date(2008, 2, 29), "day")]
    done: set[tuple[int, int, int]] = set()
    sent: list[tuple[int, int, int]] = []
    day = date(2027, 3, 1)
    while day <= date(2029, 3, 20):
        due, skipped = due_reminders(
            ties, today=day, since=day - timedelta(days=1), already_done=done
        )
        sent.extend(r.key for r in due)
        done.update(r.key for r in due)
        done.update(s.key for s in skipped)
        day += timedelta(days=1)
    expected = [(2, 20, lead) for lead in DEFAULT_LEAD_DAYS] + [
        (1, 50, lead) for lead in DEFAULT_LEAD_DAYS
    ]
    assert sent == expected


def test_candidate_keys_cover_every_decided_reminder() -> None:
    rng = random.Random(7)
    precisions = ["day", "day", "month", "year"]
    ties = [
        tie(i, date(1950, 1, 1) + timedelta(days=rng.randrange(27_000)), rng.choice(precisions))
        for i in range(400)
    ] + [tie(400, date(2008, 2, 29), "day")]
    for _ in range(60):
        today = date(2024, 1, 1) + timedelta(days=rng.randrange(1500))
        since = rng.choice([None, today - timedelta(days=1), today - timedelta(days=40)])
        keys, years = candidate_keys(today=today, since=since)
        due, skipped = due_reminders(ties, today=today, since=since)
        decided = {r.tie_id for r in due} | {s.tie_id for s in skipped}
        by_id = {t.tie_id: t for t in ties}
        outside = [
            i
            for i in decided
            if month_day_key(by_id[i].established_on, by_id[i].precision) not in keys
            or by_id[i].established_on.year not in years  # type: ignore[union-attr]
        ]
        assert outside == []


def test_candidate_keys_feb28_in_common_year_includes_feb29_ties() -> None:
    keys, years = candidate_keys(
        today=date(2033, 2, 20), since=date(2033, 2, 19), lead_days=(8,), milestones=(25,)
    )
    assert (sorted(keys), sorted(years)) == ([228, 229], [2008])


# ---------------------------------------------------------------------------- wording


def test_ordinal_english_suffixes() -> None:
    numbers = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 50, 101, 111, 112]
    assert [ordinal(n, "en") for n in numbers] == [
        "1st anniversary", "2nd anniversary", "3rd anniversary", "4th anniversary",
        "11th anniversary", "12th anniversary", "13th anniversary", "21st anniversary",
        "22nd anniversary", "23rd anniversary", "50th anniversary", "101st anniversary",
        "111th anniversary", "112th anniversary",
    ]  # fmt: skip


def test_ordinal_chinese() -> None:
    assert [ordinal(50, "zh"), ordinal(5, "zh-Hans")] == ["第50周年", "第5周年"]


def test_ordinal_japanese() -> None:
    assert [ordinal(1, "ja"), ordinal(50, "ja")] == ["1周年", "50周年"]


def test_ordinal_unsupported_language_raises() -> None:
    with pytest.raises(ValueError, match="no anniversary wording"):
        ordinal(50, "fr")


def test_date_text_per_precision_and_language() -> None:
    on = date(2029, 3, 14)
    assert [
        date_text(on, "day", "en"),
        date_text(date(2029, 3, 1), "month", "en"),
        date_text(date(2029, 1, 1), "year", "en"),
        date_text(on, "day", "zh"),
        date_text(date(2029, 3, 1), "month", "zh"),
        date_text(date(2029, 1, 1), "year", "zh"),
        date_text(on, "day", "en_US"),
    ] == [
        "14 March 2029",
        "March 2029",
        "in 2029",
        "2029年3月14日",
        "2029年3月",
        "2029年",
        "March 14, 2029",
    ]


def test_suggested_action_per_lead_time() -> None:
    assert [suggested_action(30, "en"), suggested_action(30, "zh")] == [
        "Send a congratulatory letter from the mayor.",
        "以市长名义致贺信。",
    ]


def test_suggested_action_lead_between_defaults_takes_lower_step() -> None:
    assert [suggested_action(60, "en"), suggested_action(3, "en"), suggested_action(400, "en")] == [
        suggested_action(30, "en"),
        suggested_action(7, "en"),
        suggested_action(365, "en"),
    ]


# ---------------------------------------------------------------------------- digest


def digest_fixture() -> DigestInput:
    """The digest after a catch-up: the scheduler was down from 1 December to 21 February.

    Tokyo, Washington and Madrid carry their real dates; Leapville and Mayfield are made up
    to show a 29 February tie and a month-precision tie.
    """
    ties = {
        1: TieRecord(
            1,
            "Tokyo",
            date(1979, 3, 14),
            "day",
            "東京都",
            "JP",
            contacts=(
                Contact("Yamada Hanako", "Director, International Affairs", "h.yamada@example.jp"),
                Contact("Sato Ken <liaison>", "", ""),
            ),
            events=(PastEvent("11th Beijing–Tokyo Urban Symposium", "2000"),),
        ),
        2: TieRecord(2, "Washington, D.C.", date(1984, 1, 1), "year", "Washington, D.C.", "US"),
        3: TieRecord(
            3,
            "Madrid",
            date(1985, 1, 1),
            "year",
            "Madrid",
            "ES",
            events=(
                PastEvent("Music Week for Friendship Cities", "September 1997"),
                PastEvent("China International Friendship Cities Conference", "26 September 2000"),
            ),
        ),
        4: TieRecord(4, "Kyiv", None, "unknown", "Київ", "UA"),
        5: TieRecord(5, "Leapville", date(2004, 2, 29), "day", "", "NZ"),
        6: TieRecord(6, "Mayfield", date(2004, 5, 1), "month", "", "GB"),
    }
    today = date(2029, 2, 21)
    due, skipped = due_reminders(ties.values(), today=today, since=date(2028, 12, 1))
    return DigestInput(
        today=today,
        home_city="Beijing",
        due=due,
        ties=ties,
        missed=skipped,
        undated=[t for t in ties.values() if t.precision == "unknown"],
    )


def test_digest_fixture_decisions() -> None:
    digest = digest_fixture()
    assert (
        [(r.tie_id, r.milestone, r.lead_days, r.superseded) for r in digest.due],
        [(s.tie_id, s.lead_days, s.reason) for s in digest.missed],
    ) == (
        [(5, 25, 7, (30,)), (1, 50, 30, (90,)), (6, 25, 90, ()), (3, 45, 365, ())],
        [(2, 30, "missed"), (2, 7, "missed"), (5, 30, "superseded"), (1, 90, "superseded")],
    )


@pytest.mark.parametrize("language", ["en", "zh"])
def test_render_digest_matches_golden(language: str) -> None:
    mail = render_digest(digest_fixture(), language)
    assert_golden(f"digest.{language}.subject.txt", (mail.subject + "\n").encode())
    assert_golden(f"digest.{language}.txt", mail.text.encode())
    assert_golden(f"digest.{language}.html", mail.html.encode())
    assert_golden(f"digest.{language}.md", mail.markdown.encode())


def test_render_digest_escapes_html_only_in_html() -> None:
    mail = render_digest(digest_fixture(), "en")
    assert [
        "Sato Ken &lt;liaison&gt;" in mail.html,
        "Sato Ken <liaison>" in mail.text,
    ] == [True, True]


def test_render_digest_subject_counts_items() -> None:
    subjects = [render_digest(digest_fixture(), lang).subject for lang in ("en", "zh", "ja")]
    assert subjects == [
        "Beijing: 4 friendship-city anniversaries coming (21 February 2029)",
        "Beijing友好城市纪念日提醒：4项（2029年2月21日）",
        "Beijing 友好都市記念日のお知らせ：4件（2029年2月21日）",
    ]


def test_render_digest_lists_contacts_whose_address_bounced() -> None:
    failing = FailingAddress(name="Hanako Yamada", city="Tokyo", email="hanako@tokyo.example.org")
    digest = dataclasses.replace(digest_fixture(), bounced=[failing])

    mail = render_digest(digest, "en")

    text = mail.text
    assert text[
        text.index("Data quality — contacts") : text.index("Each anniversary")
    ].splitlines() == [
        "Data quality — contacts whose e-mail address bounced",
        "Invitations to them do not arrive; please correct their addresses.",
        "  - Hanako Yamada (Tokyo) <hanako@tokyo.example.org>",
        "",
    ]
    assert "<li>Hanako Yamada (Tokyo) &lt;hanako@tokyo.example.org&gt;</li>" in mail.html
    assert mail.markdown.endswith("\n- Hanako Yamada (Tokyo) <hanako@tokyo.example.org>\n")
    assert "邮件地址被退信的联系人" in render_digest(digest, "zh").text


def test_render_digest_subject_one_anniversary_is_singular() -> None:
    digest = digest_fixture()
    one = DigestInput(today=digest.today, home_city="Beijing", due=digest.due[:1], ties=digest.ties)

    assert render_digest(one, "en").subject == (
        "Beijing: 1 friendship-city anniversary coming (21 February 2029)"
    )


def test_render_digest_in_japanese_has_no_english_words() -> None:
    mail = render_digest(digest_fixture(), "ja")

    assert mail.text.startswith("友好都市記念日のお知らせ — Beijing、2029年2月21日\n")
    assert "50周年 — 2029年3月14日（あと21日）" in mail.text
    assert '<html lang="ja">' in mail.html
    for english in ("anniversary", "Established", "Contacts", "none on record", "days"):
        assert english not in mail.text


# ---------------------------------------------------------------------------- calendar


def test_anniversary_ics_matches_golden_and_rules() -> None:
    tokyo = TieRecord(1, "Tokyo", date(1979, 3, 14), "day", "東京都", "JP")
    produced = anniversary_ics(tokyo, uid="tie-1@amity.example", stamp=STAMP, home_city="Beijing")
    assert_golden("anniversary.tokyo.ics", produced)
    assert ics_problems(produced) == []
    lines = produced.decode().split("\r\n")
    assert [
        "DTSTART;VALUE=DATE:19790314" in lines,
        "DTEND;VALUE=DATE:19790315" in lines,
        "RRULE:FREQ=YEARLY" in lines,
        "TRANSP:TRANSPARENT" in lines,
        "UID:tie-1@amity.example" in lines,
        "DTSTAMP:20280314T000000Z" in lines,
        "ACTION:DISPLAY" in lines,
        "TRIGGER:-PT15H" in lines,
        "METHOD" in produced.decode(),
    ] == [True, True, True, True, True, True, True, True, False]


def test_anniversary_ics_feb29_default_policy_is_last_day_of_february() -> None:
    leap = TieRecord(5, "Leapville", date(2008, 2, 29), "day")
    produced = anniversary_ics(leap, uid="tie-5@amity.example", stamp=STAMP, home_city="Beijing")
    rrule = icalendar.Calendar.from_ical(produced).walk("VEVENT")[0]["RRULE"]
    assert (
        dict(rrule),
        b"\r\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1\r\n" in produced,
    ) == ({"FREQ": ["YEARLY"], "BYMONTH": [2], "BYMONTHDAY": [-1]}, True)


def test_anniversary_ics_unknown_date_raises() -> None:
    with pytest.raises(ValueError, match="no known establishment date"):
        anniversary_ics(tie(4, None, "unknown"), uid="u", stamp=STAMP, home_city="Beijing")


def _expand_both(ics: bytes, start: date, end: date) -> tuple[list, list]:
    by_recurring = sorted(
        (str(e["UID"]), e["DTSTART"].dt, e["DTEND"].dt)
        for e in recurring_ical_events.of(icalendar.Calendar.from_ical(ics)).between(start, end)
    )
    by_ical = sorted(
        (e.uid, e.dtstart, e.dtend)
        for e in IcsCalendarStream.calendar_from_ics(ics.decode()).timeline.overlapping(start, end)
    )
    return by_recurring, by_ical


@pytest.mark.parametrize("feb29", ["feb28", "mar1"])
def test_anniversaries_calendar_ten_years_agree_across_libraries(feb29: str) -> None:
    ties = [
        TieRecord(1, "Tokyo", date(1979, 3, 14), "day"),
        TieRecord(2, "Belgrade", date(1980, 10, 1), "month"),
        TieRecord(3, "Madrid", date(1985, 1, 1), "year"),
        TieRecord(4, "Kyiv", None, "unknown"),
        TieRecord(5, "Leapville", date(2008, 2, 29), "day"),
        TieRecord(6, "Year-end", date(1999, 12, 31), "day"),
    ]
    ics = anniversaries_calendar(
        [(t, f"tie-{t.tie_id}@amity.example") for t in ties],
        stamp=STAMP,
        home_city="Beijing",
        feb29=feb29,
    )
    assert ics_problems(ics) == []
    by_recurring, by_ical = _expand_both(ics, date(2026, 1, 1), date(2036, 1, 1))
    expected = sorted(
        (f"tie-{t.tie_id}@amity.example", a.on, a.on + timedelta(days=1))
        for a in anniversaries_between(
            ties, start=date(2026, 1, 1), end=date(2035, 12, 31), milestones=range(150), feb29=feb29
        )
        for t in ties
        if t.tie_id == a.tie_id
    )
    assert (by_recurring, by_ical) == (expected, expected)


def test_anniversaries_calendar_skips_undated_ties_and_names_the_feed() -> None:
    ties = [tie(1, date(1979, 3, 14), "day"), tie(4, None, "unknown")]
    ics = anniversaries_calendar(
        [(t, f"tie-{t.tie_id}") for t in ties], stamp=STAMP, home_city="Beijing"
    )
    cal = icalendar.Calendar.from_ical(ics)
    assert (
        [str(e["UID"]) for e in cal.walk("VEVENT")],
        str(cal["X-WR-CALNAME"]),
    ) == (["tie-1"], "Beijing: friendship-city anniversaries")
