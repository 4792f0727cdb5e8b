"""`amity serve` against a real Prefect server: it registers the deployments, runs a
triggered one in its own process, and stopping it (SIGTERM, as systemd or a container
runtime does) leaves the daily schedule running for whoever serves next."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from db.models import Tie
from flows.engine.deployments import load_flows
from tests.e2e.conftest import PrefectServer, api_of, run_cli, start_group, stop_group, tail
from tests.e2e.test_deployments import AMITY, IMPORT, RUN_TIMEOUT

#: on one xdist worker: they share one Prefect server (the session fixture is per worker)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

REMINDERS = "anniversary reminders/daily-reminders"


def served_deployments(server: PrefectServer) -> dict[str, Any]:
    """The deployments as `amity serve` registers them: by module path, not file path.

    (After `prefect deploy` the same names exist with a file-path entrypoint: the test must
    not mistake those for served ones, whichever test ran first.)
    """
    from prefect.client.orchestration import get_client

    with api_of(server), get_client(sync_client=True) as client:
        return {
            d.name: d for d in client.read_deployments() if d.entrypoint and ":" not in d.entrypoint
        }


def test_amity_serve_runs_a_deployment_and_keeps_schedules_after_sigterm(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    from prefect.deployments import run_deployment

    home = tmp_path / "home"
    env = prefect_server.env(tmp_path / "prefect-client", {"AMITY_HOME": str(home)})
    run_cli([*AMITY, "init"], env=env)  # the embedded default: SQLite under AMITY_HOME
    wanted = sorted(item.spec.name for item in load_flows()[0])
    log = tmp_path / "serve.log"
    # asks for scheduled runs every 2 s instead of 10: the run here starts sooner
    env["PREFECT_RUNNER_POLL_FREQUENCY"] = "2"
    serve = start_group([*AMITY, "serve"], env=env, log=log, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 180
        while sorted(served_deployments(prefect_server)) != wanted:
            assert serve.poll() is None, f"amity serve exited:\n{tail(log)}"
            assert time.monotonic() < deadline, f"deployments not served:\n{tail(log)}"
            time.sleep(1)
        with api_of(prefect_server):
            first = run_deployment(IMPORT, idempotency_key="e2e-serve-1", timeout=RUN_TIMEOUT)
            again = run_deployment(IMPORT, idempotency_key="e2e-serve-1", timeout=RUN_TIMEOUT)
        assert first.state is not None
        assert first.state.type.value == "COMPLETED", f"{first.state}\n{tail(log)}"

        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    finally:
        stop_group(serve)

    reminders = served_deployments(prefect_server)[REMINDERS.split("/")[1]]
    engine = create_engine(f"sqlite:///{home / 'amity.db'}")
    with engine.connect() as conn:
        ties = conn.execute(select(func.count()).select_from(Tie)).scalar()
    engine.dispose()

    assert again.id == first.id
    assert ties == 27
    assert reminders.paused is False
    assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in reminders.schedules] == [  # type: ignore[union-attr]
        ("0 8 * * *", "Asia/Shanghai", True)
    ]
