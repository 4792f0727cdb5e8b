"""An event's dates as precisely as the source knows them.

A planned event has times. A historical one may be known to the day (an all-day event in
calendars: ``VALUE=DATE`` with an exclusive end), or only to the month or year: calendars
need a day, so such an event is not put in them as a block of invented days or hours — it is
listed with its precision ("1997-09, known to the month") instead.

Historical records are stored as local midnights: the first day of what is known, and the
day after its last day (``record_span``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

#: how precisely an event's dates can be known
PRECISIONS = ("day", "month", "year")


@dataclass(frozen=True)
class EventDates:
    """When an event is, at the precision it is known."""

    #: "time" (planned: start and end times), "day" (all-day), "month" or "year"
    precision: str
    first_day: dt.date
    #: the last day (inclusive)
    last_day: dt.date
    #: local start and end (only for precision "time")
    start_local: dt.datetime | None = None
    end_local: dt.datetime | None = None

    @property
    def in_calendars(self) -> bool:
        """Whether calendars can hold the event (they need at least a day)."""
        return self.precision in ("time", "day")

    @property
    def is_all_day(self) -> bool:
        return self.precision == "day"

    def text(self) -> str:
        """For people: '2027-04-20 09:00 – 2027-04-22 17:00', '2000-09-26 – 2000-09-29
        (all day)', '1997-09 (known to the month)', '1997 (known to the year)'."""
        if self.precision == "time":
            assert self.start_local is not None and self.end_local is not None
            return f"{self.start_local:%Y-%m-%d %H:%M} – {self.end_local:%Y-%m-%d %H:%M}"
        if self.precision == "day":
            if self.first_day == self.last_day:
                return f"{self.first_day.isoformat()} (all day)"
            return f"{self.first_day.isoformat()} – {self.last_day.isoformat()} (all day)"
        if self.precision == "month":
            return f"{self.first_day:%Y-%m} (known to the month)"
        return f"{self.first_day:%Y} (known to the year)"

    def start_text(self) -> str:
        """The start alone, at its precision (for lists)."""
        if self.precision == "time":
            assert self.start_local is not None
            return f"{self.start_local:%Y-%m-%d %H:%M}"
        if self.precision == "day":
            return self.first_day.isoformat()
        if self.precision == "month":
            return f"{self.first_day:%Y-%m}"
        return f"{self.first_day:%Y}"

    def end_text(self) -> str:
        if self.precision == "time":
            assert self.end_local is not None
            return f"{self.end_local:%Y-%m-%d %H:%M}"
        if self.precision == "day":
            return self.last_day.isoformat()
        return self.start_text()


def _midnight(moment: dt.datetime) -> bool:
    return moment.time() == dt.time(0, 0)


def event_dates(start: dt.datetime, end: dt.datetime, tzid: str, precision: str) -> EventDates:
    """The event's dates; ``start``/``end`` UTC-aware, ``precision`` the stored date precision.

    A "day"-precision event is all-day when it starts and ends at local midnight (how
    historical records are stored); otherwise it has times.
    """
    zone = ZoneInfo(tzid)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if precision in ("month", "year"):
        return EventDates(precision, local_start.date(), local_start.date())
    if _midnight(local_start) and _midnight(local_end) and local_end > local_start:
        last = local_end.date() - dt.timedelta(days=1)
        return EventDates("day", local_start.date(), last)
    return EventDates(
        "time",
        local_start.date(),
        local_end.date(),
        local_start.replace(tzinfo=None),
        local_end.replace(tzinfo=None),
    )


def record_span(
    first_day: dt.date, precision: str, days: int | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """The local (naive) start and exclusive end stored for a historical record: from the
    first day of what is known to the midnight after it (``days`` days, when the source gives
    a duration of a day-precision event; else one day, the month, or the year)."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown date precision {precision!r}; expected one of {PRECISIONS}")
    start = dt.datetime.combine(first_day, dt.time(0, 0))
    if precision == "day":
        return start, start + dt.timedelta(days=max(days or 1, 1))
    if precision == "month":
        following = (
            dt.date(first_day.year + 1, 1, 1)
            if first_day.month == 12
            else dt.date(first_day.year, first_day.month + 1, 1)
        )
        return start, dt.datetime.combine(following, dt.time(0, 0))
    return start, dt.datetime.combine(dt.date(first_day.year + 1, 1, 1), dt.time(0, 0))


def dates_of(event: Any) -> EventDates:
    """The dates of an event row or snapshot, at the precision they are known."""
    return event_dates(
        event.start_dt, event.end_dt, event.timezone, getattr(event, "date_precision", "day")
    )
