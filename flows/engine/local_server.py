"""One local Prefect server per AMITY_HOME, so that flow commands do not each start one.

`amity server start` runs `prefect server start` on 127.0.0.1 and a free port, in its own
process group, with its own PREFECT_HOME, and writes what it started to
``AMITY_HOME/server/prefect.json`` (pid, port, API address); its log goes to
``AMITY_HOME/server/prefect.log``. A flow command reads that file and, if the server
answers, talks to it instead of starting Prefect's temporary API. `PREFECT_API_URL` set by
the user always wins. Nothing here imports prefect: the commands that only read stay quick.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

#: a new PREFECT_HOME migrates its database on the first start: slow on a busy machine
START_TIMEOUT_SECONDS = 240.0


@dataclass(frozen=True)
class LocalServer:
    pid: int
    port: int
    folder: Path

    @property
    def url(self) -> str:
        """The UI's address."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def log(self) -> Path:
        return self.folder / "prefect.log"


def server_folder(home: Path) -> Path:
    return home.resolve() / "server"


def _pid_file(home: Path) -> Path:
    return server_folder(home) / "prefect.json"


def recorded(home: Path) -> LocalServer | None:
    """The server the pid file names, whether or not it still runs."""
    try:
        data = json.loads(_pid_file(home).read_text(encoding="utf-8"))
        return LocalServer(int(data["pid"]), int(data["port"]), server_folder(home))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _is_our_server(pid: int) -> bool:
    """The process lives and is a Prefect server (not another one that reuses the pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True  # no /proc: trust the pid
    return b"prefect" in b" ".join(cmdline) and b"server" in cmdline


def healthy(server: LocalServer, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{server.api_url}/health", timeout=timeout) as reply:  # noqa: S310 (our own http://127.0.0.1 address)
            return bool(reply.status == 200)
    except OSError:
        return False


def running(home: Path) -> LocalServer | None:
    """The server of this home if its process lives and it answers."""
    server = recorded(home)
    if server is None or not _is_our_server(server.pid) or not healthy(server):
        return None
    return server


def api_url_for_flows(home: Path) -> str | None:
    """The API a flow command in this process should use, or None for Prefect's own choice.

    The user's PREFECT_API_URL wins; then this home's running server; else None (Prefect's
    temporary local API, started in the process).
    """
    if os.environ.get("PREFECT_API_URL"):
        return None
    server = running(home)
    return server.api_url if server else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StartFailed(Exception):
    """The server did not come up; the message ends with the tail of its log."""


def start(home: Path, *, timeout: float = START_TIMEOUT_SECONDS) -> tuple[LocalServer, bool]:
    """Start this home's server unless it runs; return it and whether it was started now."""
    server = running(home)
    if server is not None:
        return server, False
    old = recorded(home)
    if old is not None and _is_our_server(old.pid):
        # started but not answering yet (another `amity server start`?): wait for it
        _wait_healthy(old, None, timeout)
        return old, False
    folder = server_folder(home)
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    # the CLI's Prefect defaults (runtime.PREFECT_DEFAULTS) are in the environment already
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env.update(
        PREFECT_HOME=str(folder / "prefect-home"),
        # the UI, served at /, calls the API from the browser: tell it where the API is
        PREFECT_UI_API_URL=api_url,
        PREFECT_UI_ENABLED="true",
    )
    with (folder / "prefect.log").open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 (this Python, fixed arguments)
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # its own process group: it outlives this command, and `stop` ends its children too
            start_new_session=True,
        )
    server = LocalServer(process.pid, port, folder)
    tmp = _pid_file(home).with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": process.pid, "port": port, "api_url": api_url}) + "\n")
    tmp.replace(_pid_file(home))
    try:
        _wait_healthy(server, process, timeout)
    except StartFailed:
        stop(home)
        raise
    return server, True


def _wait_healthy(
    server: LocalServer, process: subprocess.Popen[bytes] | None, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise StartFailed(
                f"prefect server exited with {process.returncode}:\n{log_tail(server)}"
            )
        if healthy(server, timeout=1.0):
            return
        time.sleep(0.25)
    raise StartFailed(f"prefect server not answering after {timeout:.0f} s:\n{log_tail(server)}")


def log_tail(server: LocalServer, lines: int = 20) -> str:
    try:
        text = server.log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def stop(home: Path, *, grace: float = 15.0) -> LocalServer | None:
    """Stop this home's server (its process group, by the recorded pid); return what ran."""
    server = recorded(home)
    if server is None:
        return None
    alive = _is_our_server(server.pid)
    if alive:
        try:
            os.killpg(server.pid, signal.SIGTERM)
        except ProcessLookupError:
            alive = False
        deadline = time.monotonic() + grace
        while alive and time.monotonic() < deadline and _is_our_server(server.pid):
            _reap(server.pid)
            time.sleep(0.1)
        # the leader may be gone while a child (the UI server, a service) is not
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        _reap(server.pid)
    _pid_file(home).unlink(missing_ok=True)
    return server if alive else None


def _reap(pid: int) -> None:
    """Collect the exit status when this process is the server's parent (tests, `start`)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
