"""``predict``: a trained model on a user's recordings.

A model is a folder ``results/models/<model_key>/`` holding ``model.keras`` or ``model.joblib`` and
``manifest.json`` (feature name and parameters, sample rate, clip length, label map, task kind,
fitted predictors, metrics, versions). By default the best row of the leaderboard for the chosen
dataset and task whose model was saved is used, with that row's predictor.

Any file libsndfile reads (wav, flac, ogg, mp3), at any rate, mono or stereo: it is mixed down,
resampled to the model's rate and cut into windows of the model's clip length (every ``hop``
seconds; a shorter file is zero-padded to one window). The file's scores are the mean of its
windows' scores; a file with several windows also gets a per-window timeline. Keras models load
with Keras' safe mode; pickled scikit-learn / XGBoost models load only from inside the results
folder unless ``trust`` is set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import results
from .artifacts import MANIFEST, MODELS_DIR
from .audio import load_audio
from .errors import ConfigError, InstrumentBenchError
from .features import FEATURES
from .models.fitting import class_scores
from .protocol.predictors import PREDICTORS
from .windows import window_starts


@dataclass
class LoadedModel:
    """A saved model ready to score audio."""

    directory: Path
    manifest: dict
    model: object
    predictor: str

    @property
    def label_map(self) -> list[str]:
        return list(self.manifest["label_map"])


def choose_model(results_dir, *, dataset: str | None = None, task: str | None = None) -> tuple[Path, str]:
    """The saved model of the best leaderboard row (optionally of one dataset/task), and its predictor.

    Raises
    ------
    InstrumentBenchError
        No finished run or no saved model matches.
    """
    results_dir = Path(results_dir)
    runs = results.read_csv(results_dir / results.RUNS)
    board = results.leaderboard(runs)
    if board.empty:
        raise InstrumentBenchError(f"{results_dir / results.RUNS}: no finished runs; run a suite first")
    if dataset:
        board = board[board["dataset"] == dataset]
    if task:
        board = board[board["task"] == task]
    if board.empty:
        raise InstrumentBenchError(f"no leaderboard row for dataset={dataset!r} task={task!r} "
                                   f"in {results_dir}")
    best = results.best_model_keys(runs)
    for _, row in board.iterrows():
        key = best.get(tuple(row[k] for k in results.GROUP))
        if key and (results_dir / MODELS_DIR / key / MANIFEST).is_file():
            return results_dir / MODELS_DIR / key, row["predictor"]
    raise InstrumentBenchError(f"no saved model for dataset={dataset!r} task={task!r} "
                               f"in {results_dir / MODELS_DIR}")


def load_model(directory, *, results_dir, predictor: str | None = None, trust: bool = False) -> LoadedModel:
    """Load a saved model folder.

    Raises
    ------
    InstrumentBenchError
        The folder lacks a manifest or model file, or holds a pickled model outside the results
        folder without ``trust``.
    """
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise InstrumentBenchError(f"{manifest_path}: not found; a model folder holds {MANIFEST}")
    manifest = json.loads(manifest_path.read_text())
    path = directory / manifest.get("model_file", "model.keras")
    if not path.is_file():
        raise InstrumentBenchError(f"{path}: model file not found")
    if manifest.get("model_format") == "keras" or path.suffix == ".keras":
        import keras

        from .models.keras import layers, losses  # noqa: F401  (registers the custom objects)

        model = keras.saving.load_model(path, safe_mode=True)
    else:
        inside = Path(results_dir).resolve() in path.resolve().parents
        if not (inside or trust):
            raise InstrumentBenchError(f"{path}: a pickled model outside {results_dir} can run arbitrary "
                                       "code when loaded; pass --trust if you made it")
        import joblib

        model = joblib.load(path)
    default = "argmax" if manifest.get("task_kind", "single-label") == "single-label" else "threshold"
    predictor = predictor or default
    if predictor not in manifest.get("predictors", {default: {}}):
        raise ConfigError(f"predictor {predictor!r} was not fitted for this model; it has "
                          f"{', '.join(manifest.get('predictors', {}))}")
    return LoadedModel(directory, manifest, model, predictor)


def cut_windows(audio: np.ndarray, *, clip_samples: int, hop_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """``(windows, clip_samples)`` cut every ``hop_samples`` (the last one ends at the end), and starts."""
    if len(audio) <= clip_samples:
        return np.pad(audio, (0, clip_samples - len(audio)))[None], np.array([0])
    starts = [int(s) for s in window_starts(len(audio), window=clip_samples, hop=hop_samples, cover_end=True)]
    return np.stack([audio[s:s + clip_samples] for s in starts]), np.asarray(starts)


def window_scores(loaded: LoadedModel, batch: np.ndarray) -> np.ndarray:
    """Class scores of each window of audio (features computed as the model was trained on)."""
    manifest = loaded.manifest
    spec = FEATURES[manifest["feature"]]
    params = manifest.get("feature_params", spec.params)
    rate = manifest["sample_rate"]
    if not spec.needs_audio:
        raise ConfigError(f"feature {spec.name!r} is read from dataset metadata, not audio; a model "
                          "trained on it cannot score a recording")
    x = spec.extract_many(list(batch), sample_rate=rate, params=params)
    if manifest.get("model_format") == "keras":
        from .models.keras.training import predict_scores

        return predict_scores(loaded.model, x, window=manifest.get("window_frames"),
                              aggregate=manifest.get("aggregate", "mean"))
    flat = x.reshape(len(x), -1)
    return class_scores(loaded.model, flat, multi_label=manifest.get("task_kind") == "multi-label")


def predict_file(loaded: LoadedModel, path, *, hop_seconds: float | None = None, top: int = 3) -> dict:
    """Scores and labels of one file: the whole file and, for long files, every window.

    Returns
    -------
    dict
        ``file``, ``labels`` (the predictor's label set), ``top`` ([label, score] pairs, best
        first), ``windows`` (per-window start second, labels and top), ``model``, ``predictor``.

    Raises
    ------
    AudioError
        The file is missing, unreadable, empty, silent or holds NaN/inf.
    """
    manifest = loaded.manifest
    rate = manifest["sample_rate"]
    clip_seconds = manifest.get("clip_seconds") or 4.0
    audio = load_audio(path, sample_rate=rate)
    clip, hop = int(round(clip_seconds * rate)), int(round((hop_seconds or clip_seconds) * rate))
    batch, starts = cut_windows(audio, clip_samples=clip, hop_samples=hop)
    scores = window_scores(loaded, batch)
    predictor = PREDICTORS[loaded.predictor]
    params = manifest.get("predictors", {}).get(loaded.predictor, {})
    names = loaded.label_map

    def describe(row_scores):
        chosen = np.asarray(predictor.apply(row_scores[None], **params))[0]
        labels = [names[int(chosen)]] if np.ndim(chosen) == 0 else [names[i] for i in np.flatnonzero(chosen)]
        order = np.argsort(-row_scores)[:top]
        return labels, [[names[i], round(float(row_scores[i]), 4)] for i in order]

    labels, best = describe(scores.mean(axis=0))
    timeline = []
    if len(batch) > 1:
        for start, row in zip(starts, scores):
            window_labels, window_top = describe(row)
            timeline.append({"start": round(start / rate, 3), "labels": window_labels, "top": window_top})
    return {"file": str(path), "labels": labels, "top": best, "windows": timeline,
            "model": loaded.directory.name, "predictor": loaded.predictor,
            "seconds": round(len(audio) / rate, 3)}
