"""Fault injection for the crash and race tests: stop or hold a run at a chosen point.

The delivery loop calls `confirmed(n)` after it confirmed n messages in the ledger. Unset
variables cost one dictionary look-up; nothing here runs in normal use.

- ``AMITY_FAULT_KILL_AFTER=N``: the process kills itself (SIGKILL, no clean-up, like a
  power cut) once N messages have been confirmed in it. Claims it holds for messages not
  yet confirmed stay behind for the next run to take over.
  While it is set, the process's sending threads take turns from sending a message to
  confirming it (`in_flight`), so the kill never falls between another thread's send and
  its confirm (a crash there repeats that one message: at least once, as the ledger says).
- ``AMITY_FAULT_MEET_DIR=DIR`` with ``AMITY_FAULT_MEET_COUNT=K``: after its first confirm,
  the process writes ``DIR/<pid>`` and its sending threads wait (at most ``AMITY_FAULT_MEET_TIMEOUT`` seconds,
  default 120) until K processes have done so; then all go on. Runs started together are
  thus certainly sending at the same time, whatever the machine's load.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_lock = threading.Lock()
_confirmed = 0
_meeting: threading.Event | None = None
_turn = threading.Lock()


@contextmanager
def in_flight() -> Iterator[None]:
    """Around one message's send and confirm: one thread at a time when a kill is armed."""
    if not os.environ.get("AMITY_FAULT_KILL_AFTER"):
        yield
        return
    with _turn:
        yield


def confirmed(count: int) -> None:
    """``count`` more messages were confirmed in the ledger by this process."""
    global _confirmed
    kill_after = os.environ.get("AMITY_FAULT_KILL_AFTER")
    meet_dir = os.environ.get("AMITY_FAULT_MEET_DIR")
    if not kill_after and not meet_dir:
        return
    with _lock:
        _confirmed += count
        total = _confirmed
    if kill_after and total >= int(kill_after):
        os.kill(os.getpid(), signal.SIGKILL)
    if meet_dir:
        _meet(Path(meet_dir), int(os.environ.get("AMITY_FAULT_MEET_COUNT", "2")))


def _meet(folder: Path, count: int) -> None:
    """Every thread of the process waits here until ``count`` processes have arrived."""
    global _meeting
    timeout = float(os.environ.get("AMITY_FAULT_MEET_TIMEOUT", "120"))
    with _lock:
        first = _meeting is None
        if first:
            _meeting = threading.Event()
        meeting = _meeting
    assert meeting is not None
    if not first:
        meeting.wait(timeout)
        return
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(os.getpid())).touch()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(list(folder.iterdir())) < count:
        time.sleep(0.02)
    meeting.set()
