"""A real Prefect API for the flow tests: one per test session (it costs ~10 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    from flows.engine.runtime import local_run_settings

    with prefect_test_harness(server_startup_timeout=120), local_run_settings():
        yield
