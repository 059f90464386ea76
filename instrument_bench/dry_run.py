"""``run --dry-run``: the cells a run would compute, their run keys, which are already in
``runs.csv``, and a time estimate from the cells ``runs.csv`` has timed; nothing is computed."""

from __future__ import annotations

from . import results
from .config import RunOptions, Suite, TrainConfig
from .cross_source import own_views
from .errors import DatasetError
from .plan import feature_cells, validate_suite
from .protocol.labels import task_view
from .protocol.tasks import TASKS
from .protocol.transfer import source_view, target_view
from .runner import RunSummary, load_for, load_targets


def _timings(results_dir) -> dict:
    """Median seconds a cell took (search, or Keras training, plus test prediction), from runs.csv,
    keyed by (dataset, feature, model), (feature, model) and (model,)."""
    runs = results.read_runs(results_dir)
    if runs.empty or "search_seconds" not in runs:
        return {}
    ok = runs[runs["status"] == "ok"].drop_duplicates("model_key")
    seconds = ok["search_seconds"] + ok["predict_ms_per_clip"].fillna(0) * ok["n_test"].fillna(0) / 1000
    ok = ok.assign(_seconds=seconds)
    out = {}
    for keys in (["dataset", "feature", "model"], ["feature", "model"], ["model"]):
        for group, frame in ok.groupby(keys):
            out[tuple(group) if isinstance(group, tuple) else (group,)] = float(frame["_seconds"].median())
    return out


def dry_run(suite: Suite, options: RunOptions, *, progress: bool = True, log=print) -> dict:
    """The cells ``run_suite`` would compute, without computing features or fitting anything.

    Datasets are loaded (rendered first if the built-in data is not there yet) because the run
    keys hash their splits. Each planned cell is reported with its run keys, whether they are all
    in ``runs.csv`` already, and the seconds it took where ``runs.csv`` holds a cell of the same
    dataset, feature and model (else the same feature and model, else the model; None if none).

    Returns
    -------
    dict
        ``cells`` (dicts: name, keys, done, seconds), ``skipped`` ({name: reason}).
    """
    validate_suite(suite)
    train_config = TrainConfig(**suite.keras)
    done = set() if options.force else results.finished_keys(options.results_dir)
    timings = _timings(options.results_dir)
    loaded, broken, summary, cells = {}, {}, RunSummary(), []
    for exp in suite.experiments:
        try:
            dataset = load_for(exp, suite, options, loaded=loaded, broken=broken, summary=summary,
                            progress=progress, say=log)
        except DatasetError as exc:
            summary.skipped_datasets[exp.dataset] = str(exc)
            continue
        targets = load_targets(exp, suite, options, summary=summary, say=log, loaded=loaded, broken=broken,
                               progress=progress)
        for task_name in exp.tasks:
            try:
                view = task_view(TASKS[task_name], dataset)
                if exp.train_source:
                    view, _ = source_view(view, dataset, exp.train_source)
                task = view.task
                views = [target_view(task, target) for target in targets.values()]
                views += [v for _, v in own_views(exp, view, dataset)]
            except DatasetError as exc:
                summary.skipped_tasks[f"{dataset.name}/{task_name}"] = str(exc)
                continue
            for feature in exp.features:
                for cell in feature_cells(exp, dataset, task, feature, seeds=options.seeds,
                                          train_config=train_config, targets=views):
                    seconds = next((timings[k] for k in ((cell.dataset, feature, cell.model),
                                                         (feature, cell.model), (cell.model,))
                                    if k in timings), None)
                    keys = {**cell.keys, **{f"{p}->{t}": k for t, by in cell.target_keys.items()
                                            for p, k in by.items()}}
                    cells.append({"name": cell.name, "keys": keys, "model_key": cell.model_key,
                                  "done": cell.all_keys <= done, "seconds": seconds})
    return {"cells": cells, "skipped": {**summary.skipped_datasets, **summary.skipped_tasks,
                                        **summary.skipped_targets}}
