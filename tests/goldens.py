"""Golden files: rendered output compared byte for byte with a committed copy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"


def golden(path: str, actual: str | bytes) -> None:
    """Compare with tests/golden/<path>; AMITY_UPDATE_GOLDEN=1 rewrites it instead."""
    target = GOLDEN / path
    data = actual.encode("utf-8") if isinstance(actual, str) else actual
    if os.environ.get("AMITY_UPDATE_GOLDEN") == "1" or not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if os.environ.get("AMITY_UPDATE_GOLDEN") != "1":
            pytest.fail(f"golden file {target} was missing and has been written; check it in")
    expected = target.read_bytes()
    if isinstance(actual, str):
        assert actual == expected.decode("utf-8")
    else:
        assert actual == expected
