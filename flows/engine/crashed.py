"""Runs killed with -9 stay "Running" in Prefect: the next run marks them Crashed.

A flow run started here has no heartbeat (it runs in the caller's process, see
``local_run_settings``), so nothing tells the Prefect server when that process dies. Each
run that calls :func:`watch_this_run` tags itself with its host and process id, and marks
as Crashed every run still Running with this host's tag whose process is gone. A run on
another host is left to that host's next run.
"""

from __future__ import annotations

import logging
import os
import socket
from uuid import UUID

_log = logging.getLogger(__name__)

HOST_TAG = "amity-host:"
PID_TAG = "amity-pid:"


def _host() -> str:
    return socket.gethostname()


def process_is_gone(pid: int) -> bool:
    """True if no process ``pid`` runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: alive
        return False
    return False


def owner_tags() -> list[str]:
    return [f"{HOST_TAG}{_host()}", f"{PID_TAG}{os.getpid()}"]


def watch_this_run() -> list[str]:
    """Tag the current flow run with this process; mark this host's dead runs Crashed.

    Returns the names of the runs marked. Never fails the calling run: a Prefect API that
    cannot be reached is logged and left for the next run.
    """
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    current = context.flow_run if context is not None else None
    try:
        from prefect.client.orchestration import get_client

        if current is not None:
            with get_client(sync_client=True) as client:
                tags = sorted({*current.tags, *owner_tags()})
                client.update_flow_run(current.id, tags=tags)
        return mark_crashed_runs(exclude=current.id if current is not None else None)
    except Exception as exc:  # the run itself must go on
        _log.warning("could not check for crashed runs: %s", exc)
        return []


def mark_crashed_runs(*, exclude: UUID | None = None, limit: int = 200) -> list[str]:
    """Set Crashed every Running flow run of this host whose process is gone; their names."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    host = _host()
    running = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING])),
        tags=FlowRunFilterTags(all_=[f"{HOST_TAG}{host}"]),
    )
    marked: list[str] = []
    with get_client(sync_client=True) as client:
        for run in client.read_flow_runs(flow_run_filter=running, limit=limit):
            pids = [t.removeprefix(PID_TAG) for t in run.tags if t.startswith(PID_TAG)]
            if run.id == exclude or len(pids) != 1 or not pids[0].isdigit():
                continue
            pid = int(pids[0])
            if pid == os.getpid() or not process_is_gone(pid):
                continue
            client.set_flow_run_state(
                run.id,
                Crashed(
                    message=f"its process ({host}, pid {pid}) is gone: killed, or the machine "
                    "stopped; a new run takes over what it had not sent"
                ),
                force=True,
            )
            marked.append(run.name)
    return marked
