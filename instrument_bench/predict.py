"""``predict``: a trained model on a user's recordings.

A model is a folder ``results/models/<model_key>/`` holding ``model.keras`` or ``model.joblib`` and
``manifest.json`` (feature name and parameters, sample rate, clip length, label map, task kind,
fitted predictors, metrics, versions). By default the model is chosen by how well it transfers:
where the leaderboard has cross-source rows for the dataset and task (models scored on another
source's test split, ``test_on``), the saved model with the best mean primary metric over those
sources; otherwise the best in-source row. Only models on features computed from audio qualify
(``nsynth-attributes`` is read from metadata). The row's predictor is used.

Any file libsndfile reads (wav, flac, ogg, mp3), at any rate, mono or stereo: it is mixed down,
resampled to the model's rate and cut into windows of the model's clip length (every ``hop``
seconds; a shorter file is zero-padded to one window, which the statistics features do not read).
The file's scores are the mean of its sounding windows' scores (windows whose RMS is within
``SOUNDING_DB`` of the loudest window's: a window of silence or of a note's release tail, which
level-free features would otherwise amplify, is left out); a file with several windows also gets a
per-window timeline. Keras models load
with Keras' safe mode; pickled scikit-learn / XGBoost models load only when this tool wrote them
on this machine (their signature holds) unless ``trust`` is set.
"""

from __future__ import annotations

import json
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import results
from .artifacts import MANIFEST, MODELS_DIR
from .audio import load_audio
from .config import data_home
from .errors import ConfigError, InstrumentBenchError
from .features import FEATURES
from .models.fitting import class_scores
from .models.plugins import load_plugins
from .protocol.predictors import PREDICTORS
from .storage import signed_here
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


def _audio_rows(board):
    """The leaderboard rows whose feature is computed from audio (a model a recording can feed)."""
    load_plugins()  # a model on an entry point's feature qualifies too
    return board[[name in FEATURES and FEATURES[name].needs_audio for name in board["feature"]]]


def choose_model(results_dir, *, dataset: str | None = None,
                 task: str | None = None) -> tuple[Path, str, str]:
    """The saved model ``predict`` uses by default, its predictor, and why it was chosen.

    Where cross-source rows exist (a model fitted on ``dataset`` and scored on other sources'
    test splits), the model with the best mean primary metric over those sources; otherwise the
    best in-source leaderboard row. Only models on audio features qualify.

    Raises
    ------
    InstrumentBenchError
        No finished run or no saved model matches.
    """
    results_dir = Path(results_dir)
    runs = results.read_runs(results_dir)
    board = results.leaderboard(runs)
    if board.empty:
        raise InstrumentBenchError(f"{results_dir / results.RUNS}: no finished runs; run a suite first")
    if dataset:
        board = board[board["dataset"] == dataset]
    if task:
        board = board[board["task"] == task]
    board = _audio_rows(board[results.is_clean(board)])  # not a source test's or perturbed rows
    if board.empty:
        raise InstrumentBenchError(f"no leaderboard row of a model on audio features for dataset={dataset!r} "
                                   f"task={task!r} in {results_dir}")
    best = results.best_model_keys(runs)
    primary = board["primary_metric"].iloc[0]
    cross = board[board["test_dataset"] != board["dataset"]]
    if not cross.empty:
        own = [k for k in results.GROUP if k != "test_dataset"]
        scores = cross.assign(_score=cross[f"{primary}_mean"]).groupby(own, sort=False).agg(
            _score=("_score", "mean"), _sources=("test_dataset", lambda s: ", ".join(sorted(s))),
            _first=("test_dataset", "first"))
        for group, row in scores.sort_values("_score", ascending=False).iterrows():
            fields = {**dict(zip(own, group)), "test_dataset": row["_first"]}
            key = best.get(tuple(fields[k] for k in results.GROUP))  # its best seed on that source
            if key and (results_dir / MODELS_DIR / key / MANIFEST).is_file():
                why = (f"best transfer: {primary} {row['_score']:.3f} on {row['_sources']} (never seen in "
                       f"training) among {len(scores)} models fitted on {fields['dataset']}")
                return results_dir / MODELS_DIR / key, fields["predictor"], why
    for _, row in board[board["test_dataset"] == board["dataset"]].iterrows():
        key = best.get(tuple(row[k] for k in results.GROUP))
        if key and (results_dir / MODELS_DIR / key / MANIFEST).is_file():
            why = (f"best in-source row: {primary} {row[f'{primary}_mean']:.3f} on {row['dataset']}'s test "
                   "split (no cross-source rows: run a suite with test_on to choose by transfer)")
            return results_dir / MODELS_DIR / key, row["predictor"], why
    raise InstrumentBenchError(f"no saved model for dataset={dataset!r} task={task!r} "
                               f"in {results_dir / MODELS_DIR}")


def _read_manifest(directory: Path) -> dict:
    path = directory / MANIFEST
    if not path.is_file():
        raise InstrumentBenchError(f"{path}: not found; a model folder holds {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise InstrumentBenchError(f"{path}: not a readable manifest ({exc})") from None
    missing = [k for k in ("feature", "sample_rate", "label_map") if k not in manifest] \
        if isinstance(manifest, dict) else ["every field"]
    if missing:
        raise InstrumentBenchError(f"{path}: the manifest lacks {', '.join(missing)}")
    return manifest


def _load_keras(path: Path):
    import keras

    from .models.keras import layers, losses  # noqa: F401  (registers the custom objects)

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (ValueError, OSError, TypeError, KeyError, zipfile.BadZipFile) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InstrumentBenchError(f"{path}: cannot load as a Keras model in safe mode ({first})") from None


def _load_pickle(path: Path, manifest: dict, *, trust: bool):
    if not (trust or signed_here(path, manifest.get("signature"), home=data_home())):
        raise InstrumentBenchError(
            f"{path}: not signed by this tool on this machine, and a pickled model runs code when "
            "loaded; pass --trust if you made it, or sign a results folder you moved here with "
            "`instrument-bench trust --results DIR`")
    import joblib

    try:
        return joblib.load(path)
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, AttributeError, ImportError,
            OSError) as exc:
        raise InstrumentBenchError(f"{path}: cannot load as a joblib model ({exc})") from None


def load_model(directory, *, predictor: str | None = None, trust: bool = False) -> LoadedModel:
    """Load a saved model folder.

    Keras models load in Keras' safe mode. A pickled (joblib) model loads only when its manifest's
    signature holds under this machine's key (the tool wrote it here) or with ``trust``.

    Raises
    ------
    InstrumentBenchError
        The folder lacks a readable manifest or model file, the model does not load, or a pickle
        is not signed here and ``trust`` is not set.
    """
    load_plugins()  # the features (and model classes) of installed plugins
    directory = Path(directory)
    manifest = _read_manifest(directory)
    path = directory / str(manifest.get("model_file", "model.keras"))
    if not path.is_file():
        raise InstrumentBenchError(f"{path}: model file not found")
    if manifest.get("model_format") == "keras" or path.suffix == ".keras":
        model = _load_keras(path)
    else:
        model = _load_pickle(path, manifest, trust=trust)
    default = "argmax" if manifest.get("task_kind", "single-label") == "single-label" else "threshold"
    predictor = predictor or default
    if predictor not in manifest.get("predictors", {default: {}}):
        raise ConfigError(f"predictor {predictor!r} was not fitted for this model; it has "
                          f"{', '.join(manifest.get('predictors', {}))}")
    if "feature" in manifest and manifest["feature"] not in FEATURES:
        raise ConfigError(f"{directory}: its feature {manifest['feature']!r} is not registered here (a "
                          "suite's [encoders] table is known only to its run: to predict, register the "
                          "encoder through the instrument_bench.features entry points)")
    return LoadedModel(directory, manifest, model, predictor)


WINDOW_BATCH = 32  # windows scored at once: memory stays bounded whatever --hop is
SOUNDING_DB = 30.0  # a window this far below the loudest window (RMS) does not count for the file


def sounding_windows(audio: np.ndarray, starts, clip_samples: int) -> np.ndarray:
    """Which windows count for a file's scores: RMS within ``SOUNDING_DB`` of the loudest's."""
    rms = np.array([np.sqrt(np.mean(np.square(audio[s:s + clip_samples], dtype=np.float64)))
                    for s in starts])
    return rms >= rms.max() * 10 ** (-SOUNDING_DB / 20)


def window_positions(n_samples: int, *, clip_samples: int, hop_samples: int) -> np.ndarray:
    """Start samples of the windows cut every ``hop_samples`` (the last one ends at the end; a
    recording shorter than one window is one window, zero-padded)."""
    if n_samples <= clip_samples:
        return np.array([0])
    return np.array([int(s) for s in window_starts(n_samples, window=clip_samples, hop=hop_samples,
                                                   cover_end=True)])


def _window(audio: np.ndarray, start: int, clip_samples: int) -> np.ndarray:
    piece = audio[start:start + clip_samples]
    return np.pad(piece, (0, clip_samples - len(piece)))


def frame_seconds(manifest: dict) -> float:
    """The hop between the frames of the model's feature (the finest hop worth asking for)."""
    if manifest.get("frame_seconds"):
        return float(manifest["frame_seconds"])
    params = manifest.get("feature_params") or {}
    hop = params.get("hop_length") or params.get("hop_size")
    return float(hop) / manifest["sample_rate"] if hop else 1.0 / manifest["sample_rate"]


def check_hop(manifest: dict, hop_seconds: float | None) -> None:
    """Raise ConfigError for a ``--hop`` that is not positive or is below one feature frame."""
    if hop_seconds is None:
        return
    frame = frame_seconds(manifest)
    if not hop_seconds > 0 or hop_seconds < frame:
        raise ConfigError(f"--hop {hop_seconds:g}: the hop between windows must be at least one "
                          f"feature frame ({frame:.4g} s for {manifest['feature']})")


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
    ConfigError
        ``hop_seconds`` is not positive or is below one feature frame.
    """
    manifest = loaded.manifest
    check_hop(manifest, hop_seconds)
    rate = manifest["sample_rate"]
    clip_seconds = manifest.get("clip_seconds") or 4.0
    audio = load_audio(path, sample_rate=rate)
    clip, hop = int(round(clip_seconds * rate)), max(1, int(round((hop_seconds or clip_seconds) * rate)))
    starts = window_positions(len(audio), clip_samples=clip, hop_samples=hop)
    scores = np.concatenate([window_scores(loaded, np.stack([_window(audio, s, clip) for s in chunk]))
                             for chunk in np.array_split(starts, max(1, -(-len(starts) // WINDOW_BATCH)))])
    predictor = PREDICTORS[loaded.predictor]
    params = manifest.get("predictors", {}).get(loaded.predictor, {})
    names = loaded.label_map

    def describe(row_scores):
        chosen = np.asarray(predictor.apply(row_scores[None], **params))[0]
        labels = [names[int(chosen)]] if np.ndim(chosen) == 0 else [names[i] for i in np.flatnonzero(chosen)]
        order = np.argsort(-row_scores)[:top]
        return labels, [[names[i], round(float(row_scores[i]), 4)] for i in order]

    labels, best = describe(scores[sounding_windows(audio, starts, clip)].mean(axis=0))
    timeline = []
    if len(starts) > 1:
        for start, row in zip(starts, scores):
            window_labels, window_top = describe(row)
            timeline.append({"start": round(start / rate, 3), "labels": window_labels, "top": window_top})
    return {"file": str(path), "labels": labels, "top": best, "windows": timeline,
            "model": loaded.directory.name, "predictor": loaded.predictor,
            "seconds": round(len(audio) / rate, 3)}
