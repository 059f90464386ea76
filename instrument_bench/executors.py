"""Running many independent calls: in-process or on local worker processes (joblib)."""

from __future__ import annotations

import sys

from joblib import Parallel, delayed
from tqdm.auto import tqdm


def progress_bar(*, total: int, desc: str, unit: str = "it", enabled: bool = True):
    """A tqdm progress bar on stderr (disabled when ``enabled`` is false)."""
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, file=sys.stderr,
                dynamic_ncols=True, leave=False)


def parallel_imap(fn, tasks, *, jobs: int = 1, desc: str = "", unit: str = "it",
                  progress: bool = True):
    """Call ``fn(*task)`` for every task on ``jobs`` worker processes, yielding results in order.

    Same parameters as :func:`parallel_map`; results are yielded as they arrive, so a caller can
    write each one away before the next is computed.
    """
    tasks = list(tasks)
    with progress_bar(total=len(tasks), desc=desc, unit=unit, enabled=progress) as bar:
        if jobs == 1 or len(tasks) <= 1:
            results = (fn(*task) for task in tasks)
        else:
            results = Parallel(n_jobs=jobs, return_as="generator")(delayed(fn)(*task) for task in tasks)
        for result in results:
            bar.update()
            yield result


def parallel_map(fn, tasks, *, jobs: int = 1, desc: str = "", unit: str = "it",
                 progress: bool = True) -> list:
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

    Returns
    -------
    list
        ``fn``'s results, in the order of ``tasks``.
    """
    return list(parallel_imap(fn, tasks, jobs=jobs, desc=desc, unit=unit, progress=progress))
