"""Running many independent calls: in-process or on local worker processes (joblib)."""

from __future__ import annotations

import sys

from joblib import Parallel, delayed
from tqdm.auto import tqdm


def progress_bar(*, total: int, desc: str, unit: str = "it", enabled: bool = True):
    """A tqdm progress bar on stderr (disabled when ``enabled`` is false)."""
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, file=sys.stderr,
                dynamic_ncols=True, leave=False)


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
    tasks = list(tasks)
    results = []
    with progress_bar(total=len(tasks), desc=desc, unit=unit, enabled=progress) as bar:
        if jobs == 1 or len(tasks) <= 1:
            for task in tasks:
                results.append(fn(*task))
                bar.update()
        else:
            runner = Parallel(n_jobs=jobs, return_as="generator")
            for result in runner(delayed(fn)(*task) for task in tasks):
                results.append(result)
                bar.update()
    return results
