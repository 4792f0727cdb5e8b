"""A run killed with -9 is marked Crashed in Prefect by the next run on the machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.settings import PREFECT_API_URL

from flows.engine.crashed import HOST_TAG, PID_TAG, mark_crashed_runs, watch_this_run
from flows.invitations import send_invitations

pytestmark = pytest.mark.usefixtures("prefect_api")
REPO = Path(__file__).resolve().parents[3]

#: a flow that watches itself like `amity invite` does, says its run id, then hangs
HANGING_RUN = """
from prefect import flow
from prefect.context import FlowRunContext
import time
from flows.engine.crashed import watch_this_run

@flow(name="hanging run")
def hang() -> None:
    watch_this_run()
    print(FlowRunContext.get().flow_run.id, flush=True)
    time.sleep(120)

hang()
"""


def _state(run_id: UUID) -> StateType | None:
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    return state.type if state is not None else None


def test_a_run_killed_with_sigkill_is_marked_crashed_by_the_next_one() -> None:
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    proc = subprocess.Popen(
        [sys.executable, "-c", HANGING_RUN],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    killed = UUID(proc.stdout.readline().strip())
    time.sleep(0.5)  # the tags are written before the id is printed; let the state settle
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    left_running = _state(killed)

    marked = mark_crashed_runs()

    assert left_running == StateType.RUNNING  # what Prefect shows without amity's check
    assert _state(killed) == StateType.CRASHED
    assert len(marked) >= 1


def test_a_live_run_is_not_marked_crashed() -> None:
    from prefect import flow
    from prefect.context import FlowRunContext

    seen: dict[str, object] = {}

    @flow(name="live run")
    def live() -> None:
        watch_this_run()
        run = FlowRunContext.get().flow_run  # type: ignore[union-attr]
        seen["marked"] = mark_crashed_runs()
        seen["state"] = _state(run.id)  # type: ignore[union-attr]
        with get_client(sync_client=True) as client:
            seen["tags"] = client.read_flow_run(run.id).tags  # type: ignore[union-attr]

    live()

    assert seen["state"] == StateType.RUNNING
    assert f"{PID_TAG}{os.getpid()}" in seen["tags"]  # type: ignore[operator]
    assert any(t.startswith(HOST_TAG) for t in seen["tags"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_send_invitations_tags_its_run_with_its_process(amity_db: str) -> None:
    # an unknown event fails the run right after the check: enough to see the tags
    state = send_invitations("no-such-event", return_state=True)  # type: ignore[call-overload]

    with get_client(sync_client=True) as client:
        tags = client.read_flow_run(state.state_details.flow_run_id).tags
    assert f"{PID_TAG}{os.getpid()}" in tags
