"""A real Prefect API for the flow tests: one per test session (it costs ~10 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    from flows.engine.runtime import local_run_settings

    # generous: with xdist each worker starts one, beside the e2e server, on a busy machine
    with prefect_test_harness(server_startup_timeout=300), local_run_settings():
        yield
