"""The targets of a run's cells: each ``test_on`` dataset's view of a task, each other instrument
source of a source test, each perturbation of the test split, and their features.

For every task of an experiment, each target (:class:`~.protocol.transfer.TargetView`) is bound to
the task; for every feature its clips' features are computed (cached like any other; perturbed
audio under its own cache key, reversed frames from the clean cache) and handed to the cells as
:class:`~.cell.TargetJob` s, which score the fitted models on them.
"""

from __future__ import annotations

from .cell import FeatureFiles, TargetJob
from .config import data_home
from .errors import InstrumentBenchError
from .features.perturbations import PERTURBATIONS
from .features.store import load_features
from .protocol.transfer import perturbation_targets, source_targets, target_view


def _target_features(target, view, spec, *, options, progress, executor):
    """A target's features for the clips its view keeps, splits stacked in order (or where they
    are, or the error that kept them from being computed)."""
    frames = view.perturbation != "-" and PERTURBATIONS[view.perturbation].on == "frames"
    audio = (view.perturbation, view.severity) if view.perturbation != "-" and not frames else None
    arrays = {}
    try:
        for split in view.keep:
            arrays[split] = load_features(target, split, spec, cache_dir=data_home() / "features",
                                          jobs=options.jobs, progress=progress, executor=executor,
                                          perturbation=audio)
    except InstrumentBenchError as exc:
        return exc
    files = FeatureFiles(paths={s: str(a.filename) for s, a in arrays.items()}, keep=view.keep,
                         reverse_frames=frames)
    return files if executor.distributed else files.stacked()


def target_views(task, targets: dict, *, source: str, summary, log) -> list:
    """The :class:`~.protocol.transfer.TargetView` of each loaded ``test_on`` target for ``task`` (a
    target the task cannot be scored on is reported and left out)."""
    views = []
    for name, target in targets.items():
        try:
            views.append((target, target_view(task, target)))
        except InstrumentBenchError as exc:
            summary.skipped_targets[f"{source}/{task.name} -> {name}"] = str(exc)
            log(f"skipped cross-source {source}/{task.name} -> {name}: {exc}")
    return views


def own_views(exp, view, dataset) -> list:
    """The targets an experiment draws from its own dataset: the other instrument sources of a
    source test (``train_source``) and its test split under each perturbation."""
    views = source_targets(view, dataset, exp.train_source) if exp.train_source else []
    views += perturbation_targets(view, dataset, exp.perturbations, source=exp.train_source or "-")
    return [(dataset, v) for v in views]


def target_jobs(views, spec, *, options, progress, executor) -> tuple:
    """The :class:`~.cell.TargetJob` of each target view the feature can be scored on (its
    features computed)."""
    jobs = []
    for target, view in views:
        if view.applies_to(spec) is not None:
            continue
        ids = [c.clip_id for c in view.clips]
        units = {key: target.unit_of(c) for c in view.clips
                 for key in (c.clip_id, c.meta.get("group", c.clip_id))}
        jobs.append(TargetJob(dataset=target.name, X=_target_features(target, view, spec, options=options,
                                                                       progress=progress, executor=executor),
                              y=view.y, groups=view.groups, clip_ids=ids, units=units, key=view.key,
                              source=view.source, perturbation=view.perturbation, severity=view.severity))
    return tuple(jobs)
