"""Time rules in one place: local wall-clock times in a zone become UTC only if they exist."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo


@cache
def zone(tzid: str) -> ZoneInfo:
    return ZoneInfo(tzid)


class LocalTimeError(ValueError):
    """A wall-clock time that does not exist, or happens twice, in a zone (DST change)."""


def local_to_utc(local: dt.datetime, tzid: str) -> dt.datetime:
    """Convert a naive local time in ``tzid`` to UTC; refuse times a DST change skips or repeats."""
    if local.tzinfo is not None:
        raise ValueError(f"{local.isoformat()} has a zone already; give a local time")
    tz = zone(tzid)
    early = local.replace(tzinfo=tz, fold=0)
    late = local.replace(tzinfo=tz, fold=1)
    if early.utcoffset() != late.utcoffset():
        back = early.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)
        if back != local:
            raise LocalTimeError(
                f"{local.isoformat(timespec='minutes')} does not exist in {tzid} (clocks jump forward)"
            )
        raise LocalTimeError(
            f"{local.isoformat(timespec='minutes')} happens twice in {tzid} (clocks go back)"
        )
    return early.astimezone(dt.UTC)


def utc_to_local(value: dt.datetime, tzid: str) -> dt.datetime:
    return value.astimezone(zone(tzid))


def office_today(now: dt.datetime, tzid: str) -> dt.date:
    """The office's calendar day: the date in the home city's zone, not in UTC."""
    if now.tzinfo is None:
        # astimezone() would silently take a naive value as the machine's local time.
        raise ValueError("now must be timezone-aware")
    return now.astimezone(zone(tzid)).date()
