"""The plan of a run: suite checks, the cells of an experiment, their configurations and run keys.

A *cell* is one model fitted on one feature of one task of one dataset, with one seed (and, for
Keras models on multi-label tasks, one loss). It gives one results row per predictor; each row's
``run_key`` hashes everything that determines it, so a rerun reuses a row whose key is already in
``runs.csv`` and recomputes a cell whose configuration changed. ``run --dry-run`` prints this plan.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import __version__
from .datasets import DATASETS
from .errors import SuiteError, lookup
from .features import FEATURES
from .features.perturbations import PERTURBATIONS
from .models import MODELS
from .models.keras.losses import LOSSES
from .models.plugins import load_plugins, register_suite
from .protocol.predictors import MULTI_LABEL_PREDICTORS, PREDICTORS
from .protocol.tasks import TASKS
from .protocol.transfer import FAMILY_TASKS
from .settings import check_dataset_options
from .storage import git_commit, library_versions

VERSIONED = ("numpy", "scikit-learn", "xgboost", "librosa", "essentia", "pandas", "keras", "tensorflow")
# Bump on any change that can move a number (the protocol, a metric, a default, a feature's code):
# every cell's run key changes, so nothing computed before is reused or averaged with new rows.
PROTOCOL_VERSION = "3"  # 3: padding- and level-free statistics features, cross-source rows


def validate_suite(suite) -> None:
    """Check every name in a suite and its dataset options before any work starts (raises
    UnknownNameError or SuiteError); plugins and the suite's own encoders and models are
    registered first."""
    load_plugins()
    register_suite(suite)
    check_dataset_options(suite, DATASETS)
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
        for name in exp.test_on:
            lookup(DATASETS, name, kind="dataset")
        for name in exp.perturbations:
            lookup(PERTURBATIONS, name, kind="perturbation")
        if exp.dataset in exp.test_on:
            raise SuiteError(f"{suite.source or suite.name}: experiment on {exp.dataset} names its own "
                             "dataset in test_on; its test split is scored anyway")
        other = [t for t in exp.tasks if t not in FAMILY_TASKS]
        if exp.test_on and other:
            raise SuiteError(f"{suite.source or suite.name}: experiment on {exp.dataset} names test_on = "
                             f"{list(exp.test_on)} but task(s) {', '.join(other)} are not on NSynth's "
                             f"families; cross-source experiments take {', '.join(FAMILY_TASKS)}")


def run_context() -> dict:
    """What produced a run's rows: git commit, package and library versions."""
    return {"git_commit": git_commit(), "instrument_bench": __version__,
            "versions": json.dumps(library_versions(VERSIONED), sort_keys=True)}


def utc_now() -> str:
    """The current UTC time, to the second (ISO 8601)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_key(**config) -> str:
    """Hash of a cell's configuration: equal keys mean the cell's result can be reused."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def cell_plan(exp, task, model_name) -> tuple[list, list]:
    """The losses (one training each) and predictors (one row each) of a model on a task."""
    keras_model = MODELS[model_name].is_keras
    if task.kind == "multi-label":
        losses = list(exp.losses or ("bce",)) if keras_model else ["-"]
        predictors = list(exp.predictors or MULTI_LABEL_PREDICTORS)
    else:
        losses = ["categorical-crossentropy" if keras_model else "-"]
        predictors = ["argmax"]
    return losses, predictors


def model_seeds(model_name: str, seeds: int) -> range:
    """The seeds a model is fitted with: one for a deterministic model, else ``seeds``."""
    return range(1 if MODELS[model_name].deterministic else seeds)


def n_cells(exp, seeds: int) -> int:
    """Cells (fits) of an experiment block: features x tasks x models x losses x seeds."""
    return len(exp.features) * sum(len(cell_plan(exp, TASKS[t], m)[0]) * len(model_seeds(m, seeds))
                                   for t in exp.tasks for m in exp.models)


def cell_versions(spec, model_name: str) -> dict:
    """The protocol version and the versions of the libraries that compute a cell's feature and
    model (not the package's own version: a release that changes no number recomputes nothing)."""
    names = dict.fromkeys((*spec.libraries, *MODELS[model_name].versioned_libraries()))
    return {"protocol": PROTOCOL_VERSION, "libraries": library_versions(names)}


def cell_config(dataset, split_hash, task, spec, model_name, seed, train_config, loss,
                train_source: str = "") -> dict:
    """Everything that determines a fitted model (its ``model_key`` is the hash of this)."""
    config = {"dataset": dataset.name, "data_version": dataset.version, "split_hash": split_hash,
              "task": task.name, "feature": spec.name, "feature_params": spec.params,
              "model": model_name, "seed": seed, **cell_versions(spec, model_name)}
    if train_source:  # a source test fits on one instrument source's clips only
        config["train_source"] = train_source
    model = MODELS[model_name]
    if model.is_keras:
        config.update(architecture=model.architecture(), training=train_config.as_dict(),
                      window=model.window_seconds, loss=loss)
    else:
        config["grid"] = model.grid
    return config


@dataclass(frozen=True)
class PlannedCell:
    """One cell of a plan: its configuration and the run key of each predictor's row."""

    dataset: str
    task: str
    feature: str
    model: str
    loss: str
    seed: int
    config: dict
    keys: dict
    target_keys: dict = field(default_factory=dict)  # {target key: {predictor: run key}}
    train_source: str = "-"  # a source test's training source ("-": every source)

    @property
    def all_keys(self) -> set:
        """The run keys of every row the cell gives (its own test split and each target's)."""
        return {*self.keys.values(), *(k for keys in self.target_keys.values() for k in keys.values())}

    @property
    def name(self) -> str:
        """``dataset[@train source]/task/feature/model[/loss]/seed<n>``."""
        return (f"{self.dataset}" + (f"@{self.train_source}" if self.train_source != "-" else "")
                + f"/{self.task}/{self.feature}/{self.model}"
                + (f"/{self.loss}" if self.loss != "-" else "") + f"/seed{self.seed}")

    @property
    def model_key(self) -> str:
        """The saved model's and predictions' key."""
        return run_key(**self.config)


def feature_cells(exp, dataset, task, feature: str, *, seeds: int, train_config,
                  targets=()) -> list[PlannedCell]:
    """The cells of one task and feature of an experiment on a loaded dataset, in run order.

    ``targets`` (:class:`~.protocol.transfer.TargetView`: each loaded ``test_on`` dataset, each
    other instrument source, each perturbation and severity) add a row per predictor, keyed by the
    cell, the target's data version and split and its condition; a target the feature cannot be
    scored on (:meth:`~.protocol.transfer.TargetView.applies_to`) adds none.
    """
    spec, split_hash, cells = FEATURES[feature], dataset.split_hash(), []
    for model_name in exp.models:
        losses, predictors = cell_plan(exp, task, model_name)
        for loss, seed in itertools.product(losses, model_seeds(model_name, seeds)):
            config = cell_config(dataset, split_hash, task, spec, model_name, seed, train_config, loss,
                                 train_source=exp.train_source)
            keys = {p: run_key(**config, predictor=p, top_k=exp.top_k, threshold=exp.threshold)
                    for p in predictors}
            target_keys = {t.key: {p: run_key(**config, predictor=p, top_k=exp.top_k,
                                              threshold=exp.threshold, **t.key_fields())
                                   for p in predictors} for t in targets if t.applies_to(spec) is None}
            cells.append(PlannedCell(dataset=dataset.name, task=task.name, feature=spec.name,
                                     model=model_name, loss=config.get("loss", "-"), seed=seed,
                                     config=config, keys=keys, target_keys=target_keys,
                                     train_source=exp.train_source or "-"))
    return cells


def dataset_failure_rows(exp, error, *, seeds: int, context: dict) -> list[dict]:
    """``status=failed`` rows for every cell of an experiment whose dataset could not be read."""
    rows = []
    for task_name, feature, model in itertools.product(exp.tasks, exp.features, exp.models):
        losses, predictors = cell_plan(exp, TASKS[task_name], model)
        for loss, seed, predictor in itertools.product(losses, model_seeds(model, seeds), predictors):
            key = run_key(dataset=exp.dataset, task=task_name, feature=feature, model=model, loss=loss,
                          seed=seed, predictor=predictor, failure="dataset",
                          **({"train_source": exp.train_source} if exp.train_source else {}))
            rows.append({"status": "failed", "failure": "dataset", "dataset": exp.dataset, "task": task_name,
                         "task_kind": TASKS[task_name].kind, "feature": feature, "model": model,
                         "loss": loss, "seed": seed, "predictor": predictor, "run_key": key,
                         "train_source": exp.train_source or "-",
                         "error": str(error), **context, "utc_time": utc_now()})
    return rows
