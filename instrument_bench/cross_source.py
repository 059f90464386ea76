"""The cross-source part of a run: each ``test_on`` target's view of a task and its features.

For every task of an experiment with ``test_on``, each loaded target is bound to the task through
its family map (:func:`~.protocol.transfer.target_view`); for every feature its test split's
features are computed (cached like any other) and handed to the cells as
:class:`~.cell.TargetJob` s, which score the fitted models on them.
"""

from __future__ import annotations

import numpy as np

from .cell import FeatureFiles, TargetJob
from .config import data_home
from .errors import InstrumentBenchError
from .features.store import load_features
from .protocol.transfer import target_view


def _target_features(target, view, spec, *, options, progress, executor):
    """A target's test-split features for the clips its view keeps (or where they are, or the error)."""
    try:
        array = load_features(target, "test", spec, cache_dir=data_home() / "features", jobs=options.jobs,
                              progress=progress, executor=executor)
    except InstrumentBenchError as exc:
        return exc
    if executor.distributed:
        return FeatureFiles(paths={"test": str(array.filename)}, keep={"test": view.keep})
    return array if view.keep.all() else np.asarray(array[view.keep])


def target_views(task, targets: dict, *, source: str, summary, log) -> list:
    """The :class:`~.protocol.transfer.TargetView` of each loaded target for ``task`` (a target
    the task cannot be scored on is reported and left out)."""
    views = []
    for name, target in targets.items():
        try:
            views.append((target, target_view(task, target)))
        except InstrumentBenchError as exc:
            summary.skipped_targets[f"{source}/{task.name} -> {name}"] = str(exc)
            log(f"skipped cross-source {source}/{task.name} -> {name}: {exc}")
    return views


def target_jobs(views, spec, *, options, progress, executor) -> tuple:
    """The :class:`~.cell.TargetJob` of each target view for one feature (its features computed)."""
    jobs = []
    for target, view in views:
        ids = [c.clip_id for c in view.clips]
        units = {key: target.unit_of(c) for c in view.clips
                 for key in (c.clip_id, c.meta.get("group", c.clip_id))}
        jobs.append(TargetJob(dataset=target.name, X=_target_features(target, view, spec, options=options,
                                                                       progress=progress, executor=executor),
                              y=view.y, groups=view.groups, clip_ids=ids, units=units))
    return tuple(jobs)
