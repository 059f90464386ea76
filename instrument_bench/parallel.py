"""Where independent calls run: this process, local worker processes (joblib), or a Dask cluster.

``local`` (the default) runs feature extraction on ``--jobs`` joblib worker processes and the grid
of cells in this process, one after another, each model using ``--jobs`` threads. ``dask`` sends
extraction chunks and grid cells to a Dask cluster (``--scheduler tcp://HOST:PORT``);
``dask-local`` starts a ``distributed.LocalCluster`` of ``--jobs`` single-threaded worker
processes here. Dask workers read audio, the feature cache and write models into the same paths
as this process, so on a real cluster the data, ``$INSTRUMENT_BENCH_HOME`` and the results folder
must be on a filesystem every worker mounts at the same path.
"""

from __future__ import annotations

import sys

from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .errors import ConfigError

EXECUTORS = ("local", "dask", "dask-local")


def progress_bar(*, total: int, desc: str, unit: str = "it", enabled: bool = True):
    """A tqdm progress bar on stderr (disabled when ``enabled`` is false)."""
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, file=sys.stderr,
                dynamic_ncols=True, leave=False)


def _call(fn, args):
    return fn(*args)


class Executor:
    """Runs independent calls on local processes or a Dask cluster.

    Parameters
    ----------
    kind : str
        ``local``, ``dask`` or ``dask-local``.
    jobs : int
        Local worker processes (``local``), or LocalCluster workers (``dask-local``).
    scheduler : str, optional
        The Dask scheduler's address (``dask``).
    """

    def __init__(self, kind: str = "local", *, jobs: int = 1, scheduler: str | None = None):
        if kind not in EXECUTORS:
            raise ConfigError(f"unknown executor {kind!r}; valid: {', '.join(EXECUTORS)}")
        if kind == "dask" and not scheduler:
            raise ConfigError("--executor dask needs --scheduler tcp://HOST:PORT")
        self.kind, self.jobs, self.client, self.cluster = kind, max(1, jobs), None, None
        if kind == "local":
            return
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - distributed is a dependency
            raise ConfigError("the Dask executors need the 'distributed' package") from None
        if kind == "dask-local":
            self.cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(scheduler, timeout="30s")
            except OSError as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None

    @property
    def distributed(self) -> bool:
        """True for the Dask executors."""
        return self.client is not None

    def imap(self, fn, tasks, *, jobs: int | None = None):
        """``fn(*task)`` for every task, yielded in task order as they finish."""
        tasks = list(tasks)
        if self.client is not None:
            futures = self.client.map(_call, [fn] * len(tasks), tasks, pure=False)
            for future in futures:
                yield future.result()
            return
        jobs = self.jobs if jobs is None else jobs
        if jobs == 1 or len(tasks) <= 1:
            yield from (fn(*task) for task in tasks)
        else:
            yield from Parallel(n_jobs=jobs, return_as="generator")(delayed(fn)(*task) for task in tasks)

    def as_completed(self, fn, tasks):
        """``(task, fn(*task))`` pairs in the order they finish (task order when local)."""
        tasks = list(tasks)
        if self.client is None:
            yield from zip(tasks, self.imap(fn, tasks))
            return
        from distributed import as_completed

        futures = self.client.map(_call, [fn] * len(tasks), tasks, pure=False)
        index = {future.key: k for k, future in enumerate(futures)}
        for future in as_completed(futures):
            yield tasks[index[future.key]], future.result()

    def close(self) -> None:
        """Shut the client and any cluster this executor started."""
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None


def parallel_imap(fn, tasks, *, jobs: int = 1, desc: str = "", unit: str = "it",
                  progress: bool = True, executor: Executor | None = None):
    """Call ``fn(*task)`` for every task on ``jobs`` worker processes, yielding results in order.

    Same parameters as :func:`parallel_map`; results are yielded as they arrive, so a caller can
    write each one away before the next is computed.
    """
    tasks = list(tasks)
    if executor is None or not executor.distributed:
        executor = Executor("local", jobs=jobs)
    with progress_bar(total=len(tasks), desc=desc, unit=unit, enabled=progress) as bar:
        for result in executor.imap(fn, tasks):
            bar.update()
            yield result


def parallel_map(fn, tasks, *, jobs: int = 1, desc: str = "", unit: str = "it",
                 progress: bool = True, executor: Executor | None = None) -> list:
    """Call ``fn(*task)`` for every task, in order, on ``jobs`` worker processes.

    Parameters
    ----------
    fn : callable
        A picklable function.
    tasks : sequence of tuple
        Positional arguments of each call.
    jobs : int
        Worker processes; 1 runs in this process.
    desc, unit : str
        Progress bar label and unit.
    progress : bool
        Show a progress bar.
    executor : Executor, optional
        A Dask executor sends the calls to its cluster; default: local processes.

    Returns
    -------
    list
        ``fn``'s results, in the order of ``tasks``.
    """
    return list(parallel_imap(fn, tasks, jobs=jobs, desc=desc, unit=unit, progress=progress,
                              executor=executor))
