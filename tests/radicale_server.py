"""A real Radicale CalDAV server on 127.0.0.1 for the tests that publish calendars.

Registered as a pytest plugin in tests/conftest.py; `radicale` yields the base URL of the
user's home (``http://127.0.0.1:PORT/amity/``); a calendar is a folder under it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

USER, PASSWORD = "amity", "secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Radicale server with its own storage folder; yields its base URL."""
    root = tmp_path_factory.mktemp("radicale")
    port = free_port()
    (root / "users").write_text(f"{USER}:{PASSWORD}\n")
    config = root / "config"
    config.write_text(
        f"""[server]
hosts = 127.0.0.1:{port}
[auth]
type = htpasswd
htpasswd_filename = {root / "users"}
htpasswd_encryption = plain
[storage]
filesystem_folder = {root / "collections"}
[rights]
type = owner_only
[logging]
level = warning
"""
    )
    log = (root / "radicale.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HOME": str(root)},
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((root / "radicale.log").read_text()) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/{USER}/"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
