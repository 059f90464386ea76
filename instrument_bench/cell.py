"""One cell: fit and select a model, score the test split once, apply each predictor, measure.

One fitted model gives one results row per predictor (each fitted on the valid split's scores,
then applied to the test split's scores once). With ``groups`` (the recording of every valid and
test window), window scores are averaged per recording first, so predictors and metrics count
recordings. A cell with targets (``test_on``) scores the same fitted model, with the same fitted
predictors, on each target's test split too: one cross-source row per target and predictor.
:func:`compute_cell` runs a whole :class:`CellJob` (in this process or on a Dask worker), saving
the model and the test predictions; the caller writes the rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import results
from .artifacts import MODELS_DIR, save_model, save_predictions
from .config import TrainConfig
from .errors import ConfigError, InstrumentBenchError, StorageError, lookup
from .models import MODELS
from .models.fitting import fit_model, score_model
from .plan import PlannedCell, utc_now
from .protocol.groups import aggregate_groups
from .protocol.labels import encode_labels, kept_rows
from .protocol.metrics import (
    multi_label_metrics,
    per_class_metrics,
    per_class_multi_label,
    single_label_metrics,
)
from .protocol.predictors import MULTI_LABEL_PREDICTORS, PREDICTORS
from .protocol.transfer import to_label_map


def _metrics(task, y, pred, scores, label_map) -> tuple[dict, list]:
    """The test metrics and per-class rows of one predictor's predictions."""
    if task.kind == "multi-label":
        return (multi_label_metrics(y, pred, scores),
                per_class_multi_label(y, pred, scores, classes=label_map))
    return (single_label_metrics(y, pred, n_classes=len(label_map)),
            per_class_metrics(y, pred, classes=label_map))


def run_cell(*, model_name: str, task, spec, X: dict, y: dict, seed: int, n_jobs: int,
             train_config=None, sample_rate: int = 16000, loss: str | None = None,
             predictors=None, top_k: int = 3, threshold: float = 0.5, verbose: int = 0,
             groups: dict | None = None):
    """Fit, select and test one model on one feature.

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
    model, valid_scores, scores, info = fit_model(
        model_name, X, enc, spec=spec, seed=seed, n_jobs=n_jobs, n_classes=len(label_map),
        multi_label=multi_label, train_config=train_config, sample_rate=sample_rate, loss=loss,
        verbose=verbose, label_map=label_map)
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
        metrics, classes = _metrics(task, y_test, predictor.apply(scores, **params), scores, label_map)
        rows.append({**metrics, **info, "predictor": name,
                     "predictor_params": json.dumps(params, sort_keys=True)})
        per_class.append(classes)
    return rows, per_class, model, {"y_true": y_test, "scores": scores, "label_map": label_map,
                                    "clip_ids": test_ids}


@dataclass(frozen=True)
class FeatureFiles:
    """Where a cell's features are: the cache file of each split and the rows its task keeps.

    Sent to worker processes (a Dask cluster) instead of the arrays: a worker memory-maps the
    files itself, so they must be on a filesystem the workers share with this machine.
    """

    paths: dict
    keep: dict
    reverse_frames: bool = False  # a target scored on its clips' frames in reverse order

    def load(self) -> dict:
        """The feature arrays, memory-mapped (copied only where the task keeps a subset)."""
        return kept_rows({s: np.load(path, mmap_mode="r") for s, path in self.paths.items()}, self.keep)

    def stacked(self) -> np.ndarray:
        """A target's features: the kept rows of its splits, in split order, in one array."""
        parts = list(self.load().values())
        X = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return np.ascontiguousarray(X[:, ::-1]) if self.reverse_frames else X


@dataclass(frozen=True)
class TargetJob:
    """A target of a cell (another dataset's test split, another instrument source's clips, the
    test split perturbed): its clips' features and labels, and the condition its rows carry."""

    dataset: str
    X: object  # the arrays, a FeatureFiles, or the error that kept them from being computed
    y: object
    groups: object
    clip_ids: list
    units: dict  # clip id (and recording) -> independence unit
    key: str = ""  # TargetView.key: the target's name in run keys and prediction files
    source: str = "-"
    perturbation: str = "-"
    severity: str = "-"

    @property
    def condition(self) -> dict:
        """The columns its rows carry besides the metrics."""
        return {"test_dataset": self.dataset, "test_source": self.source,
                "perturbation": self.perturbation, "severity": self.severity}


@dataclass(frozen=True)
class CellJob:
    """Everything one cell needs, picklable: a worker process computes it with :func:`compute_cell`
    and the parent records the result."""

    cell: PlannedCell
    task: object
    spec: object
    X: object  # the arrays, a FeatureFiles, or the error that kept the features from being computed
    y: dict
    groups: dict | None
    test_ids: list
    test_units: dict  # test clip id (and recording, for windowed datasets) -> independence unit
    sample_rate: int
    clip_seconds: float | None
    results_dir: str
    n_jobs: int
    save_models: bool
    verbose: bool
    top_k: int
    threshold: float
    train_config: TrainConfig
    context: dict
    targets: tuple = ()  # TargetJob of each test_on dataset

    @property
    def name(self) -> str:
        """``dataset/task/feature/model[/loss]/seed<n>``."""
        return self.cell.name


def _save_model(job: CellJob, model, rows: list, outputs: dict) -> None:
    spec, cell = job.spec, job.cell
    frame = spec.frame_seconds(spec.params, job.sample_rate) if spec.frame_seconds else None
    save_model(model, Path(job.results_dir) / MODELS_DIR / cell.model_key, {
        **cell.config, "model_key": cell.model_key,
        "model_format": "keras" if MODELS[cell.model].is_keras else "joblib",
        "task_kind": job.task.kind, "label_map": outputs["label_map"], "frame_seconds": frame,
        "window_frames": rows[0].get("window_frames") or None,
        "aggregate": job.train_config.aggregate, "sample_rate": job.sample_rate,
        "clip_seconds": job.clip_seconds, "backend": rows[0].get("backend"),
        "predictors": {r["predictor"]: json.loads(r["predictor_params"]) for r in rows},
        "metrics": {r["predictor"]: {k: r[k] for k in ("macro_f1", "micro_f1")} for r in rows},
        "versions": json.loads(job.context["versions"])})


def score_target(job: CellJob, target: TargetJob, model, rows: list, *, label_map: list,
                 input_shape: tuple) -> tuple[list, list]:
    """The cross-source rows (one per predictor, fitted on the source's valid split) and per-class
    rows of a fitted model on one target's test clips; saves their predictions."""
    cell, task = job.cell, job.task
    X = target.X
    if isinstance(X, Exception):
        raise X
    X = X.stacked() if isinstance(X, FeatureFiles) else X
    if X.shape[1:] != tuple(input_shape):
        raise ConfigError(f"{target.dataset}: {job.spec.name} gives shape {X.shape[1:]}, the model was "
                          f"fitted on {tuple(input_shape)} (clips of another length)")
    aggregate = job.train_config.aggregate
    scores = score_model(cell.model, model, X, multi_label=task.kind == "multi-label",
                         window=rows[0].get("window_frames"), aggregate=aggregate)
    y, kept = to_label_map(task, np.asarray(target.y), label_map)
    scores, ids = scores[kept], [i for i, k in zip(target.clip_ids, kept) if k]
    if target.groups is not None:
        scores, y, ids = aggregate_groups(scores, y, np.asarray(target.groups)[kept], aggregate=aggregate)
    key = f"{cell.model_key}-{target.key}"
    save_predictions(job.results_dir, key, y_true=y, scores=scores, label_map=label_map, clip_ids=list(ids),
                     units=[target.units[i] for i in ids])
    out, per_class = [], []
    for row in rows:
        params = json.loads(row["predictor_params"])
        pred = PREDICTORS[row["predictor"]].apply(scores, **params)
        metrics, classes = _metrics(task, y, pred, scores, label_map)
        out.append({**row, **metrics, "run_key": cell.target_keys[target.key][row["predictor"]],
                    **target.condition, "predictions_key": key, "n_test": len(y)})
        per_class.append(classes)
    return out, per_class


def _target_rows(job: CellJob, model, rows: list, **how) -> tuple[list, list, list]:
    """Every target's rows and per-class rows (a target that fails gives failed rows and a line)."""
    out, per_class, lines = [], [], []
    for target in job.targets:
        try:
            target_rows, classes = score_target(job, target, model, rows, **how)
            lines.append(f"  -> {target.key}: " + ", ".join(
                f"{r['predictor']} {job.task.primary_metric}={r[job.task.primary_metric]:.3f}"
                for r in target_rows))
        except StorageError:
            raise
        except (InstrumentBenchError, ValueError, OSError) as exc:
            keys = job.cell.target_keys[target.key]
            target_rows = [{**{k: r[k] for k in ("dataset", "train_source", "task", "task_kind", "feature",
                                                 "model", "loss", "seed", "primary_metric", "model_key",
                                                 "deterministic", "predictor")},
                            "status": "failed", "error": f"{target.key}: {exc}",
                            "run_key": keys[r["predictor"]], **target.condition}
                           for r in rows]
            classes = [[] for _ in rows]
            lines.append(f"  -> {target.key}: FAILED: {exc}")
        out += target_rows
        per_class += classes
    return out, per_class, lines


def compute_cell(job: CellJob) -> dict:
    """Run one cell, save its predictions and model; return its rows (one per predictor), per-class
    rows, a log line and the error if it failed. Writes no results CSV (the parent does)."""
    cell, task, spec = job.cell, job.task, job.spec
    predictors = list(cell.keys)
    base = {"status": "ok", "dataset": cell.dataset, "train_source": cell.train_source,
            "test_dataset": cell.dataset, "test_source": cell.train_source, "perturbation": "-",
            "severity": "-", "task": task.name, "task_kind": task.kind,
            "feature": spec.name, "model": cell.model, "loss": cell.loss, "seed": cell.seed,
            "primary_metric": task.primary_metric, "model_key": cell.model_key,
            "deterministic": MODELS[cell.model].deterministic}
    error, n_features, target_rows, target_classes = None, 0, [], []
    try:
        if isinstance(job.X, Exception):
            raise job.X
        X = job.X.load() if isinstance(job.X, FeatureFiles) else job.X
        n_features = int(np.prod(X["train"].shape[1:]))
        rows, per_class, model, outputs = run_cell(
            model_name=cell.model, task=task, spec=spec, X=X, y=job.y, seed=cell.seed,
            n_jobs=job.n_jobs, train_config=job.train_config, sample_rate=job.sample_rate,
            loss=None if cell.loss == "-" else cell.loss, predictors=predictors, top_k=job.top_k,
            threshold=job.threshold, verbose=2 if job.verbose else 0, groups=job.groups)
        rows = [{**base, "run_key": cell.keys[r["predictor"]], **r} for r in rows]
        line = (f"{job.name}: " + ", ".join(f"{r['predictor']} {task.primary_metric}="
                                             f"{r[task.primary_metric]:.3f}" for r in rows)
                + f" (fit {rows[0]['fit_seconds']:.1f}s)")
        if MODELS[cell.model].is_keras:
            import keras

            for r in rows:
                r["backend"] = keras.backend.backend()
        if job.targets:
            target_rows, target_classes, lines = _target_rows(
                job, model, rows, label_map=outputs["label_map"], input_shape=X["train"].shape[1:])
            line = "\n".join([line, *lines])
        test_ids = outputs.pop("clip_ids")
        test_ids = job.test_ids if test_ids is None else test_ids
        units = [job.test_units[i] for i in test_ids]
        save_predictions(job.results_dir, cell.model_key, **outputs, clip_ids=test_ids, units=units)
        if job.save_models:
            _save_model(job, model, rows, outputs)
        rows, per_class = rows + target_rows, per_class + target_classes
    except StorageError:  # the disk is full or read-only: stop the run, not just this cell
        raise
    except (InstrumentBenchError, ValueError, OSError) as exc:
        error = str(exc)
        rows = [{**base, "run_key": cell.keys[p], "predictor": p, "status": "failed", "error": error}
                for p in predictors]
        per_class = [[] for _ in predictors]
        line = f"{job.name}: FAILED: {error}"
    shared = {
        "n_train": len(job.y["train"]), "n_valid": len(job.y["valid"]), "n_test": len(job.y["test"]),
        "n_classes": len(task.classes), "n_features": n_features,
        "split_hash": cell.config["split_hash"], "feature_params": json.dumps(spec.params, sort_keys=True),
        "grid": json.dumps(cell.config.get("grid", cell.config.get("training")), sort_keys=True),
        "protocol_version": cell.config["protocol"],
        "cell_versions": json.dumps(cell.config["libraries"], sort_keys=True),
        **job.context, "utc_time": utc_now(),
    }
    rows = [{**r, **shared, **({"n_test": r["n_test"]} if "n_test" in r else {})} for r in rows]
    class_rows = [{"run_key": r["run_key"], **{k: r[k] for k in results.GROUP}, "seed": cell.seed, **pc}
                  for r, classes in zip(rows, per_class) for pc in classes]
    return {"rows": rows, "per_class": class_rows, "line": line, "error": error}
