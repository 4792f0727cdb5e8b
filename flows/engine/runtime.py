"""Process-wide defaults for running Prefect here; applied before prefect is imported."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

PREFECT_DEFAULTS = {
    # machines without internet: no analytics calls on start
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # a new PREFECT_HOME's first start can exceed the 20 s default
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    # a log line per task doubles the per-task cost; the CLI prints its own summary
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # the local API records task runs in batches: 11x shorter catch-up (DESIGN.md)
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "0.5",
    "PREFECT_UI_ENABLED_FOR_EPHEMERAL": "false",
}


def apply_prefect_defaults() -> None:
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)


@contextmanager
def local_run_settings() -> Iterator[None]:
    """Settings for flows run in this process (CLI, tests), not by a worker.

    A sync flow otherwise waits ~1 s for its heartbeat thread at the end of every run
    (measured: 1.3 s -> 0.2 s for a trivial flow); heartbeats matter for runs a worker
    watches, not for a run whose process is the caller.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def run_flow(flow: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a flow in this process with `local_run_settings`."""
    with local_run_settings():
        return flow(*args, **kwargs)
