"""Task runners for large batches: Prefect's thread pool (default) or a local Dask cluster.

Use with `some_flow.with_options(task_runner=task_runner_for("dask", workers=4))`. The Dask
runner needs the `dask` extra (`pip install -e '.[dask]'`: prefect-dask, distributed).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from config.settings import Settings

T = TypeVar("T")

RunnerKind = Literal["thread", "dask"]
KINDS: tuple[RunnerKind, ...] = ("thread", "dask")


def task_runner_for(
    kind: RunnerKind = "thread", workers: int = 4, *, processes: bool = True
) -> Any:
    """A task runner with `workers` workers; always bounded (Prefect's default is not).

    Dask: a LocalCluster started when the flow run starts and closed when it ends, one
    thread per worker. `processes=True` (worker processes) sidesteps the GIL for CPU-bound
    tasks such as rendering letters and PDFs; `processes=False` keeps the workers as
    threads of the flow's process (no start-up cost, but the GIL is shared). The cluster's
    dashboard is off: it would listen on every interface.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if kind == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "the Dask task runner needs the dask extra: pip install -e '.[dask]'"
            ) from exc

        cluster: dict[str, Any] = {
            "n_workers": workers,
            "threads_per_worker": 1,
            "processes": processes,
            "dashboard_address": None,
        }
        if processes:
            # worker processes talk over TCP: loopback only (threads use in-process comms)
            cluster["host"] = "127.0.0.1"
        return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=cluster)
    raise ValueError(f"unknown task runner {kind!r}; use one of {', '.join(KINDS)}")


def chunks_in_flight(*, waits_elsewhere: bool) -> int | None:
    """How many chunks the running flow keeps in flight: 1, or None for as many as its task
    runner runs at once.

    On Dask every chunk is submitted at once: its workers are processes (or threads the
    caller chose, `processes=False`), and it schedules them itself. On the thread pool a
    second chunk helps only while the first waits outside Python: for its PDFs (rendered in
    processes) or for an SMTP server. Two chunks of Python work that write files contend
    for the GIL at every write: into a Maildir, each message took several times the thread
    time on two threads that it took on one (bench_invitations, 10,000 invitations), and
    letters without PDFs rendered no faster on two.
    """
    from prefect.context import FlowRunContext
    from prefect.task_runners import ThreadPoolTaskRunner

    context = FlowRunContext.get()
    on_threads = context is not None and isinstance(context.task_runner, ThreadPoolTaskRunner)
    return 1 if on_threads and not waits_elsewhere else None


def sends_in_flight(settings: Settings) -> int | None:
    """`chunks_in_flight` of a sending run: an SMTP server is waited for, a Maildir is not."""
    return chunks_in_flight(waits_elsewhere=settings.mail_transport != "maildir")


def results_in_order(
    submit: Callable[[T], Any], items: Iterable[T], *, in_flight: int | None
) -> Iterator[Any]:
    """Submit a task per item (``submit`` returns its future) and yield the results in
    order, with at most ``in_flight`` submitted and not yet finished (None: all at once).

    A failed task raises here. With ``in_flight``, nothing after it is submitted; with None,
    every task was submitted at the start and those running finish.
    """
    pending: deque[Any] = deque()
    waiting = iter(items)
    for item in waiting:
        pending.append(submit(item))
        if in_flight is not None and len(pending) >= in_flight:
            break
    while pending:
        result = pending.popleft().result()
        # the next one runs while the caller takes this result in
        for item in waiting:
            pending.append(submit(item))
            break
        yield result
