"""What the person at the terminal waits for: `amity --help`, a read-only command, a flow command.

    .venv/bin/python bench/bench_cli.py [--runs 3]

In a new AMITY_HOME (`amity init`), times fresh processes, each the median of N runs:
(a) with no server running (every flow command starts Prefect's temporary API), and
(b) with `amity server` up, each command being the second in a row; then a trivial Prefect
flow (one task) against the same running server. Prints them side by side.
Targets: the read-only command <= 1.0 s; the flow command with the server up <= 1.5x the
trivial flow. Stops the server it started (by its pid, `amity server stop`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AMITY = [sys.executable, "-m", "flows"]
TRIVIAL = """
from prefect import flow, task
@task
def one() -> int:
    return 1
@flow
def trivial() -> int:
    return one()
trivial()
"""

COMMANDS = {
    "amity --help": [*AMITY, "--help"],
    "amity events list (read-only)": [*AMITY, "events", "list"],
    "amity remind --on 2026-11-28 (flow)": [*AMITY, "remind", "--on", "2026-11-28"],
}


class Failed(Exception):
    pass


def run(cmd: list[str], env: dict[str, str], *, quiet: bool = True) -> float:
    """Wall seconds of one fresh process; ``quiet``: a warning on its console is a failure."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise Failed(f"{' '.join(cmd[2:])} exited {done.returncode} after {took:.0f} s: {last}")
    if quiet and ("Traceback" in done.stderr or "EventsWorker" in done.stderr):
        raise Failed(f"{' '.join(cmd)} printed warnings:\n{done.stderr[-2000:]}")
    return took


def median(
    cmd: list[str], env: dict[str, str], runs: int, *, warm_up: bool, quiet: bool = True
) -> float:
    """The median wall time; NaN (and the reason printed) when a run fails."""
    try:
        if warm_up:  # "the second command in a row"
            run(cmd, env, quiet=quiet)
        return statistics.median(run(cmd, env, quiet=quiet) for _ in range(runs))
    except Failed as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "AMITY_"))}
        env.update(
            AMITY_HOME=str(Path(tmp) / "amity"),
            # the temporary API's database, away from the user's ~/.prefect
            PREFECT_HOME=str(Path(tmp) / "prefect"),
        )
        run([*AMITY, "init"], env)
        cold = {name: median(cmd, env, args.runs, warm_up=False) for name, cmd in COMMANDS.items()}
        start = time.perf_counter()
        run([*AMITY, "server", "start"], env)
        server_start = time.perf_counter() - start
        try:
            warm = {
                name: median(cmd, env, args.runs, warm_up=True) for name, cmd in COMMANDS.items()
            }
            sys.path.insert(0, str(REPO))
            from flows.engine.local_server import running

            server = running(Path(env["AMITY_HOME"]))
            assert server is not None
            trivial = median(
                [sys.executable, "-c", TRIVIAL],
                {**env, "PREFECT_API_URL": server.api_url},
                args.runs,
                warm_up=True,
                quiet=False,  # a bare Prefect flow prints "EventsWorker - Still processing items"
            )
        finally:
            run([*AMITY, "server", "stop"], env)
    width = max(len(name) for name in COMMANDS) + 2
    print(f"median of {args.runs} fresh processes, wall seconds (machine: {os.cpu_count()} cores)")
    print(f"{'':{width}}{'(a) no server':>15}{'(b) amity server up':>22}")
    for name in COMMANDS:
        print(f"{name:{width}}{cold[name]:>15.2f}{warm[name]:>22.2f}")
    print(f"{'trivial Prefect flow, same server':{width}}{'':>15}{trivial:>22.2f}")
    print(f"`amity server start` took {server_start:.1f} s (once)")
    read_only = warm["amity events list (read-only)"]
    flow_ratio = warm["amity remind --on 2026-11-28 (flow)"] / trivial
    print(f"read-only: {read_only:.2f} s (target <= 1.0)")
    print(f"flow command / trivial flow, server up: {flow_ratio:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
