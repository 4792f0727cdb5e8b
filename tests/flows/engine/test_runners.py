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


def test_results_in_order_keeps_at_most_in_flight_submitted() -> None:
    from concurrent.futures import Future

    from flows.engine.runners import results_in_order

    log: list[str] = []

    def submit(n: int) -> Future[int]:
        log.append(f"submit {n}")
        done: Future[int] = Future()
        done.set_result(n * 10)
        return done

    one = []
    for result in results_in_order(submit, range(3), in_flight=1):
        log.append(f"took {result}")
        one.append(result)
    assert one == [0, 10, 20]
    # the next is submitted once the one before has finished, before the caller takes it in
    assert log == ["submit 0", "submit 1", "took 0", "submit 2", "took 10", "took 20"]

    log.clear()
    assert list(results_in_order(submit, range(3), in_flight=None)) == [0, 10, 20]
    assert log == ["submit 0", "submit 1", "submit 2"]  # all at once: the runner bounds them


def test_results_in_order_submits_nothing_after_a_failure() -> None:
    from concurrent.futures import Future

    from flows.engine.runners import results_in_order

    submitted: list[int] = []

    def submit(n: int) -> Future[int]:
        submitted.append(n)
        done: Future[int] = Future()
        if n == 1:
            done.set_exception(ValueError("chunk 1 failed"))
        else:
            done.set_result(n)
        return done

    with pytest.raises(ValueError, match="chunk 1"):
        list(results_in_order(submit, range(5), in_flight=1))
    assert submitted == [0, 1]


@flow(name="in flight probe", task_runner=task_runner_for("thread", workers=2))
def in_flight_probe(transport: str) -> tuple[int | None, int | None, int | None]:
    from config.settings import get_settings
    from flows.engine.runners import chunks_in_flight, sends_in_flight

    settings = get_settings().model_copy(update={"mail_transport": transport})
    return (
        chunks_in_flight(waits_elsewhere=False),
        chunks_in_flight(waits_elsewhere=True),
        sends_in_flight(settings),
    )


def test_chunks_in_flight_one_on_threads_unless_the_work_waits_elsewhere() -> None:
    from flows.engine.runners import chunks_in_flight

    # Python work one chunk at a time; PDFs or an SMTP server: as many as the pool has
    assert in_flight_probe("maildir") == (1, None, 1)
    assert in_flight_probe("smtp") == (1, None, None)
    assert chunks_in_flight(waits_elsewhere=False) is None  # no flow run: no runner to share


@pytest.mark.slow
def test_chunks_in_flight_all_on_dask() -> None:
    on_dask = in_flight_probe.with_options(
        task_runner=task_runner_for("dask", workers=1, processes=False)
    )
    assert on_dask("maildir") == (None, None, None)  # Dask schedules its workers itself
