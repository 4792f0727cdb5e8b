"""Task runners for large batches: Prefect's thread pool (default) or a local Dask cluster.

Use with `some_flow.with_options(task_runner=task_runner_for("dask", workers=4))`. The Dask
runner needs the `dask` extra (`pip install -e '.[dask]'`: prefect-dask, distributed).
"""

from __future__ import annotations

from typing import Any, Literal

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
