"""The task runners: the same flow gives the same results on threads and on a Dask cluster."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

from flows.domain.slug import slugify
from flows.engine.runners import task_runner_for

pytestmark = pytest.mark.usefixtures("prefect_api")

NAMES = [
    "Rio de Janeiro",
    "Île-de-France",
    "東京都",
    "القاهرة",
    "Москва",
    "Buenos Aires",
    "서울특별시",
    "Αθήνα",
    "Bangkok กรุงเทพมหานคร",
    "Washington, D.C.",
]


@task
def slug_chunk(chunk: list[str]) -> list[str]:
    return [slugify(name) for name in chunk]


@flow(name="runner probe")
def slug_all(names: list[str], size: int) -> list[str]:
    # several tasks in flight at once, results gathered in submission order
    futures = slug_chunk.map([names[i : i + size] for i in range(0, len(names), size)])
    return [slug for future in futures for slug in future.result()]


def test_task_runner_for_thread_is_bounded() -> None:
    runner = task_runner_for("thread", workers=3)

    assert isinstance(runner, ThreadPoolTaskRunner)
    assert runner._max_workers == 3


def test_task_runner_for_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown task runner 'ray'"):
        task_runner_for("ray", workers=2)  # type: ignore[arg-type]


def test_task_runner_for_zero_workers_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        task_runner_for("dask", workers=0)


@pytest.mark.slow
@pytest.mark.parametrize("processes", [True, False], ids=["processes", "threads"])
def test_task_runner_for_dask_gives_the_thread_results(processes: bool) -> None:
    on_threads = slug_all.with_options(task_runner=task_runner_for("thread", workers=2))(NAMES, 3)

    on_dask = slug_all.with_options(
        task_runner=task_runner_for("dask", workers=2, processes=processes)
    )(NAMES, 3)

    assert on_dask == on_threads
    assert on_threads == [slugify(name) for name in NAMES]


def test_invitation_runner_takes_its_workers_from_settings() -> None:
    # a fresh process: the flow's runner is built when flows.invitations is imported
    probe = "from flows.invitations import send_invitations as f; print(f.task_runner._max_workers)"
    env = {**os.environ, "AMITY_TASK_WORKERS": "3"}

    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )

    assert out.stdout.strip() == "3"
