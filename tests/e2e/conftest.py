"""A real Prefect server for the end-to-end tests, and helpers to drive it like an office would.

The server runs as `prefect server start` on 127.0.0.1 and a free port, with its own
PREFECT_HOME; it is started in its own process group and the group is stopped by its id
at the end of the session, so the UI server and any child go with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent
#: the first start of a new PREFECT_HOME migrates its database: slow on a busy 2-core machine
SERVER_START_TIMEOUT = 240.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PrefectServer:
    url: str  # the UI, e.g. http://127.0.0.1:4321
    api_url: str  # e.g. http://127.0.0.1:4321/api
    home: Path

    def env(self, client_home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """An environment for a process that talks to this server (CLI, worker, amity)."""
        env = {
            k: v
            for k, v in os.environ.items()
            # nothing of the test process's own Prefect or amity set-up leaks in
            if not k.startswith(("AMITY_", "PREFECT_API", "PREFECT_HOME", "PREFECT_PROFILE"))
        }
        env.update(
            PREFECT_API_URL=self.api_url,
            PREFECT_HOME=str(client_home),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
        )
        env.update(extra or {})
        return env


def start_group(
    args: Sequence[str], *, env: Mapping[str, str], log: Path, cwd: Path = REPO
) -> subprocess.Popen[bytes]:
    """A process in its own process group (so stopping it stops its children too)."""
    out = log.open("ab")
    try:
        return subprocess.Popen(
            list(args),
            env=dict(env),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        out.close()


def stop_group(
    process: subprocess.Popen[bytes], *, first: int = signal.SIGTERM, grace: float = 15
) -> None:
    """Signal the process group started by `start_group`, then kill what is left of it."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, first)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    # the leader may be gone while a child (a flow run, the UI server) is not
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def tail(log: Path, lines: int = 40) -> str:
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def run_cli(
    args: Sequence[str], *, env: Mapping[str, str], cwd: Path = REPO, timeout: float = 300
) -> str:
    """Run a command to completion; a failure shows its output."""
    done = subprocess.run(
        list(args),
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def wait_until_healthy(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prefect server exited with {process.returncode}:\n{tail(log)}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"prefect server not healthy after {timeout:.0f} s:\n{tail(log)}")


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    root = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = PrefectServer(url=url, api_url=f"{url}/api", home=root / "home")
    env = server.env(server.home)
    env.pop("PREFECT_API_URL")
    # the UI (served at /) calls the API from the browser: tell it where the API is
    env["PREFECT_UI_API_URL"] = server.api_url
    env["PREFECT_UI_ENABLED"] = "true"
    log = root / "server.log"
    process = start_group(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        log=log,
    )
    try:
        wait_until_healthy(server.api_url, process, log, SERVER_START_TIMEOUT)
        yield server
    finally:
        stop_group(process)


@contextmanager
def api_of(server: PrefectServer) -> Iterator[None]:
    """Point this process's Prefect client at the server (overrides a test harness)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: server.api_url}):
        yield


def clear_server(server: PrefectServer) -> None:
    """Forget every flow run, deployment and amity work pool an earlier office left.

    The server lives for the whole session; each module's office starts from a clean one
    (an idempotency key of an earlier module's run would otherwise return that run).
    """
    from prefect.client.orchestration import get_client

    with api_of(server), get_client(sync_client=True) as client:
        while runs := client.read_flow_runs(limit=200):
            for run in runs:
                client.delete_flow_run(run.id)
        for deployment in client.read_deployments():
            client.delete_deployment(deployment.id)
        for pool in client.read_work_pools():
            if pool.name == "amity":
                client.delete_work_pool(pool.name)
