"""Event dates at the precision their source knows them."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.domain.event_dates import event_dates, record_span
from flows.domain.ical import CalEvent, Person, caldav_objects, feed_ics, invitation_ics
from tests.ics_rules import ics_problems, parser_disagreements

SHANGHAI = "Asia/Shanghai"
STAMP = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)


def _utc(local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(dt.UTC)


def test_record_span_day_precision_is_whole_local_days() -> None:
    start, end = record_span(dt.date(2000, 9, 26), "day", 4)

    assert (start, end) == (dt.datetime(2000, 9, 26), dt.datetime(2000, 9, 30))


def test_record_span_month_and_year_cover_what_is_known() -> None:
    assert record_span(dt.date(1997, 12, 1), "month") == (
        dt.datetime(1997, 12, 1),
        dt.datetime(1998, 1, 1),
    )
    assert record_span(dt.date(1997, 1, 1), "year") == (
        dt.datetime(1997, 1, 1),
        dt.datetime(1998, 1, 1),
    )
    with pytest.raises(ValueError, match="unknown date precision 'week'"):
        record_span(dt.date(1997, 1, 1), "week")


def test_event_dates_day_record_is_all_day_with_inclusive_last_day() -> None:
    dates = event_dates(
        _utc(dt.datetime(2000, 9, 26)), _utc(dt.datetime(2000, 9, 30)), SHANGHAI, "day"
    )

    assert (dates.precision, dates.is_all_day, dates.in_calendars) == ("day", True, True)
    assert dates.text() == "2000-09-26 – 2000-09-29 (all day)"


def test_event_dates_month_record_is_not_for_calendars() -> None:
    dates = event_dates(
        _utc(dt.datetime(1997, 9, 1)), _utc(dt.datetime(1997, 10, 1)), SHANGHAI, "month"
    )

    assert (dates.in_calendars, dates.text(), dates.start_text()) == (
        False,
        "1997-09 (known to the month)",
        "1997-09",
    )


def test_event_dates_planned_event_keeps_its_times() -> None:
    dates = event_dates(
        _utc(dt.datetime(2027, 4, 20, 9)), _utc(dt.datetime(2027, 4, 22, 17)), SHANGHAI, "day"
    )

    assert (dates.precision, dates.text()) == ("time", "2027-04-20 09:00 – 2027-04-22 17:00")


def _conference() -> CalEvent:
    return CalEvent(
        uid="event-conference-2000@amity.example",
        sequence=0,
        summary="2000 China International Friendship Cities Conference",
        start=_utc(dt.datetime(2000, 9, 26)),
        end=_utc(dt.datetime(2000, 9, 30)),
        tzid=SHANGHAI,
        all_day=True,
    )


def test_all_day_event_is_value_date_with_exclusive_end_and_no_zone() -> None:
    feed = feed_ics(_conference(), [], name="Conference", stamp=STAMP)
    (stored,) = caldav_objects(_conference(), [], STAMP).values()

    for data in (feed, stored):
        assert b"DTSTART;VALUE=DATE:20000926\r\n" in data
        assert b"DTEND;VALUE=DATE:20000930\r\n" in data
        assert b"TZID" not in data and b"VTIMEZONE" not in data
        assert (ics_problems(data), parser_disagreements(data)) == ([], [])


def test_all_day_invitation_passes_the_rules() -> None:
    data = invitation_ics(
        _conference(),
        organizer=Person("office@beijing.example.org", "Office"),
        attendee=Person("guest@tokyo.example.org", "Guest"),
        stamp=STAMP,
    )

    assert b"DTSTART;VALUE=DATE:20000926" in data
    assert ics_problems(data) == []
