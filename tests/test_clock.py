"""`tests/clock.py`: the example events moved ahead of the real clock for tests of an event to come."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from config.settings import EVENTS_DIR
from tests.clock import spec_ahead, years_ahead

SYMPOSIUM = EVENTS_DIR / "beijing-tokyo-urban-symposium-12.yaml"  # ends 2027-04-22T17:00


def test_years_ahead_keeps_the_shipped_dates_until_a_month_before_the_end() -> None:
    text = SYMPOSIUM.read_text("utf-8")

    assert years_ahead(text, dt.datetime(2026, 11, 30, tzinfo=dt.UTC)) == 0
    assert years_ahead(text, dt.datetime(2027, 3, 24, tzinfo=dt.UTC)) == 1  # 29 days before
    assert years_ahead(text, dt.datetime(2028, 5, 1, tzinfo=dt.UTC)) == 2


def test_spec_ahead_moves_every_date_but_the_comments(tmp_path: Path) -> None:
    copy, years = spec_ahead(SYMPOSIUM, tmp_path, dt.datetime(2027, 5, 1, tzinfo=dt.UTC))
    text = copy.read_text("utf-8")

    assert (copy.name, years) == (SYMPOSIUM.name, 1)
    assert "start: 2028-04-20T09:00\n" in text and "end: 2028-04-22T17:00\n" in text
    assert "rsvp_by: 2028-03-19\n" in text
    assert "People's Daily 2000-09-19" in text  # a source's date, in a comment
    assert "2027-" not in text
