"""The example events moved whole years ahead of the real clock, for tests of an event to come.

The shipped examples take place in 2027. A test that needs one still ahead of today (a report
refused, a lifecycle that waits, `amity events apply` on the real clock) would fail once its
date has passed. Until a month before then the shift is 0 years: the specs are the shipped ones.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

_DATE = re.compile(r"\b(\d{4})-(\d\d-\d\d)(?!\d)")
_END = re.compile(r"^end: (\S+)$", re.MULTILINE)


def years_ahead(spec_text: str, now: dt.datetime | None = None) -> int:
    """Whole years to add so that the event ends at least 30 days after ``now`` (the real time)."""
    match = _END.search(spec_text)
    assert match, "the spec has no top-level end"
    end = dt.datetime.fromisoformat(match[1])  # the host's wall time: hours do not matter here
    after = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None) + dt.timedelta(days=30)
    years = 0
    while end.replace(year=end.year + years) <= after:
        years += 1
    return years


def spec_ahead(path: Path, folder: Path, now: dt.datetime | None = None) -> tuple[Path, int]:
    """A copy of the spec at ``path`` in ``folder``, every date moved by `years_ahead` years."""
    text = path.read_text("utf-8")
    years = years_ahead(text, now)
    lines = [
        line if line.lstrip().startswith("#") else _DATE.sub(lambda m: _later(m, years), line)
        for line in text.splitlines(keepends=True)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / path.name
    copy.write_text("".join(lines), encoding="utf-8")
    return copy, years


def _later(match: re.Match[str], years: int) -> str:
    return f"{int(match[1]) + years}-{match[2]}"
