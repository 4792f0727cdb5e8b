"""What a killed writer leaves in the Maildir's tmp/ is removed at the next open, and only that."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flows.outbound.transport import MaildirTransport

#: a process that starts writing a message into tmp/ as the transport names it, then hangs
WRITER = """
import os, sys, time
from flows.outbound.transport import _HOST, MaildirTransport
box = MaildirTransport(sys.argv[1])
box.open()
name = box.path / "tmp" / f"msg-1.{os.getpid()}.0.{_HOST}"
name.write_bytes(b"Subject: half a message\\n")
print(name.name, flush=True)
time.sleep(60)
"""


def _writer(box: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(box)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def test_open_removes_the_partial_file_of_a_killed_writer_and_keeps_a_live_ones(
    tmp_path: Path,
) -> None:
    box = tmp_path / "outbox"
    killed, killed_file = _writer(box)
    live, live_file = _writer(box)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    foreign = box / "tmp" / "msg-3.4242.0.other-host"  # another host's writer: not ours to judge
    foreign.write_bytes(b"x")
    stale = box / "tmp" / "1700000000.M1P2.somewhere"  # another program's, two days old
    stale.write_bytes(b"x")
    two_days_ago = time.time() - 48 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    try:
        MaildirTransport(box).open()
        left = sorted(p.name for p in (box / "tmp").iterdir())
    finally:
        live.kill()
        live.wait()

    assert left == sorted([live_file, foreign.name])
    assert killed_file not in left
