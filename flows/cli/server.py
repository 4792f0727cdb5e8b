"""`amity server start|stop|status`: one local Prefect server for this AMITY_HOME."""

from __future__ import annotations

import argparse
from typing import Any

from flows.cli import EXIT_FAILED, EXIT_OK, RunFailed, add_command, need_action

SERVER_HELP = """\
Without a server, every command that runs a flow starts Prefect's temporary local API
first (seconds to a minute on a busy machine). `amity server start` starts one Prefect
server for this AMITY_HOME on 127.0.0.1 and a free port, in the background; every flow
command run with the same AMITY_HOME then uses it, and its UI shows every run.
Its pid file and log are under AMITY_HOME/server/. PREFECT_API_URL, when set, wins.

  start   start it (or say where it already runs) and print the UI's address
  status  say whether it runs, and where (exit 1 when it does not)
  stop    stop it (only the server this home started)"""


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "server",
        need_action,
        "start, stop or check the local Prefect server that flow commands use",
        description=SERVER_HELP,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    add_command(actions, "start", cmd_server_start, "start the server (if not running)")
    add_command(actions, "status", cmd_server_status, "say whether it runs, and where")
    add_command(actions, "stop", cmd_server_stop, "stop the server this home started")


def _home() -> Any:
    from config.settings import get_settings

    return get_settings().home


def cmd_server_start(args: argparse.Namespace) -> int:
    from flows.engine import local_server

    home = _home()
    print("starting the Prefect server (the first start sets up its database) ...", flush=True)
    try:
        server, started = local_server.start(home)
    except local_server.StartFailed as exc:
        raise RunFailed(str(exc)) from None
    print(f"Prefect server {'started' if started else 'already running'} (pid {server.pid})")
    print(f"  UI:  {server.url}")
    print(f"  API: {server.api_url}  (flow commands with AMITY_HOME={home} use it)")
    print(f"  log: {server.log}")
    print("  stop it with `amity server stop`")
    return EXIT_OK


def cmd_server_status(args: argparse.Namespace) -> int:
    from flows.engine import local_server

    server = local_server.running(_home())
    if server is None:
        print("no Prefect server for this AMITY_HOME: flow commands start a temporary one")
        return EXIT_FAILED
    print(f"Prefect server running (pid {server.pid})")
    print(f"  UI:  {server.url}")
    print(f"  API: {server.api_url}")
    print(f"  log: {server.log}")
    return EXIT_OK


def cmd_server_stop(args: argparse.Namespace) -> int:
    from flows.engine import local_server

    server = local_server.stop(_home())
    print(
        f"Prefect server stopped (pid {server.pid})" if server else "no Prefect server was running"
    )
    return EXIT_OK
