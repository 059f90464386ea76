"""The grid: every dataset x task x feature x model (x loss) x seed of a suite.

Classical models: every grid point is fitted on train and scored on valid (single-label: macro-F1
of the argmax; multi-label: mean average precision); the best fitted model predicts the test split
once. Keras models: trained on train, the epoch with the best valid score is kept (early stopping),
and that model predicts test once. Each predictor (argmax for single-label; threshold,
class-thresholds, top-k, top-k-threshold for multi-label) is fitted on the valid split's scores
and gives one results row. Cells already in ``runs.csv`` with the same configuration are skipped
unless ``force`` is set.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import pickle
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from scipy.special import expit
from sklearn.model_selection import ParameterGrid
from sklearn.multiclass import OneVsRestClassifier

from . import __version__, results
from .config import RunOptions, Suite, TrainConfig, data_home
from .datasets import DATASETS
from .errors import (
    ConfigError,
    DatasetError,
    DatasetNotFoundError,
    InstrumentBenchError,
    TaskNotApplicableError,
    lookup,
)
from .executors import Executor, progress_bar, using
from .features import FEATURES
from .features.store import library_versions, load_features
from .models import CLASSICAL_MODELS, GRIDS, KERAS_MODELS, MODELS, TIME_FREQUENCY, WINDOW_SECONDS
from .models.classical import PerLabel
from .models.keras.losses import LOSSES
from .protocol.groups import aggregate_groups
from .protocol.metrics import (
    mean_average_precision,
    multi_label_metrics,
    per_class_metrics,
    per_class_multi_label,
    single_label_metrics,
)
from .protocol.predictors import MULTI_LABEL_PREDICTORS, PREDICTORS, argmax
from .protocol.tasks import TASKS
from .report import save_predictions

VERSIONED = ("numpy", "scikit-learn", "xgboost", "librosa", "essentia", "pandas", "keras", "tensorflow")
SPLITS = ("train", "valid", "test")


@dataclass
class RunSummary:
    """What a run did: counts of cells computed, skipped and failed, and skipped datasets."""

    computed: int = 0
    cached: int = 0
    failed: list = field(default_factory=list)
    skipped_datasets: dict = field(default_factory=dict)
    skipped_tasks: dict = field(default_factory=dict)


def validate_suite(suite: Suite) -> None:
    """Check every name in a suite before any work starts (raises UnknownNameError)."""
    for exp in suite.experiments:
        lookup(DATASETS, exp.dataset, kind="dataset")
        for name in exp.tasks:
            lookup(TASKS, name, kind="task")
        for name in exp.losses:
            lookup(LOSSES, name, kind="loss")
        for name in exp.predictors:
            lookup(PREDICTORS, name, kind="predictor")
        for name in exp.features:
            lookup(FEATURES, name, kind="feature")
        for name in exp.models:
            lookup(MODELS, name, kind="model")


def load_dataset(name: str, *, options: dict, data_root=None, jobs: int = 1, progress: bool = True):
    """Load a registered dataset with a suite's ``[datasets.<name>]`` options.

    Raises
    ------
    ConfigError
        The loader does not take one of the options.
    """
    loader = lookup(DATASETS, name, kind="dataset")
    parameters = inspect.signature(loader).parameters
    accepted = set(parameters)
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    unknown = sorted(k for k in options if k not in accepted and not accepts_any)
    if unknown:
        raise ConfigError(f"dataset {name!r} takes no option {', '.join(unknown)}")
    try:
        dataset = loader(data_root=data_root, jobs=jobs, progress=progress, **options)
    except TypeError as exc:
        raise ConfigError(f"dataset {name!r}: bad option ({exc})") from None
    ids = [c.clip_id for c in dataset.clips]
    if len(set(ids)) != len(ids):
        seen = set()
        twice = next(i for i in ids if i in seen or seen.add(i))
        raise DatasetError(f"{dataset.root}: clip id {twice!r} appears more than once in {name}")
    return dataset


def skip_bad_clips(dataset, *, results_dir, jobs: int = 1, progress: bool = True, log=print):
    """``dataset`` without the clips whose files cannot be used (``--on-bad-clip skip``); the left-out
    clips are written to ``results_dir/skipped.csv`` (dataset, clip_id, path, error)."""
    from .validate import audit

    problems = audit(dataset, cache_dir=data_home() / "audits", jobs=jobs, progress=progress)
    if not problems:
        return dataset
    bad = {clip_id for clip_id, _, _ in problems}
    rows = [{"dataset": dataset.name, "clip_id": c, "path": str(p), "error": e} for c, p, e in problems]
    results.record_skipped(results_dir, dataset.name, rows)
    log(f"{dataset.name}: left out {len(bad)} clip(s) that cannot be used "
        f"(listed in {Path(results_dir) / results.SKIPPED})")
    digest = hashlib.sha256("\n".join(sorted(bad)).encode()).hexdigest()[:8]
    return replace(dataset, clips=tuple(c for c in dataset.clips if c.clip_id not in bad),
                           version=f"{dataset.version}-without{len(bad)}-{digest}")


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


def class_scores(model, X, *, multi_label: bool = False) -> np.ndarray:
    """Per-class scores of a fitted classifier (probabilities where it has them).

    Multi-label models without probabilities (the SVM) give the sigmoid of their decision values,
    so 0.5 is the SVM's own margin and the ranking metrics see the decision values' order. A
    two-class SVM's single decision value ``d`` becomes the scores ``(-d, d)``.
    """
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        if isinstance(proba, list):  # scikit-learn's multi-output models: one (n, 2) array per label
            classes = model.steps[-1][1].classes_
            return np.stack([p[:, list(c).index(1)] if 1 in c else np.zeros(len(p))
                             for p, c in zip(proba, classes)], axis=1)
        return np.asarray(proba)
    scores = np.asarray(model.decision_function(X))
    if multi_label:
        return expit(scores)
    return np.stack([-scores, scores], axis=1) if scores.ndim == 1 else scores


def selection_score(scores, y, *, multi_label: bool) -> float:
    """What grid search maximises on valid: macro-F1 of the argmax (single-label), or mean average
    precision over the labels (multi-label; threshold-free, so the choice does not depend on the
    predictor applied afterwards)."""
    if multi_label:
        return mean_average_precision(y, scores)
    return single_label_metrics(y, argmax(scores), n_classes=scores.shape[1])["macro_f1"]


# classical models that fit every label of a multi-label task at once: scikit-learn's multi-output
# trees and neighbours, XGBoost's multi-label mode; the others are wrapped one-vs-rest
NATIVE_MULTI_LABEL = {"random-forest", "knn", "xgboost"}


def build_classical(model_name: str, *, seed: int, n_jobs: int, multi_label: bool = False,
                    masked: bool = False, **params):
    """A classical model; for multi-label tasks its classifier is wrapped one-vs-rest unless it
    fits all labels at once (``NATIVE_MULTI_LABEL``), and per label on the known rows
    (:class:`~.models.classical.PerLabel`) when some labels are unknown (``masked``)."""
    model = CLASSICAL_MODELS[model_name](seed=seed, n_jobs=n_jobs, **params)
    if masked or (multi_label and model_name not in NATIVE_MULTI_LABEL):
        name, classifier = model.steps[-1]
        model.steps[-1] = (name, PerLabel(classifier) if masked else OneVsRestClassifier(classifier))
    return model


def fit_and_select(model_name: str, X_train, y_train, X_valid, y_valid, *, seed: int, n_jobs: int,
                   multi_label: bool = False):
    """Fit every grid point on train, keep the one with the best selection score on valid.

    Returns
    -------
    model, best_params, valid_score, fit_seconds, search_seconds
        The fitted best model, its hyperparameters, its valid score, the seconds its own fit
        took, and the seconds the whole search took.
    """
    best = None
    start = time.perf_counter()
    masked = multi_label and bool((np.asarray(y_train) < 0).any())
    for params in ParameterGrid(GRIDS.get(model_name, {})):
        t0 = time.perf_counter()
        model = build_classical(model_name, seed=seed, n_jobs=n_jobs, multi_label=multi_label,
                                masked=masked, **params).fit(X_train, y_train)
        fit_seconds = time.perf_counter() - t0
        score = selection_score(class_scores(model, X_valid, multi_label=multi_label), y_valid,
                                multi_label=multi_label)
        if best is None or score > best[2]:
            best = (model, params, score, fit_seconds)
    return (*best, time.perf_counter() - start)


def _classical_cell(model_name, X, enc, *, seed, n_jobs, multi_label):
    flat = {s: np.asarray(X[s]).reshape(len(X[s]), -1) for s in SPLITS}
    model, params, valid_score, fit_seconds, search_seconds = fit_and_select(
        model_name, flat["train"], enc["train"], flat["valid"], enc["valid"], seed=seed,
        n_jobs=n_jobs, multi_label=multi_label)
    valid_scores = class_scores(model, flat["valid"], multi_label=multi_label)
    t0 = time.perf_counter()
    scores = class_scores(model, flat["test"], multi_label=multi_label)
    info = {"best_params": json.dumps(params, sort_keys=True), "valid_score": valid_score,
            "fit_seconds": fit_seconds, "search_seconds": search_seconds,
            "predict_seconds": time.perf_counter() - t0, "model_bytes": len(pickle.dumps(model))}
    return model, valid_scores, scores, info


def keras_window(model_name: str, spec, sample_rate: int) -> int | None:
    """Frames per window of a windowed model on a feature (None: whole clips)."""
    seconds = WINDOW_SECONDS.get(model_name)
    if seconds is None or spec.frame_seconds is None:
        return None
    return max(1, int(round(seconds / spec.frame_seconds(spec.params, sample_rate))))


def _keras_cell(model_name, X, enc, *, seed, n_classes, multi_label, train_config, window, loss,
                verbose=0):
    from .models.keras.training import fit_keras, predict_scores

    t0 = time.perf_counter()
    model, info = fit_keras(KERAS_MODELS[model_name], x_train=X["train"], y_train=enc["train"],
                            x_valid=X["valid"], y_valid=enc["valid"], n_classes=n_classes, seed=seed,
                            config=train_config, window=window, loss=loss, verbose=verbose)
    fit_seconds = time.perf_counter() - t0
    valid_scores = predict_scores(model, X["valid"], window=window, aggregate=train_config.aggregate)
    valid_score = selection_score(valid_scores, enc["valid"], multi_label=multi_label)
    t0 = time.perf_counter()
    scores = predict_scores(model, X["test"], window=window, aggregate=train_config.aggregate)
    info.update({"best_params": json.dumps(builder_defaults(KERAS_MODELS[model_name]), sort_keys=True),
                 "valid_score": valid_score, "fit_seconds": fit_seconds,
                 "search_seconds": fit_seconds, "predict_seconds": time.perf_counter() - t0,
                 "model_bytes": int(sum(np.asarray(w).nbytes for w in model.weights)),
                 "window_frames": window or 0})
    return model, valid_scores, scores, info


def check_feature_fits(model_name: str, spec, X) -> None:
    """Raise ConfigError when a model needs a time-frequency feature and gets a vector."""
    if model_name in TIME_FREQUENCY and X["train"].ndim != 3:
        raise ConfigError(f"model {model_name!r} needs a time-frequency feature (frames x bins); "
                          f"{spec.name!r} gives one vector per clip")


def save_model(model, directory: Path, manifest: dict) -> Path:
    """Write a fitted model and its ``manifest.json`` into ``directory``, each atomically.

    Keras models go to ``model.keras``; scikit-learn / XGBoost models to ``model.joblib``
    (joblib, compressed), which ``predict`` loads only from the tool's own results folder unless
    told to trust it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if manifest.get("model_format") == "keras":
        name = "model.keras"
        tmp = directory / "model.tmp.keras"
        model.save(tmp)
    else:
        import joblib

        name = "model.joblib"
        tmp = directory / "model.tmp.joblib"
        joblib.dump(model, tmp, compress=3)
    tmp.replace(directory / name)
    manifest_tmp = directory / "manifest.tmp.json"
    manifest_tmp.write_text(json.dumps({**manifest, "model_file": name}, indent=1, sort_keys=True,
                                       default=str))
    manifest_tmp.replace(directory / "manifest.json")
    return directory / name


def encode_labels(task, y: dict) -> tuple[dict, list]:
    """Labels as the model sees them, and the label map of the classes it learns.

    Single-label: indices into the classes that occur in train. Multi-label: the indicator
    columns of the classes with a positive in train.

    Raises
    ------
    DatasetError
        A class occurs in valid or test but not in train.
    """
    if task.kind == "multi-label":  # unknown labels (-1) count neither way
        kept = (y["train"] == 1).sum(axis=0) > 0
        present = {split: set(np.flatnonzero((y[split] == 1).sum(axis=0) > 0)) for split in ("valid", "test")}
    else:
        kept = np.isin(np.arange(len(task.classes)), y["train"])
        present = {split: set(np.unique(y[split])) for split in ("valid", "test")}
    for split, classes in present.items():
        unseen = sorted(c for c in classes if not kept[c])
        if unseen:
            names = ", ".join(task.classes[i] for i in unseen)
            raise DatasetError(f"task {task.name!r}: classes {names} occur in {split} but not in "
                               "train; a model cannot learn them")
    if task.kind == "multi-label":
        return {split: y[split][:, kept] for split in y}, [c for c, k in zip(task.classes, kept) if k]
    index = np.cumsum(kept) - 1
    return {split: index[y[split]] for split in y}, [c for c, k in zip(task.classes, kept) if k]


def run_cell(*, model_name: str, task, spec, X: dict, y: dict, seed: int, n_jobs: int,
             train_config=None, sample_rate: int = 16000, loss: str | None = None,
             predictors=None, top_k: int = 3, threshold: float = 0.5, verbose: int = 0,
             groups: dict | None = None):
    """Fit, select and test one model on one feature.

    One fitted model gives one results row per predictor (each fitted on the valid split's
    scores, then applied to the test split's scores once). With ``groups`` (the recording of
    every valid and test window), window scores are averaged per recording first, so predictors
    and metrics count recordings.

    Returns
    -------
    rows : list of dict
        Metrics and costs, one per predictor (with ``predictor`` and ``predictor_params``).
    per_class : list of list of dict
        Per-class metrics, one list per predictor.
    model
        The fitted model.
    outputs : dict
        ``y_true`` (test labels in the label map's indices), ``scores``, ``label_map`` and
        ``clip_ids`` (the test recordings' ids where ``groups`` is given, else None).

    Raises
    ------
    DatasetError
        A class occurs in valid or test but not in train.
    ConfigError
        The feature does not fit the model, or a predictor does not fit the task.
    """
    multi_label = task.kind == "multi-label"
    predictors = list(predictors or (MULTI_LABEL_PREDICTORS if multi_label else ("argmax",)))
    for name in predictors:
        if lookup(PREDICTORS, name, kind="predictor").kind != task.kind:
            raise ConfigError(f"predictor {name!r} is for {PREDICTORS[name].kind} tasks; task "
                              f"{task.name!r} is {task.kind}")
    enc, label_map = encode_labels(task, y)
    check_feature_fits(model_name, spec, X)
    if model_name in KERAS_MODELS:
        model, valid_scores, scores, info = _keras_cell(
            model_name, X, enc, seed=seed, n_classes=len(label_map), multi_label=multi_label,
            train_config=train_config, window=keras_window(model_name, spec, sample_rate), loss=loss,
            verbose=verbose)
    else:
        model, valid_scores, scores, info = _classical_cell(model_name, X, enc, seed=seed, n_jobs=n_jobs,
                                                            multi_label=multi_label)
    info["predict_ms_per_clip"] = 1000 * info.pop("predict_seconds") / max(1, len(scores))
    info["label_map"] = json.dumps(label_map)
    y_valid, y_test, test_ids = enc["valid"], enc["test"], None
    if groups is not None:
        aggregate = train_config.aggregate if train_config is not None else "mean"
        valid_scores, y_valid, _ = aggregate_groups(valid_scores, y_valid, groups["valid"],
                                                    aggregate=aggregate)
        scores, y_test, test_ids = aggregate_groups(scores, y_test, groups["test"], aggregate=aggregate)
        info["n_test_groups"] = len(test_ids)
    rows, per_class = [], []
    for name in predictors:
        predictor = PREDICTORS[name]
        params = predictor.fit(valid_scores, y_valid, k=top_k, threshold=threshold)
        pred = predictor.apply(scores, **params)
        if multi_label:
            metrics = multi_label_metrics(y_test, pred, scores)
            classes = per_class_multi_label(y_test, pred, scores, classes=label_map)
        else:
            metrics = single_label_metrics(y_test, pred, n_classes=len(label_map))
            classes = per_class_metrics(y_test, pred, classes=label_map)
        rows.append({**metrics, **info, "predictor": name,
                     "predictor_params": json.dumps(params, sort_keys=True)})
        per_class.append(classes)
    return rows, per_class, model, {"y_true": y_test, "scores": scores, "label_map": label_map,
                                    "clip_ids": test_ids}


def _cell_config(dataset, split_hash, task, spec, model_name, seed, train_config, loss) -> dict:
    config = {"dataset": dataset.name, "data_version": dataset.version, "split_hash": split_hash,
              "task": task.name, "feature": spec.name, "feature_params": spec.params,
              "model": model_name, "seed": seed}
    if model_name in KERAS_MODELS:
        config.update(architecture=builder_defaults(KERAS_MODELS[model_name]),
                      training=train_config.as_dict(), window=WINDOW_SECONDS.get(model_name), loss=loss)
    else:
        config["grid"] = GRIDS.get(model_name, {})
    return config


def cell_plan(exp, task, model_name) -> tuple[list, list]:
    """The losses (one training each) and predictors (one row each) of a model on a task."""
    if task.kind == "multi-label":
        losses = list(exp.losses or ("bce",)) if model_name in KERAS_MODELS else ["-"]
        predictors = list(exp.predictors or MULTI_LABEL_PREDICTORS)
    else:
        losses = ["categorical-crossentropy" if model_name in KERAS_MODELS else "-"]
        predictors = ["argmax"]
    return losses, predictors


@dataclass(frozen=True)
class FeatureFiles:
    """Where a cell's features are: the cache file of each split and the rows its task keeps.

    Sent to worker processes (a Dask cluster) instead of the arrays: a worker memory-maps the
    files itself, so they must be on a filesystem the workers share with this machine.
    """

    paths: dict
    keep: dict

    def load(self) -> dict:
        """The feature arrays, memory-mapped (copied only where the task keeps a subset)."""
        return kept_rows({s: np.load(path, mmap_mode="r") for s, path in self.paths.items()}, self.keep)


def kept_rows(X: dict, keep: dict) -> dict:
    """The rows ``keep`` selects from each split's array (the array itself when it keeps all)."""
    return {s: x if keep[s].all() else np.asarray(x[keep[s]]) for s, x in X.items()}


@dataclass(frozen=True)
class CellJob:
    """Everything one cell needs, picklable: a worker process computes it with :func:`compute_cell`
    and the parent records the result."""

    config: dict
    keys: dict
    dataset: str
    sample_rate: int
    clip_seconds: float | None
    task: object
    feature: str
    model_name: str
    seed: int
    X: object  # the arrays, a FeatureFiles, or the error that kept the features from being computed
    y: dict
    groups: dict | None
    test_ids: list
    results_dir: str
    n_jobs: int
    save_models: bool
    verbose: bool
    top_k: int
    threshold: float
    train_config: TrainConfig
    context: dict

    @property
    def name(self) -> str:
        """``dataset/task/feature/model[/loss]/seed<n>``."""
        loss = self.config.get("loss", "-")
        return (f"{self.dataset}/{self.task.name}/{self.feature}/{self.model_name}"
                + (f"/{loss}" if loss != "-" else "") + f"/seed{self.seed}")


def compute_cell(job: CellJob) -> dict:
    """Run one cell, save its predictions and model; return its rows (one per predictor), per-class
    rows, a log line and the error if it failed. Writes no results CSV (the parent does)."""
    results_dir = Path(job.results_dir)
    spec = FEATURES[job.feature]
    task, model_name, seed, config, keys = job.task, job.model_name, job.seed, job.config, job.keys
    loss = config.get("loss", "-")
    predictors = list(keys)
    model_key = run_key(**config)
    base = {"status": "ok", "dataset": job.dataset, "task": task.name, "task_kind": task.kind,
            "feature": spec.name, "model": model_name, "loss": loss, "seed": seed,
            "primary_metric": task.primary_metric, "model_key": model_key}
    error, n_features = None, 0
    try:
        if isinstance(job.X, Exception):
            raise job.X
        X = job.X.load() if isinstance(job.X, FeatureFiles) else job.X
        n_features = int(np.prod(X["train"].shape[1:]))
        rows, per_class, model, outputs = run_cell(
            model_name=model_name, task=task, spec=spec, X=X, y=job.y, seed=seed, n_jobs=job.n_jobs,
            train_config=job.train_config, sample_rate=job.sample_rate,
            loss=None if loss == "-" else loss, predictors=predictors, top_k=job.top_k,
            threshold=job.threshold, verbose=2 if job.verbose else 0, groups=job.groups)
        rows = [{**base, "run_key": keys[r["predictor"]], **r} for r in rows]
        line = (f"{job.name}: " + ", ".join(f"{r['predictor']} {task.primary_metric}="
                                             f"{r[task.primary_metric]:.3f}" for r in rows)
                + f" (fit {rows[0]['fit_seconds']:.1f}s)")
        keras_model = model_name in KERAS_MODELS
        if keras_model:
            import keras

            for r in rows:
                r["backend"] = keras.backend.backend()
        test_ids = outputs.pop("clip_ids")
        save_predictions(results_dir, model_key, **outputs,
                         clip_ids=job.test_ids if test_ids is None else test_ids)
        if job.save_models:
            frame = spec.frame_seconds(spec.params, job.sample_rate) if spec.frame_seconds else None
            save_model(model, results_dir / "models" / model_key, {
                **config, "model_key": model_key, "model_format": "keras" if keras_model else "joblib",
                "task_kind": task.kind, "label_map": outputs["label_map"], "frame_seconds": frame,
                "window_frames": rows[0].get("window_frames") or None,
                "aggregate": job.train_config.aggregate, "sample_rate": job.sample_rate,
                "clip_seconds": job.clip_seconds, "backend": rows[0].get("backend"),
                "predictors": {r["predictor"]: json.loads(r["predictor_params"]) for r in rows},
                "metrics": {r["predictor"]: {k: r[k] for k in ("macro_f1", "micro_f1")} for r in rows},
                "versions": json.loads(job.context["versions"])})
    except (InstrumentBenchError, ValueError) as exc:
        error = str(exc)
        rows = [{**base, "run_key": keys[p], "predictor": p, "status": "failed", "error": error}
                for p in predictors]
        per_class = [[] for _ in predictors]
        line = f"{job.name}: FAILED: {error}"
    shared = {
        "n_train": len(job.y["train"]), "n_valid": len(job.y["valid"]), "n_test": len(job.y["test"]),
        "n_classes": len(task.classes), "n_features": n_features,
        "split_hash": config["split_hash"], "feature_params": json.dumps(spec.params, sort_keys=True),
        "grid": json.dumps(config.get("grid", config.get("training")), sort_keys=True),
        **job.context, "utc_time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    rows = [{**r, **shared} for r in rows]
    class_rows = [{"run_key": r["run_key"], **{k: r[k] for k in results.GROUP}, "seed": seed, **pc}
                  for r, classes in zip(rows, per_class) for pc in classes]
    return {"rows": rows, "per_class": class_rows, "line": line, "error": error}


def record_cell(job: CellJob, out: dict, *, summary, log) -> None:
    """Write a computed cell's rows to the results folder and count it."""
    if out["error"] is None:
        summary.computed += 1
    else:
        summary.failed.append((job.name, out["error"]))
    log(out["line"])
    results.record_runs(job.results_dir, out["rows"], out["per_class"])


@dataclass
class TaskView:
    """A task on a dataset: the task (label map bound to the data), the clips it uses per split,
    their labels and, for windowed datasets, the recording (``group``) of every clip."""

    task: object
    keep: dict
    clips: dict
    y: dict
    groups: dict | None

    def rows(self, X: dict) -> dict:
        """The feature rows of the clips the task uses (all rows, unchanged, when it uses all)."""
        return kept_rows(X, self.keep)


def task_view(task, dataset) -> TaskView:
    """Bind ``task`` to ``dataset``: its label map, kept clips, labels and groups.

    Raises
    ------
    TaskNotApplicableError
        No clip of the dataset carries the task's label field (``labels`` on a folder without
        ``labels.csv``).
    DatasetError
        A split has no clip for the task, or a clip's label is outside the label map.
    """
    if not any(task.field in c.meta for c in dataset.clips):
        raise TaskNotApplicableError(f"{dataset.name} has no {task.field!r} labels for task "
                                     f"{task.name!r}")
    task = task.bind(dataset.clips)
    keep, clips = {}, {}
    for s in SPLITS:
        split = dataset.split(s)
        keep[s] = task.keep(split)
        clips[s] = [c for c, k in zip(split, keep[s]) if k]
        if not clips[s]:
            raise DatasetError(f"{dataset.name}: the {s} split has no clip for task {task.name!r}")
    grouped = any("group" in c.meta for c in dataset.clips)
    groups = {s: np.asarray([c.meta.get("group", c.clip_id) for c in clips[s]]) for s in SPLITS} \
        if grouped else None
    return TaskView(task=task, keep=keep, clips=clips, y={s: task.labels(clips[s]) for s in SPLITS},
                    groups=groups)


def _dataset_failure_rows(exp, error, *, seeds: int, context: dict) -> list[dict]:
    """``status=failed`` rows for every cell of an experiment whose dataset could not be read."""
    rows = []
    for task_name, feature, model in itertools.product(exp.tasks, exp.features, exp.models):
        losses, predictors = cell_plan(exp, TASKS[task_name], model)
        for loss, seed, predictor in itertools.product(losses, range(seeds), predictors):
            key = run_key(dataset=exp.dataset, task=task_name, feature=feature, model=model, loss=loss,
                          seed=seed, predictor=predictor, failure="dataset")
            rows.append({"status": "failed", "failure": "dataset", "dataset": exp.dataset, "task": task_name,
                         "task_kind": TASKS[task_name].kind, "feature": feature, "model": model,
                         "loss": loss, "seed": seed, "predictor": predictor, "run_key": key,
                         "error": str(error), **context,
                         "utc_time": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    return rows


def _n_cells(exp, seeds: int) -> int:
    """Cells (fits) of an experiment block: features x tasks x models x losses x seeds."""
    return seeds * len(exp.features) * sum(len(cell_plan(exp, TASKS[t], m)[0])
                                           for t in exp.tasks for m in exp.models)


def _run_experiment(exp, dataset, *, options, train_config, done, context, summary, log, progress, bar,
                    executor=None):
    """Every cell of one experiment block on its loaded dataset (finished cells are skipped).

    Locally, cells run one after another in this process (each model uses ``--jobs`` threads);
    with a Dask ``executor`` the cells of each task and feature go to the cluster together and
    are recorded here as they finish.
    """
    cache_dir = data_home() / "features"
    split_hash = dataset.split_hash()
    remote = executor is not None and executor.distributed
    for task_name in exp.tasks:
        try:
            view = task_view(TASKS[task_name], dataset)
        except TaskNotApplicableError as exc:
            summary.skipped_tasks[f"{dataset.name}/{task_name}"] = str(exc)
            log(f"skipped task {task_name} on {dataset.name}: {exc}")
            bar.update(_n_cells(replace(exp, tasks=(task_name,)), options.seeds))
            continue
        task, test_ids = view.task, [c.clip_id for c in view.clips["test"]]
        for feature_name in exp.features:
            spec = FEATURES[feature_name]
            X, jobs = None, []
            for model_name in exp.models:
                losses, predictors = cell_plan(exp, task, model_name)
                for loss, seed in itertools.product(losses, range(options.seeds)):
                    config = _cell_config(dataset, split_hash, task, spec, model_name, seed, train_config,
                                          loss)
                    keys = {p: run_key(**config, predictor=p, top_k=exp.top_k, threshold=exp.threshold)
                            for p in predictors}
                    if set(keys.values()) <= done:
                        summary.cached += 1
                        bar.update()
                        continue
                    if X is None:  # a feature that cannot be computed fails its cells, not the run
                        X = _features(dataset, spec, view, cache_dir=cache_dir, options=options,
                                      progress=progress, files=remote)
                    job = CellJob(
                        config=config, keys=keys, dataset=dataset.name, sample_rate=dataset.sample_rate,
                        clip_seconds=dataset.clip_seconds, task=task, feature=spec.name,
                        model_name=model_name, seed=seed, X=X, y=view.y, groups=view.groups,
                        test_ids=test_ids,
                        results_dir=str(options.results_dir), n_jobs=1 if remote else options.jobs,
                        save_models=options.save_models, verbose=options.verbose, top_k=exp.top_k,
                        threshold=exp.threshold, train_config=train_config, context=context)
                    if remote:
                        jobs.append(job)
                        continue
                    record_cell(job, compute_cell(job), summary=summary, log=log)
                    bar.update()
            for (job,), out in executor.as_completed(compute_cell, [(job,) for job in jobs]) if jobs else ():
                record_cell(job, out, summary=summary, log=log)
                bar.update()


def _features(dataset, spec, view, *, cache_dir, options, progress, files: bool):
    """A feature's arrays for a task (``files``: where they are, for remote workers), or the error
    that kept them from being computed."""
    try:
        arrays = {s: load_features(dataset, s, spec, cache_dir=cache_dir, jobs=options.jobs,
                                   progress=progress) for s in SPLITS}
    except InstrumentBenchError as exc:
        return exc
    if files:
        return FeatureFiles(paths={s: str(a.filename) for s, a in arrays.items()}, keep=view.keep)
    return view.rows(arrays)


@contextmanager
def executor_closed(executor):
    """Close ``executor`` (its Dask client and cluster) however the block ends."""
    try:
        yield executor
    finally:
        executor.close()


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
    total = sum(_n_cells(exp, options.seeds) for exp in suite.experiments)
    loaded = {}
    executor = Executor(options.executor, jobs=options.jobs, scheduler=options.scheduler)
    with executor_closed(executor), using(executor), \
            progress_bar(total=total, desc="cells", unit="cell", enabled=progress) as bar:
        def say(message):  # a log line that does not tear the progress bars
            with bar.external_write_mode(file=sys.stderr):
                log(message)

        broken = {}  # datasets whose folder is there but cannot be read: their cells fail
        for exp in suite.experiments:
            try:
                if exp.dataset in summary.skipped_datasets:
                    raise DatasetNotFoundError(summary.skipped_datasets[exp.dataset])
                if exp.dataset in broken:
                    raise broken[exp.dataset]
                if exp.dataset not in loaded:
                    dataset = load_dataset(
                        exp.dataset, options=suite.datasets.get(exp.dataset, {}), data_root=options.data_root,
                        jobs=options.jobs, progress=progress)
                    if options.on_bad_clip == "skip":
                        dataset = skip_bad_clips(dataset, results_dir=results_dir, jobs=options.jobs,
                                                 progress=progress, log=say)
                    results.forget_failures(results_dir, dataset=exp.dataset, kind="dataset")
                    loaded[exp.dataset] = dataset
            except DatasetNotFoundError as exc:
                if exp.dataset not in summary.skipped_datasets:
                    summary.skipped_datasets[exp.dataset] = str(exc)
                    say(f"skipped dataset {exp.dataset}: {exc}")
                bar.update(_n_cells(exp, options.seeds))
                continue
            except DatasetError as exc:
                if exp.dataset not in broken:
                    broken[exp.dataset] = exc
                    summary.failed.append((exp.dataset, str(exc)))
                    say(f"dataset {exp.dataset} FAILED: {exc}")
                results.record_runs(results_dir, _dataset_failure_rows(exp, exc, seeds=options.seeds,
                                                                       context=context), [])
                bar.update(_n_cells(exp, options.seeds))
                continue
            _run_experiment(exp, loaded[exp.dataset], options=options, train_config=train_config, done=done,
                            context=context, summary=summary, log=say, progress=progress, bar=bar,
                            executor=executor)
    results.write_leaderboard(results_dir)
    if options.save_models:
        results.prune_models(results_dir)
    return summary
