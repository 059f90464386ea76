"""Configuration: where data lives, what a suite runs, and the options of a run.

Suites are TOML files in ``instrument_bench/suites/`` (or any path)::

    name = "all"
    seeds = 3
    [keras]                     # optional: TrainConfig fields for the Keras models
    epochs = 10
    [datasets.gm-mix]           # optional: loader options of a dataset
    hop_seconds = 1.5
    [[experiment]]
    dataset = "gm-notes"
    tasks = ["family"]
    features = ["mfcc-stats", "nsynth-attributes"]
    models = ["logreg", "xgboost"]
    [[experiment]]
    dataset = "gm-mix"
    tasks = ["families"]        # multi-label: also losses, predictors, top_k, threshold
    features = ["log-mel"]
    models = ["cnn"]
    losses = ["bce", "balanced"]
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .errors import DatasetNotFoundError, SuiteError, UnknownNameError
from .settings import WHOLE, _item, _tables, _whole, suite_problems

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SUITES_DIR = Path(__file__).parent / "suites"


def data_home() -> Path:
    """Folder for rendered data and the feature cache: ``$INSTRUMENT_BENCH_HOME`` or
    ``~/.cache/instrument_bench``."""
    return Path(os.environ.get("INSTRUMENT_BENCH_HOME") or Path.home() / ".cache" / "instrument_bench")


def dataset_root(name: str, *, data_root=None, root=None) -> Path:
    """Folder of a real dataset: ``root`` when given (a suite's ``[datasets.<name>] root``),
    else ``<data root>/<name>``.

    Parameters
    ----------
    name : str
        Dataset folder name (``nsynth`` ...).
    data_root : str or Path, optional
        Overrides ``$INSTRUMENT_BENCH_DATA``.
    root : str or Path, optional
        The dataset's own folder, wherever it is.

    Raises
    ------
    DatasetNotFoundError
        No data root is set or the folder does not exist.
    """
    if root is not None:
        path = Path(root).expanduser()
        if not path.is_dir():
            raise DatasetNotFoundError(f"{path}: dataset folder not found")
        return path
    base = data_root or os.environ.get("INSTRUMENT_BENCH_DATA")
    if not base:
        raise DatasetNotFoundError(f"{name}: no data root given (use --data-root DIR or set "
                                   f"INSTRUMENT_BENCH_DATA; the dataset is read from DIR/{name})")
    path = Path(base) / name
    if not path.is_dir():
        raise DatasetNotFoundError(f"{path}: dataset folder not found")
    return path


@dataclass(frozen=True)
class Experiment:
    """One block of a suite: a dataset and the tasks, features and models crossed on it.

    Multi-label tasks also cross ``losses`` (Keras models; default ``bce``) and give one row per
    predictor in ``predictors`` (default: all four); ``top_k`` and ``threshold`` parametrise the
    predictors.
    ``test_on`` names other datasets whose test split every fitted model is also scored on, once,
    through the shared NSynth family vocabulary (cross-source rows, ``test_dataset``).
    ``train_source`` (seed 004's source test) fits and selects on the clips of one NSynth
    instrument source only (``acoustic``) and scores the clips of each other source (every split:
    none was seen in training) as rows with ``train_source`` / ``test_source``.
    ``perturbations`` score the test split again under each named perturbation at each of its
    severities, the fitted model unchanged (rows with ``perturbation`` / ``severity``).
    """

    dataset: str
    tasks: tuple
    features: tuple
    models: tuple
    losses: tuple = ()
    predictors: tuple = ()
    top_k: int = 3
    threshold: float = 0.5
    test_on: tuple = ()
    train_source: str = ""
    perturbations: tuple = ()


@dataclass(frozen=True)
class Suite:
    """A named grid of experiments, read from a TOML file."""

    name: str
    experiments: tuple
    seeds: int = 3
    description: str = ""
    keras: dict = field(default_factory=dict)
    datasets: dict = field(default_factory=dict)
    source: str = ""  # the file it was read from, for messages
    encoders: dict = field(default_factory=dict)  # [encoders.<name>]: features from your encoders
    models: dict = field(default_factory=dict)  # [models.<name>]: your Keras builders / estimators

    def filtered(self, *, datasets=None, features=None, models=None, tasks=None) -> Suite:
        """The suite restricted to the given names (None keeps all)."""
        kept = []
        for exp in self.experiments:
            if datasets and exp.dataset not in datasets:
                continue
            exp = replace(
                exp,
                tasks=tuple(t for t in exp.tasks if not tasks or t in tasks),
                features=tuple(f for f in exp.features if not features or f in features),
                models=tuple(m for m in exp.models if not models or m in models),
            )
            if exp.tasks and exp.features and exp.models:
                kept.append(exp)
        return replace(self, experiments=tuple(kept))


def list_suites() -> list[str]:
    """Names of the suites that ship with the package."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.toml"))


def load_suite(name_or_path: str) -> Suite:
    """Read a suite by name (``all``, ``quick`` ...) or from a TOML file path; every key and value
    is checked (dataset options against the registry: :func:`~.settings.check_dataset_options`).

    Raises
    ------
    UnknownNameError
        The name is neither a shipped suite nor an existing file.
    ConfigError
        The TOML is malformed, lacks an ``[[experiment]]`` or an experiment lacks a required key.
    SuiteError
        Unknown keys, values not allowed: one message names the file and each key, value and rule.
    """
    path = Path(name_or_path)
    if not (path.suffix == ".toml" and path.is_file()):
        if name_or_path not in list_suites():
            raise UnknownNameError("suite", name_or_path, list_suites())
        path = SUITES_DIR / f"{name_or_path}.toml"
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"{path}: malformed TOML ({exc})") from None
    blocks = raw.get("experiment", [])
    for k, block in enumerate(blocks if _tables(blocks) else ()):
        missing = [key for key in ("dataset", "tasks", "features", "models") if key not in block]
        if missing:
            raise SuiteError(f"{path}: experiment {k + 1} lacks {', '.join(missing)}")
    problems = suite_problems(raw)
    if problems:
        raise SuiteError(f"{path}: " + "; ".join(problems))
    if not blocks:
        raise SuiteError(f"{path}: a suite needs at least one [[experiment]] block")
    experiments = tuple(Experiment(
        dataset=block["dataset"], tasks=tuple(block["tasks"]), features=tuple(block["features"]),
        models=tuple(block["models"]), losses=tuple(block.get("losses", ())),
        predictors=tuple(block.get("predictors", ())), top_k=block.get("top_k", 3),
        threshold=float(block.get("threshold", 0.5)), test_on=tuple(block.get("test_on", ())),
        train_source=block.get("train_source", ""), perturbations=tuple(block.get("perturbations", ())))
        for block in blocks)
    return Suite(name=raw.get("name", path.stem), experiments=experiments, seeds=raw.get("seeds", 3),
                 description=raw.get("description", ""), keras=dict(raw.get("keras", {})),
                 datasets={name: dict(opts) for name, opts in raw.get("datasets", {}).items()},
                 source=str(path), encoders={n: dict(t) for n, t in raw.get("encoders", {}).items()},
                 models={n: dict(t) for n, t in raw.get("models", {}).items()})


@dataclass(frozen=True)
class RunOptions:
    """Options of one ``run`` invocation.

    Parameters
    ----------
    results_dir : Path
        Where runs.csv, leaderboard.csv and per_class.csv are written.
    seeds : int
        Number of seeds (0 .. seeds-1) per cell.
    jobs : int
        Worker processes for rendering and feature extraction; threads for model fitting.
    force : bool
        Recompute cells already in runs.csv.
    data_root : Path or None
        Where real datasets live.
    save_models : bool
        Save trained models under ``results_dir/models/<model_key>/`` (the best seed of every
        leaderboard row is kept).
    verbose : bool
        Print Keras' per-epoch lines.
    on_bad_clip : str
        ``fail`` (default): an unreadable clip fails the cells of its feature, with every such
        clip listed; ``skip``: every file is read once when the dataset loads and the clips that
        cannot be used are left out and listed in ``results_dir/skipped.csv``.
    executor : str
        ``local``, ``dask`` or ``dask-local`` (see :mod:`instrument_bench.parallel`).
    scheduler : str or None
        The Dask scheduler's address for ``executor="dask"`` (``tcp://HOST:PORT``).
    resamples : int
        Bootstrap resamples of the leaderboard's confidence intervals and ties (0: none).
    """

    results_dir: Path = Path("results")
    seeds: int = 3
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    force: bool = False
    data_root: Path | None = None
    save_models: bool = True
    verbose: bool = False
    on_bad_clip: str = "fail"
    executor: str = "local"
    scheduler: str | None = None
    resamples: int = 1000

    def __post_init__(self):
        if not _whole(self.seeds):
            raise SuiteError(f"{_item('seeds', self.seeds)}: {WHOLE} (--seeds or a suite's seeds)")


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (a suite's ``[keras]`` table overrides them).

    Parameters
    ----------
    epochs : int
        Epoch cap.
    patience : int
        Epochs without a better valid macro-F1 before stopping.
    batch_size : int
        Examples per step.
    learning_rate : float
        Adam's learning rate.
    class_weight : bool
        Weight the loss by inverse class frequency on train ("balanced"; single-label tasks only,
        multi-label tasks have the ``balanced`` loss for that).
    aggregate : str
        How windowed models turn window scores into a clip's scores: ``mean`` or ``max``.
    deterministic : bool
        Ask the backend for deterministic ops (TensorFlow: ``enable_op_determinism``).
    """

    epochs: int = 30
    patience: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-3
    class_weight: bool = False
    deterministic: bool = True
    aggregate: str = "mean"

    def as_dict(self) -> dict:
        """Plain dict, for results rows and run keys."""
        return asdict(self)
