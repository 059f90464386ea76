"""Orchestration: load each dataset once, walk the plan, compute the cells not yet done, record.

Locally, cells run one after another in this process (each model uses ``--jobs`` threads); with
a Dask executor the cells of each task and feature go to the cluster together and are recorded
here as they finish. Cells whose run keys are already in ``runs.csv`` are skipped unless
``force`` is set. :mod:`.dry_run` walks the same plan without computing anything.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import results
from .cell import CellJob, FeatureFiles, compute_cell
from .config import RunOptions, Suite, TrainConfig, data_home
from .cross_source import own_views, target_jobs, target_views
from .datasets.loading import load_dataset, without_bad_clips
from .errors import (
    BadClipsError,
    DatasetError,
    DatasetNotFoundError,
    InstrumentBenchError,
    TaskNotApplicableError,
)
from .features import FEATURES
from .features.store import load_features
from .parallel import Executor, progress_bar
from .plan import dataset_failure_rows, feature_cells, n_cells, run_context, validate_suite
from .protocol.labels import SPLITS, task_view
from .protocol.tasks import TASKS
from .protocol.transfer import source_view
from .storage import remove_stale_temporaries


@dataclass
class RunSummary:
    """What a run did: counts of cells computed, skipped and failed, and skipped datasets."""

    computed: int = 0
    cached: int = 0
    failed: list = field(default_factory=list)
    skipped_datasets: dict = field(default_factory=dict)
    skipped_tasks: dict = field(default_factory=dict)
    skipped_targets: dict = field(default_factory=dict)  # "source -> target": why not scored
    skipped_features: dict = field(default_factory=dict)  # feature: why it cannot run here
    skipped_perturbations: dict = field(default_factory=dict)  # "perturbation on feature": why not


def skip_bad_clips(dataset, *, results_dir, jobs: int = 1, progress: bool = True, log=print):
    """``dataset`` without the clips whose files cannot be used (``--on-bad-clip skip``); the left-out
    clips are written to ``results_dir/skipped.csv`` (dataset, clip_id, path, error)."""
    kept, problems = without_bad_clips(dataset, cache_dir=data_home() / "audits", jobs=jobs,
                                       progress=progress)
    if problems:
        rows = [{"dataset": dataset.name, "clip_id": c, "path": str(p), "error": e} for c, p, e in problems]
        results.record_skipped(results_dir, dataset.name, rows)
        log(f"{dataset.name}: left out {len({c for c, _, _ in problems})} clip(s) that cannot be used "
            f"(listed in {Path(results_dir) / results.SKIPPED})")
    return kept


def record_cell(job: CellJob, out: dict, *, summary, log) -> None:
    """Write a computed cell's rows to the results folder and count it."""
    if out["error"] is None:
        summary.computed += 1
    else:
        summary.failed.append((job.name, out["error"]))
    log(out["line"])
    results.record_runs(job.results_dir, out["rows"], out["per_class"])


def _features(dataset, spec, view, *, options, progress, executor):
    """A feature's arrays for a task (for remote workers: where they are), or the error that kept
    them from being computed."""
    arrays, bad = {}, []
    try:
        for split in SPLITS:  # every split is read before failing, so every bad clip is listed
            try:
                arrays[split] = load_features(dataset, split, spec, cache_dir=data_home() / "features",
                                              jobs=options.jobs, progress=progress, executor=executor)
            except BadClipsError as exc:
                bad += exc.problems
    except InstrumentBenchError as exc:
        return exc
    if bad:
        return BadClipsError(spec.name, bad)
    if executor.distributed:
        return FeatureFiles(paths={s: str(a.filename) for s, a in arrays.items()}, keep=view.keep)
    return view.rows(arrays)


def _run_experiment(exp, dataset, *, options, train_config, done, context, summary, log, progress, bar,
                    executor, targets=None):
    """Every cell of one experiment block on its loaded dataset (finished cells are skipped);
    ``targets`` are the loaded ``test_on`` datasets."""
    remote = executor.distributed
    for task_name in exp.tasks:
        name = dataset.name + (f" (trained on {exp.train_source})" if exp.train_source else "")
        try:
            view = task_view(TASKS[task_name], dataset)
            if exp.train_source:
                view, notes = source_view(view, dataset, exp.train_source)
                for note in notes:
                    log(f"{name}/{task_name}: {note}")
        except TaskNotApplicableError as exc:
            summary.skipped_tasks[f"{name}/{task_name}"] = str(exc)
            log(f"skipped task {task_name} on {name}: {exc}")
            bar.update(n_cells(replace(exp, tasks=(task_name,)), options.seeds))
            continue
        test_ids = [c.clip_id for c in view.clips["test"]]
        test_units = {key: dataset.unit_of(c) for c in view.clips["test"]
                      for key in (c.clip_id, c.meta.get("group", c.clip_id))}
        views = target_views(view.task, targets or {}, source=dataset.name, summary=summary, log=log)
        views += own_views(exp, view, dataset)
        for feature_name in exp.features:
            spec, X, jobs, targets_of_cell = FEATURES[feature_name], None, [], ()
            cells = feature_cells(exp, dataset, view.task, feature_name, seeds=options.seeds,
                                  train_config=train_config, targets=[v for _, v in views])
            reason = spec.missing()
            if reason:  # an optional package is not installed: one line, not failed cells
                if feature_name not in summary.skipped_features:
                    summary.skipped_features[feature_name] = reason
                    log(f"skipped feature {feature_name}: {reason}")
                bar.update(len(cells))
                continue
            for target, why in {v.perturbation: v.applies_to(spec) for _, v in views
                                if v.applies_to(spec)}.items():
                if f"{target} on {feature_name}" not in summary.skipped_perturbations:
                    summary.skipped_perturbations[f"{target} on {feature_name}"] = why
                    log(f"skipped perturbation {target} on {feature_name}: {why}")
            for cell in cells:
                if cell.all_keys <= done:
                    summary.cached += 1
                    bar.update()
                    continue
                if X is None:  # a feature that cannot be computed fails its cells, not the run
                    X = _features(dataset, spec, view, options=options, progress=progress,
                                  executor=executor)
                    targets_of_cell = target_jobs(views, spec, options=options, progress=progress,
                                                  executor=executor)
                job = CellJob(
                    cell=cell, task=view.task, spec=spec, X=X, y=view.y, groups=view.groups,
                    test_ids=test_ids, test_units=test_units, sample_rate=dataset.sample_rate,
                    clip_seconds=dataset.clip_seconds,
                    results_dir=str(options.results_dir), n_jobs=1 if remote else options.jobs,
                    save_models=options.save_models, verbose=options.verbose, top_k=exp.top_k,
                    threshold=exp.threshold, train_config=train_config, context=context,
                    targets=targets_of_cell)
                if remote:
                    jobs.append(job)
                    continue
                record_cell(job, compute_cell(job), summary=summary, log=log)
                bar.update()
            for (job,), out in executor.as_completed(compute_cell, [(job,) for job in jobs]) if jobs else ():
                record_cell(job, out, summary=summary, log=log)
                bar.update()


def load_for(exp, suite, options, *, loaded, broken, summary, progress, say, name=None):
    """The experiment's dataset (or the dataset ``name``), loaded once per run; raises the error
    that keeps it from loading."""
    name = name or exp.dataset
    if name in summary.skipped_datasets:
        raise DatasetNotFoundError(summary.skipped_datasets[name])
    if name in broken:
        raise broken[name]
    if name not in loaded:
        dataset = load_dataset(name, options=suite.datasets.get(name, {}),
                               data_root=options.data_root, jobs=options.jobs, progress=progress)
        for note in dataset.notes:
            say(f"{dataset.name}: {note}")
        if options.on_bad_clip == "skip":
            dataset = skip_bad_clips(dataset, results_dir=options.results_dir, jobs=options.jobs,
                                     progress=progress, log=say)
        loaded[name] = dataset
    return loaded[name]


def load_targets(exp, suite, options, *, summary, say, **state) -> dict:
    """The loaded ``test_on`` datasets of an experiment; one that cannot be loaded is reported in
    one line (with the reason: the install command of a missing SoundFont) and left out."""
    targets = {}
    for name in exp.test_on:
        try:
            targets[name] = load_for(exp, suite, options, summary=summary, say=say, name=name, **state)
        except DatasetError as exc:
            if isinstance(exc, DatasetNotFoundError):  # not looked for again by its own experiments
                summary.skipped_datasets.setdefault(name, str(exc))
            key = f"{exp.dataset} -> {name}"
            if key not in summary.skipped_targets:
                summary.skipped_targets[key] = str(exc)
                say(f"skipped cross-source {key}: {exc}")
    return targets


def run_suite(suite: Suite, options: RunOptions, *, progress: bool = True, log=print) -> RunSummary:
    """Run every cell of ``suite`` and rebuild the leaderboard.

    Parameters
    ----------
    suite : Suite
        What to run.
    options : RunOptions
        Seeds, jobs, results folder, data root, force, executor.
    progress : bool
        Show progress bars for rendering, extraction and the cells.
    log : callable
        Where one-line status messages go.

    Returns
    -------
    RunSummary
    """
    validate_suite(suite)
    train_config = TrainConfig(**suite.keras)
    results_dir = Path(options.results_dir)
    for folder in (results_dir, data_home()):  # what killed runs left half-written
        remove_stale_temporaries(folder)
    rejected = results.repair_runs(results_dir)
    if rejected:
        log(f"{results_dir / results.RUNS}: set aside {len(rejected)} torn or invalid row(s) (lines "
            f"{', '.join(str(n) for n, _, _ in rejected)}) in {results_dir / results.REJECTED}; "
            "their cells are recomputed")
    done = set() if options.force else results.finished_keys(results_dir)
    summary, context, loaded, broken = RunSummary(), run_context(), {}, {}
    total = sum(n_cells(exp, options.seeds) for exp in suite.experiments)
    executor = Executor(options.executor, jobs=options.jobs, scheduler=options.scheduler)
    try:
        with progress_bar(total=total, desc="cells", unit="cell", enabled=progress) as bar:
            def say(message):  # a log line that does not tear the progress bars
                with bar.external_write_mode(file=sys.stderr):
                    log(message)

            for exp in suite.experiments:
                first = exp.dataset not in loaded
                try:
                    dataset = load_for(exp, suite, options, loaded=loaded, broken=broken, summary=summary,
                                    progress=progress, say=say)
                except DatasetNotFoundError as exc:
                    if exp.dataset not in summary.skipped_datasets:
                        summary.skipped_datasets[exp.dataset] = str(exc)
                        say(f"skipped dataset {exp.dataset}: {exc}")
                    bar.update(n_cells(exp, options.seeds))
                    continue
                except DatasetError as exc:
                    if exp.dataset not in broken:
                        broken[exp.dataset] = exc
                        summary.failed.append((exp.dataset, str(exc)))
                        say(f"dataset {exp.dataset} FAILED: {exc}")
                    results.record_runs(results_dir, dataset_failure_rows(exp, exc, seeds=options.seeds,
                                                                          context=context), [])
                    bar.update(n_cells(exp, options.seeds))
                    continue
                if first:
                    results.forget_failures(results_dir, dataset=exp.dataset, kind="dataset")
                targets = load_targets(exp, suite, options, summary=summary, say=say, loaded=loaded,
                                       broken=broken, progress=progress)
                _run_experiment(exp, dataset, options=options, train_config=train_config, done=done,
                                context=context, summary=summary, log=say, progress=progress, bar=bar,
                                executor=executor, targets=targets)
    finally:
        executor.close()
    results.write_leaderboard(results_dir, resamples=options.resamples, progress=progress)
    if options.save_models:
        results.prune_models(results_dir)
    return summary

