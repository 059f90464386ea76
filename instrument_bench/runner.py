"""The grid: every dataset x task x feature x model x seed of a suite, one results row each.

For each cell the model's hyperparameters are chosen on the valid split (fit on train, score the
task's primary metric on valid), then the chosen fitted model predicts the test split once.
Cells already in ``runs.csv`` with the same configuration are skipped unless ``force`` is set.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.model_selection import ParameterGrid
from sklearn.preprocessing import LabelEncoder

from . import __version__, results
from .config import RunOptions, Suite, data_home
from .datasets import DATASETS
from .errors import DatasetError, DatasetNotFoundError, InstrumentBenchError, lookup
from .features import FEATURES
from .features.store import library_versions, load_features
from .models import GRIDS, MODELS
from .protocol.metrics import per_class_metrics, single_label_metrics
from .protocol.predictors import argmax
from .protocol.tasks import TASKS

VERSIONED = ("numpy", "scikit-learn", "xgboost", "librosa", "essentia", "pandas")


@dataclass
class RunSummary:
    """What a run did: counts of cells computed, skipped and failed, and skipped datasets."""

    computed: int = 0
    cached: int = 0
    failed: list = field(default_factory=list)
    skipped_datasets: dict = field(default_factory=dict)


def validate_suite(suite: Suite) -> None:
    """Check every name in a suite before any work starts (raises UnknownNameError)."""
    for exp in suite.experiments:
        lookup(DATASETS, exp.dataset, kind="dataset")
        for name in exp.tasks:
            lookup(TASKS, name, kind="task")
        for name in exp.features:
            lookup(FEATURES, name, kind="feature")
        for name in exp.models:
            lookup(MODELS, name, kind="model")


def git_commit() -> str:
    """The git commit of the package's checkout, or ``unknown``."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def run_key(**config) -> str:
    """Hash of a cell's configuration: equal keys mean the cell's result can be reused."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def class_scores(model, X) -> np.ndarray:
    """Per-class scores of a fitted classifier (probabilities where it has them)."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    return model.decision_function(X)


def fit_and_select(model_name: str, X_train, y_train, X_valid, y_valid, *, seed: int,
                   n_jobs: int, n_classes: int, primary: str):
    """Fit every grid point on train, keep the one with the best primary metric on valid.

    Returns
    -------
    model, best_params, valid_score, fit_seconds, search_seconds
        The fitted best model, its hyperparameters, its valid score, the seconds its own fit
        took, and the seconds the whole search took.
    """
    build = MODELS[model_name]
    best = None
    start = time.perf_counter()
    for params in ParameterGrid(GRIDS.get(model_name, {})):
        t0 = time.perf_counter()
        model = build(seed=seed, n_jobs=n_jobs, **params).fit(X_train, y_train)
        fit_seconds = time.perf_counter() - t0
        pred = argmax(class_scores(model, X_valid))
        score = single_label_metrics(y_valid, pred, n_classes=n_classes)[primary]
        if best is None or score > best[2]:
            best = (model, params, score, fit_seconds)
    return (*best, time.perf_counter() - start)


def run_cell(*, model_name: str, task, X: dict, y: dict, seed: int, n_jobs: int):
    """Fit, select and test one model on one feature matrix; return metrics and per-class rows."""
    encoder = LabelEncoder().fit(y["train"])
    for split in ("valid", "test"):
        unseen = sorted(set(y[split]) - set(encoder.classes_))
        if unseen:
            names = ", ".join(task.classes[i] for i in unseen)
            raise DatasetError(f"task {task.name!r}: classes {names} occur in {split} but not in "
                               "train; a model cannot learn them")
    enc = {split: encoder.transform(y[split]) for split in y}
    model, params, valid_score, fit_seconds, search_seconds = fit_and_select(
        model_name, X["train"], enc["train"], X["valid"], enc["valid"], seed=seed, n_jobs=n_jobs,
        n_classes=len(encoder.classes_), primary=task.primary_metric)
    t0 = time.perf_counter()
    scores = class_scores(model, X["test"])
    predict_seconds = time.perf_counter() - t0
    pred = encoder.inverse_transform(argmax(scores))
    metrics = single_label_metrics(y["test"], pred, n_classes=len(task.classes))
    row = {
        **metrics,
        f"valid_{task.primary_metric}": valid_score,
        "best_params": json.dumps(params, sort_keys=True),
        "fit_seconds": fit_seconds,
        "search_seconds": search_seconds,
        "predict_ms_per_clip": 1000 * predict_seconds / max(1, len(pred)),
        "model_bytes": len(pickle.dumps(model)),
    }
    return row, per_class_metrics(y["test"], pred, classes=task.classes)


def run_suite(suite: Suite, options: RunOptions, *, progress: bool = True, log=print) -> RunSummary:
    """Run every cell of ``suite`` and rebuild the leaderboard.

    Parameters
    ----------
    suite : Suite
        What to run.
    options : RunOptions
        Seeds, jobs, results folder, data root, force.
    progress : bool
        Show progress bars for rendering and extraction.
    log : callable
        Where one-line status messages go.

    Returns
    -------
    RunSummary
    """
    validate_suite(suite)
    results_dir = Path(options.results_dir)
    done = set() if options.force else results.finished_keys(results_dir)
    summary = RunSummary()
    commit = git_commit()
    versions = json.dumps(library_versions(VERSIONED), sort_keys=True)
    cache_dir = data_home() / "features"
    for exp in suite.experiments:
        try:
            dataset = DATASETS[exp.dataset](data_root=options.data_root, jobs=options.jobs,
                                            progress=progress)
        except DatasetNotFoundError as exc:
            summary.skipped_datasets[exp.dataset] = str(exc)
            log(f"skipped dataset {exp.dataset}: {exc}")
            continue
        split_hash = dataset.split_hash()
        for task_name in exp.tasks:
            task = TASKS[task_name]
            y = {s: task.labels(dataset.split(s)) for s in ("train", "valid", "test")}
            for feature_name in exp.features:
                spec = FEATURES[feature_name]
                X = None
                for model_name in exp.models:
                    for seed in range(options.seeds):
                        config = {"dataset": dataset.name, "data_version": dataset.version,
                                  "split_hash": split_hash, "task": task.name,
                                  "feature": spec.name, "feature_params": spec.params,
                                  "model": model_name, "grid": GRIDS.get(model_name, {}),
                                  "seed": seed}
                        key = run_key(**config)
                        if key in done:
                            summary.cached += 1
                            continue
                        if X is None:
                            X = {s: load_features(dataset, s, spec, cache_dir=cache_dir,
                                                  jobs=options.jobs, progress=progress)
                                 for s in ("train", "valid", "test")}
                        cell = f"{dataset.name}/{task.name}/{spec.name}/{model_name}/seed{seed}"
                        row = {"run_key": key, "status": "ok", "dataset": dataset.name,
                               "task": task.name, "feature": spec.name, "model": model_name,
                               "seed": seed, "primary_metric": task.primary_metric}
                        per_class = []
                        try:
                            metrics, per_class = run_cell(model_name=model_name, task=task, X=X,
                                                          y=y, seed=seed, n_jobs=options.jobs)
                            row.update(metrics)
                            summary.computed += 1
                            log(f"{cell}: {task.primary_metric}={metrics[task.primary_metric]:.3f} "
                                f"(fit {metrics['fit_seconds']:.1f}s)")
                        except (InstrumentBenchError, ValueError) as exc:
                            row.update(status="failed", error=str(exc))
                            summary.failed.append((cell, str(exc)))
                            log(f"{cell}: FAILED: {exc}")
                        row.update({
                            "n_train": len(y["train"]), "n_valid": len(y["valid"]),
                            "n_test": len(y["test"]), "n_classes": len(task.classes),
                            "n_features": X["train"].shape[1], "split_hash": split_hash,
                            "feature_params": json.dumps(spec.params, sort_keys=True),
                            "grid": json.dumps(GRIDS.get(model_name, {}), sort_keys=True),
                            "versions": versions, "instrument_bench": __version__,
                            "git_commit": commit,
                            "utc_time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        })
                        results.record_run(results_dir, row,
                                           [{"run_key": key, **{k: row[k] for k in results.GROUP},
                                             "seed": seed, **pc} for pc in per_class])
    results.write_leaderboard(results_dir)
    return summary
