"""Approving runs on the e2e Prefect server the way an office does (`amity approve RUN`)."""

from __future__ import annotations

import sys
import time
from typing import Any
from uuid import UUID

from tests.e2e.conftest import PrefectServer, api_of, run_cli

AMITY = [sys.executable, "-m", "flows"]


def read_run(server: PrefectServer, run_id: UUID | str) -> Any:
    from prefect.client.orchestration import get_client

    with api_of(server), get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(str(run_id)))


def wait_for(
    server: PrefectServer, run_id: UUID | str, states: tuple[str, ...], timeout: float = 300
) -> Any:
    """The run once its state type is one of ``states`` (e.g. PAUSED, COMPLETED)."""
    deadline = time.monotonic() + timeout
    run = read_run(server, run_id)
    while time.monotonic() < deadline:
        run = read_run(server, run_id)
        if run.state is not None and run.state.type.value in states:
            return run
        if run.state is not None and run.state.is_final():
            break
        time.sleep(1)
    state = run.state
    raise AssertionError(
        f"run {run_id}: {state.type.value if state else None} {state.message if state else ''}"
        f", not {states}"
    )


def approve(env: dict[str, str], run_id: UUID | str, by: str = "Wang Fang") -> str:
    return run_cli([*AMITY, "approve", str(run_id), "--by", by, "--comment", "read"], env=env)


def trigger_approved(server: PrefectServer, env: dict[str, str], name: str, **kwargs: Any) -> Any:
    """Run a deployment that sends to partners; approve its review when it waits for one."""
    from prefect.deployments import run_deployment

    with api_of(server):
        run = run_deployment(name, timeout=0, **kwargs)
    run = wait_for(server, run.id, ("PAUSED", "COMPLETED"))
    if run.state.type.value == "PAUSED":
        approve(env, run.id)
        run = wait_for(server, run.id, ("COMPLETED",))
    return run
