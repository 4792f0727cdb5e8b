"""Process-wide defaults for running Prefect here; applied before prefect is imported."""

from __future__ import annotations

import gc
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
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
    # whole seconds: Prefect 3.9 truncates it with int(), and 0 makes the recorder's flush
    # loop spin (asyncio.sleep(0)), one core busy for as long as the API is up
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
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


@contextmanager
def amity_server_api(home: Path | None = None) -> Iterator[None]:
    """Flows run in this block use `amity server` of AMITY_HOME (or ``home``) when it is up.

    The user's PREFECT_API_URL wins; with neither, Prefect starts its temporary local API.
    """
    from flows.engine.local_server import api_url_for_flows

    if home is None:
        from config.settings import get_settings

        home = get_settings().home
    url = api_url_for_flows(home)
    if url is None:
        if not os.environ.get("PREFECT_API_URL"):
            # the temporary API runs in a child process that logs to this console; stopped at
            # exit, it reports the task-run records it had not flushed yet as errors
            os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: url}):
        yield


@contextmanager
def long_lived_objects_frozen() -> Iterator[None]:
    """Keep what the process holds already out of the garbage collector's full passes for
    the block (a large run); give it back after.

    Every object allocated counts towards a collection, and a full one walks every object
    the process holds: the ~300,000 of Prefect, SQLAlchemy and the templates loaded before
    the run included, 0.2-0.4 s each time. A run of 10,000 invitations met three (1.1 s of
    its time); with those objects frozen, its full collections took 0.2-0.3 s in all. They
    are unfrozen after the block, so a process that runs several flows collects them as before.
    Blocks may overlap (runs in threads): the last to end unfreezes. A process that froze
    objects itself (a server before it forks) keeps its own freeze: nothing is done then.
    """
    global _frozen_blocks
    with _freezing:
        # only the outermost block of runs at once freezes, and only what nothing else froze
        ours = _frozen_blocks > 0 or gc.get_freeze_count() == 0
        if ours:
            if _frozen_blocks == 0:
                gc.freeze()
            _frozen_blocks += 1
    try:
        yield
    finally:
        if ours:
            with _freezing:
                _frozen_blocks -= 1
                if _frozen_blocks == 0:
                    gc.unfreeze()


#: blocks of `long_lived_objects_frozen` running now (runs in threads of one process)
_frozen_blocks = 0
_freezing = threading.Lock()


def run_flow(flow: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a flow in this process with `local_run_settings`, on `amity server` when it is up."""
    with amity_server_api(), local_run_settings():
        try:
            return flow(*args, **kwargs)
        finally:
            wait_for_events()


#: events workers seen stuck (their API gone): not waited for again in this process
_STALLED: weakref.WeakSet[Any] = weakref.WeakSet()


def wait_for_events(timeout: float = 30.0, stalled_after: float = 2.0) -> None:
    """Wait until the events of this process's runs have reached the API.

    Left for the exit, Prefect drains them from an atexit hook that prints "EventsWorker -
    Still processing items" on the console whenever some are left; here, while the API is
    still up, they go quietly.
    """
    import time

    from prefect.events.worker import EventsWorker

    deadline = time.monotonic() + timeout
    for worker in list(getattr(EventsWorker, "_instances", {}).values()):
        queue = getattr(worker, "_queue", None)
        if queue is None or getattr(worker, "_stopped", False) or worker in _STALLED:
            continue
        # a worker whose API has gone (a server stopped since) never drains: stop waiting
        # once nothing has moved for a while instead of spending the whole timeout on it
        left, moved = queue.unfinished_tasks, time.monotonic()
        while left and time.monotonic() < min(deadline, moved + stalled_after):
            time.sleep(0.02)
            if queue.unfinished_tasks != left:
                left, moved = queue.unfinished_tasks, time.monotonic()
        if left and time.monotonic() >= moved + stalled_after:
            _STALLED.add(worker)
