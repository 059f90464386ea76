"""The grid: every dataset x task x feature x model x seed of a suite, one results row each.

Classical models: every grid point is fitted on train and scored on valid by the task's primary
metric; the best fitted model predicts the test split once. Keras models: trained on train, the
epoch with the best valid macro-F1 is kept (early stopping), and that model predicts test once.
Cells already in ``runs.csv`` with the same configuration are skipped unless ``force`` is set.
"""

from __future__ import annotations

import hashlib
import inspect
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
from .config import RunOptions, Suite, TrainConfig, data_home
from .datasets import DATASETS
from .errors import ConfigError, DatasetError, DatasetNotFoundError, InstrumentBenchError, lookup
from .features import FEATURES
from .features.store import library_versions, load_features
from .models import CLASSICAL_MODELS, GRIDS, KERAS_MODELS, MODELS, TIME_FREQUENCY, WINDOW_SECONDS
from .protocol.metrics import per_class_metrics, single_label_metrics
from .protocol.predictors import argmax
from .protocol.tasks import TASKS

VERSIONED = ("numpy", "scikit-learn", "xgboost", "librosa", "essentia", "pandas", "keras", "tensorflow")
SPLITS = ("train", "valid", "test")


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


def builder_defaults(build) -> dict:
    """Keyword defaults of a Keras builder (its architecture settings, part of the run key)."""
    return {name: p.default for name, p in inspect.signature(build).parameters.items()
            if p.kind is p.KEYWORD_ONLY}


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
    build = CLASSICAL_MODELS[model_name]
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


def _classical_cell(model_name, X, enc, *, seed, n_jobs, n_classes, primary):
    flat = {s: np.asarray(X[s]).reshape(len(X[s]), -1) for s in SPLITS}
    model, params, valid_score, fit_seconds, search_seconds = fit_and_select(
        model_name, flat["train"], enc["train"], flat["valid"], enc["valid"], seed=seed,
        n_jobs=n_jobs, n_classes=n_classes, primary=primary)
    t0 = time.perf_counter()
    scores = class_scores(model, flat["test"])
    info = {"best_params": json.dumps(params, sort_keys=True), f"valid_{primary}": valid_score,
            "fit_seconds": fit_seconds, "search_seconds": search_seconds,
            "predict_seconds": time.perf_counter() - t0, "model_bytes": len(pickle.dumps(model))}
    return model, scores, info


def keras_window(model_name: str, spec, sample_rate: int) -> int | None:
    """Frames per window of a windowed model on a feature (None: whole clips)."""
    seconds = WINDOW_SECONDS.get(model_name)
    if seconds is None or spec.frame_seconds is None:
        return None
    return max(1, int(round(seconds / spec.frame_seconds(spec.params, sample_rate))))


def _keras_cell(model_name, X, enc, *, seed, n_classes, primary, train_config, window):
    from .models.keras.training import fit_keras, predict_scores

    t0 = time.perf_counter()
    model, info = fit_keras(KERAS_MODELS[model_name], x_train=X["train"], y_train=enc["train"],
                            x_valid=X["valid"], y_valid=enc["valid"], n_classes=n_classes, seed=seed,
                            config=train_config, window=window)
    fit_seconds = time.perf_counter() - t0
    valid_pred = argmax(predict_scores(model, X["valid"], window=window))
    valid_score = single_label_metrics(enc["valid"], valid_pred, n_classes=n_classes)[primary]
    t0 = time.perf_counter()
    scores = predict_scores(model, X["test"], window=window)
    info.update({"best_params": json.dumps(builder_defaults(KERAS_MODELS[model_name]), sort_keys=True),
                 f"valid_{primary}": valid_score, "fit_seconds": fit_seconds,
                 "search_seconds": fit_seconds, "predict_seconds": time.perf_counter() - t0,
                 "model_bytes": int(sum(np.asarray(w).nbytes for w in model.weights)),
                 "window_frames": window or 0})
    return model, scores, info


def check_feature_fits(model_name: str, spec, X) -> None:
    """Raise ConfigError when a model needs a time-frequency feature and gets a vector."""
    if model_name in TIME_FREQUENCY and X["train"].ndim != 3:
        raise ConfigError(f"model {model_name!r} needs a time-frequency feature (frames x bins); "
                          f"{spec.name!r} gives one vector per clip")


def save_keras_model(model, directory: Path, manifest: dict) -> None:
    """Write ``model.keras`` and ``manifest.json`` (label map, feature, metrics) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / "model.tmp.keras"
    model.save(tmp)
    tmp.replace(directory / "model.keras")
    manifest_tmp = directory / "manifest.tmp.json"
    manifest_tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str))
    manifest_tmp.replace(directory / "manifest.json")


def run_cell(*, model_name: str, task, spec, X: dict, y: dict, seed: int, n_jobs: int,
             train_config=None, sample_rate: int = 16000):
    """Fit, select and test one model on one feature; return (row fields, per-class rows, model).

    Raises
    ------
    DatasetError
        A class occurs in valid or test but not in train.
    ConfigError
        The feature does not fit the model.
    """
    encoder = LabelEncoder().fit(y["train"])
    for split in ("valid", "test"):
        unseen = sorted(set(y[split]) - set(encoder.classes_))
        if unseen:
            names = ", ".join(task.classes[i] for i in unseen)
            raise DatasetError(f"task {task.name!r}: classes {names} occur in {split} but not in "
                               "train; a model cannot learn them")
    check_feature_fits(model_name, spec, X)
    enc = {split: encoder.transform(y[split]) for split in y}
    n_classes = len(encoder.classes_)
    if model_name in KERAS_MODELS:
        model, scores, info = _keras_cell(model_name, X, enc, seed=seed, n_classes=n_classes,
                                          primary=task.primary_metric, train_config=train_config,
                                          window=keras_window(model_name, spec, sample_rate))
    else:
        model, scores, info = _classical_cell(model_name, X, enc, seed=seed, n_jobs=n_jobs,
                                              n_classes=n_classes, primary=task.primary_metric)
    pred = encoder.inverse_transform(argmax(scores))
    row = {**single_label_metrics(y["test"], pred, n_classes=len(task.classes)), **info}
    row["predict_ms_per_clip"] = 1000 * row.pop("predict_seconds") / max(1, len(pred))
    row["label_map"] = json.dumps([task.classes[i] for i in encoder.classes_])
    return row, per_class_metrics(y["test"], pred, classes=task.classes), model


def _cell_config(dataset, split_hash, task, spec, model_name, seed, train_config) -> dict:
    config = {"dataset": dataset.name, "data_version": dataset.version, "split_hash": split_hash,
              "task": task.name, "feature": spec.name, "feature_params": spec.params,
              "model": model_name, "seed": seed}
    if model_name in KERAS_MODELS:
        config.update(architecture=builder_defaults(KERAS_MODELS[model_name]),
                      training=train_config.as_dict(), window=WINDOW_SECONDS.get(model_name))
    else:
        config["grid"] = GRIDS.get(model_name, {})
    return config


def _run_and_record(*, key, config, dataset, task, spec, model_name, seed, X, y, options,
                    train_config, context, summary, log) -> None:
    """Run one cell, save its model, and write its row and per-class rows."""
    results_dir = Path(options.results_dir)
    cell = f"{dataset.name}/{task.name}/{spec.name}/{model_name}/seed{seed}"
    row = {"run_key": key, "status": "ok", "dataset": dataset.name, "task": task.name,
           "feature": spec.name, "model": model_name, "seed": seed,
           "primary_metric": task.primary_metric}
    per_class = []
    try:
        metrics, per_class, model = run_cell(model_name=model_name, task=task, spec=spec, X=X, y=y,
                                             seed=seed, n_jobs=options.jobs, train_config=train_config,
                                             sample_rate=dataset.sample_rate)
        row.update(metrics)
        summary.computed += 1
        log(f"{cell}: {task.primary_metric}={metrics[task.primary_metric]:.3f} "
            f"(fit {metrics['fit_seconds']:.1f}s)")
        if model_name in KERAS_MODELS:
            import keras

            row["backend"] = keras.backend.backend()
            if options.save_models:
                frame = spec.frame_seconds(spec.params, dataset.sample_rate) if spec.frame_seconds else None
                save_keras_model(model, results_dir / "models" / key, {
                    **config, "label_map": json.loads(metrics["label_map"]), "frame_seconds": frame,
                    "sample_rate": dataset.sample_rate, "backend": row["backend"],
                    "metrics": {k: metrics[k] for k in ("accuracy", "macro_f1")},
                    "versions": json.loads(context["versions"])})
    except (InstrumentBenchError, ValueError) as exc:
        row.update(status="failed", error=str(exc))
        summary.failed.append((cell, str(exc)))
        log(f"{cell}: FAILED: {exc}")
    row.update({
        "n_train": len(y["train"]), "n_valid": len(y["valid"]), "n_test": len(y["test"]),
        "n_classes": len(task.classes), "n_features": int(np.prod(X["train"].shape[1:])),
        "split_hash": config["split_hash"], "feature_params": json.dumps(spec.params, sort_keys=True),
        "grid": json.dumps(config.get("grid", config.get("training")), sort_keys=True),
        **context, "utc_time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    results.record_run(results_dir, row, [{"run_key": key, **{k: row[k] for k in results.GROUP},
                                           "seed": seed, **pc} for pc in per_class])


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
    train_config = TrainConfig(**suite.keras)
    results_dir = Path(options.results_dir)
    done = set() if options.force else results.finished_keys(results_dir)
    summary = RunSummary()
    context = {"git_commit": git_commit(), "instrument_bench": __version__,
               "versions": json.dumps(library_versions(VERSIONED), sort_keys=True)}
    cache_dir = data_home() / "features"
    loaded = {}
    for exp in suite.experiments:
        if exp.dataset in summary.skipped_datasets:
            continue
        try:
            if exp.dataset not in loaded:
                loaded[exp.dataset] = DATASETS[exp.dataset](data_root=options.data_root, jobs=options.jobs,
                                                            progress=progress)
            dataset = loaded[exp.dataset]
        except DatasetNotFoundError as exc:
            summary.skipped_datasets[exp.dataset] = str(exc)
            log(f"skipped dataset {exp.dataset}: {exc}")
            continue
        split_hash = dataset.split_hash()
        for task_name in exp.tasks:
            task = TASKS[task_name]
            y = {s: task.labels(dataset.split(s)) for s in SPLITS}
            for feature_name in exp.features:
                spec = FEATURES[feature_name]
                X = None
                for model_name in exp.models:
                    for seed in range(options.seeds):
                        config = _cell_config(dataset, split_hash, task, spec, model_name, seed,
                                              train_config)
                        key = run_key(**config)
                        if key in done:
                            summary.cached += 1
                            continue
                        if X is None:
                            X = {s: load_features(dataset, s, spec, cache_dir=cache_dir,
                                                  jobs=options.jobs, progress=progress) for s in SPLITS}
                        _run_and_record(key=key, config=config, dataset=dataset, task=task,
                                        spec=spec, model_name=model_name, seed=seed, X=X, y=y,
                                        options=options, train_config=train_config,
                                        context=context, summary=summary, log=log)
    results.write_leaderboard(results_dir)
    return summary
