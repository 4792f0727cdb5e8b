"""Output to a pipe whose reader has gone (`amity events list | head -0`) ends quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_output_to_a_closed_pipe_ends_quietly_with_exit_0(tmp_path: Path) -> None:
    env = {**os.environ, "AMITY_HOME": str(tmp_path)}
    env.pop("AMITY_DATABASE_URL", None)
    amity = [sys.executable, "-m", "flows"]
    subprocess.run([*amity, "init"], cwd=REPO, env=env, capture_output=True, check=True)
    read, write = os.pipe()
    os.close(read)  # the reader is gone before amity writes a byte
    try:
        out = subprocess.run(
            [*amity, "events", "list"],
            cwd=REPO,
            env=env,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)

    assert (out.returncode, out.stderr) == (0, "")
