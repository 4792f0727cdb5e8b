"""CSV that is safe to open in a spreadsheet: no cell amity writes runs as a formula.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK("http://evil.example/…")``
from a partner's contact record runs when the organizer opens the file). The OWASP rule:
prefix such a cell with ``'``, which spreadsheets show as text and do not print. Numbers
amity itself writes (ints, floats) stay as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

__all__ = ["FORMULA_START", "safe_cell", "safe_writer"]

#: what makes a spreadsheet read a cell as a formula (OWASP "CSV injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet shows it, never evaluates it."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_writer(out: Any, **options: Any) -> _SafeWriter:
    """``csv.writer(out, **options)`` whose every text cell goes through :func:`safe_cell`."""
    return _SafeWriter(out, **options)
