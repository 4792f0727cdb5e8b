"""`amity remind` against a running Prefect API vs a trivial Prefect flow run the same way.

    .venv/bin/python bench/bench_cli_start.py [--runs 5]

Starts `prefect server start` on 127.0.0.1 (own PREFECT_HOME, free port), points
PREFECT_API_URL at it, then times fresh processes: (a) a trivial flow (one task) and (b)
`amity remind` on a day with nothing due, each the median of N runs after one warm-up.
Target: (b)/(a) <= 1.5. Stops the server it started.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(cmd: list[str], env: dict[str, str], runs: int) -> float:
    subprocess.run(cmd, env=env, cwd=REPO, check=True, capture_output=True)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=REPO, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            **os.environ,
            "PREFECT_HOME": str(Path(tmp) / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
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
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            api = f"http://127.0.0.1:{port}/api"
            deadline = time.monotonic() + 180
            while True:
                try:
                    urllib.request.urlopen(f"{api}/health", timeout=2)  # noqa: S310 (loopback)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            env = {**env, "PREFECT_API_URL": api, "AMITY_HOME": str(Path(tmp) / "amity")}
            subprocess.run(
                [sys.executable, "-m", "flows", "init", "--demo"],
                env=env,
                cwd=REPO,
                check=True,
                capture_output=True,
            )
            trivial = timed([sys.executable, "-c", TRIVIAL], env, args.runs)
            remind = timed(
                [sys.executable, "-m", "flows", "remind", "--on", "2026-11-28"], env, args.runs
            )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    print(f"trivial Prefect flow, fresh process: {trivial:.2f} s (median of {args.runs})")
    print(f"amity remind, fresh process:         {remind:.2f} s")
    print(f"ratio {remind / trivial:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
