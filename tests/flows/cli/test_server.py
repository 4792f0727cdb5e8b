"""`amity server`: one Prefect server per AMITY_HOME that flow commands use; reads stay Prefect-free."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from flows.engine import local_server

REPO = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)


def _amity(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "AMITY_HOME": str(home), **env}
    full_env.pop("AMITY_DATABASE_URL", None)
    full_env.pop("PREFECT_API_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "flows", *args],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )


def _flow_run_names(api_url: str) -> list[str]:
    reply = httpx.post(f"{api_url}/flow_runs/filter", json={"limit": 50}, timeout=30)
    reply.raise_for_status()
    return sorted(run["name"] for run in reply.json())


def _gone(pid: int) -> bool:
    """No such process, or only its exit status left for init to collect."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "State:\tZ" in status


@pytest.mark.slow
def test_server_start_then_flow_commands_use_it_until_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    assert _amity(home, "server", "status").returncode == 1
    started = _amity(home, "server", "start")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        server = local_server.recorded(home)
        assert server is not None
        assert f"UI:  {server.url}" in started.stdout
        assert server.log.is_file()
        # a second start finds it
        again = _amity(home, "server", "start")
        assert "already running" in again.stdout
        assert local_server.recorded(home) == server

        # a flow command runs its flows on that server, and exits without Prefect's warnings
        init = _amity(home, "init", "--demo")
        assert init.returncode == 0, init.stderr
        assert init.stderr == ""
        runs = _flow_run_names(server.api_url)
        assert len(runs) == 4  # three imports and the city names, as `init --demo` reports
        status = _amity(home, "server", "status")
        assert status.returncode == 0
        assert f"API: {server.api_url}" in status.stdout

        # the user's PREFECT_API_URL wins over the server of the home
        monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
        assert local_server.api_url_for_flows(home) is None
        monkeypatch.delenv("PREFECT_API_URL")
        assert local_server.api_url_for_flows(home) == server.api_url
    finally:
        stopped = _amity(home, "server", "stop")
    assert stopped.stdout.strip() == f"Prefect server stopped (pid {server.pid})"
    assert _gone(server.pid)
    assert local_server.recorded(home) is None
    assert _amity(home, "server", "status").returncode == 1
    assert _amity(home, "server", "stop").stdout.strip() == "no Prefect server was running"


def test_server_stop_leaves_a_process_that_is_not_its_server_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # a pid file naming a live process that is no Prefect server (this test's own)
    folder = local_server.server_folder(home)
    folder.mkdir(parents=True)
    (folder / "prefect.json").write_text(json.dumps({"pid": os.getpid(), "port": 9}))
    assert local_server.running(home) is None
    assert local_server.stop(home) is None
    assert local_server.recorded(home) is None


READ_ONLY = """
import contextlib, io, sys
from flows.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(code, sorted(m for m in sys.modules if m == "prefect" or m.startswith("prefect.")))
"""


@pytest.mark.parametrize(
    "command",
    [
        ["events", "list"],
        ["events", "show", "beijing-tokyo-urban-symposium-12"],
        ["partners", "list"],
        ["contacts", "list"],
        ["anniversaries", "--year", "2029"],
        ["deployments"],
        ["server", "status"],
    ],
)
def test_read_only_command_never_imports_prefect(command: list[str], amity_home: Path) -> None:
    from config.settings import get_settings
    from db.events import apply_spec, read_spec
    from db.reference import init_database
    from db.session import session_scope
    from flows.partners import CITY_NAMES, DATA_DIR, DEMO_CONTACTS, REFERENCE_PARTNERS, import_file

    init_database()
    # the shipped registry, imported without a flow run (the task's plain function)
    for name, kind in [
        *((n, "partners") for n in REFERENCE_PARTNERS),
        (CITY_NAMES, "names"),
        (DEMO_CONTACTS, "contacts"),
    ]:
        import_file.fn(str(DATA_DIR / name), kind, False, False)
    with session_scope() as session:
        spec = REPO / "config" / "events" / "beijing-tokyo-urban-symposium-12.yaml"
        apply_spec(session, read_spec(spec, session), get_settings(), now=NOW)
    done = subprocess.run(
        [sys.executable, "-c", READ_ONLY, *command],
        cwd=REPO,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    code, modules = done.stdout.split(" ", 1)
    assert (code, modules.strip()) == ("1" if command[0] == "server" else "0", "[]"), done.stderr
