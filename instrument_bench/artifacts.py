"""What a run leaves besides the CSVs: saved models with their manifests, and test predictions.

- ``models/<model_key>/model.keras`` or ``model.joblib`` and ``manifest.json`` (written last: the
  model folder's done marker), which ``predict`` loads;
- ``predictions/<model_key>.npz``: the test split's clip ids, labels, scores and label map of
  every run, which ``report`` draws from.

Every file is published through :func:`~.storage.atomic_write` under a unique temporary name, so
two runs computing the same cell at once both succeed. A pickled model's manifest carries its
signature under this machine's key (:func:`~.storage.signature`): ``predict`` loads a pickle only
when the signature holds, or when told to trust it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import data_home
from .storage import atomic_write, mark_done, read_done, signature

MODELS_DIR = "models"
PREDICTIONS = "predictions"
MANIFEST = "manifest.json"


def save_model(model, directory, manifest: dict) -> Path:
    """Write a fitted model and its ``manifest.json`` into ``directory``, each atomically.

    Keras models go to ``model.keras``; scikit-learn / XGBoost models to ``model.joblib``
    (joblib, compressed), which ``predict`` loads only from the tool's own results folder unless
    told to trust it.
    """
    directory = Path(directory)
    if manifest.get("model_format") == "keras":
        name = "model.keras"
        with atomic_write(directory / name) as tmp:
            model.save(tmp)
    else:
        import joblib

        name = "model.joblib"
        with atomic_write(directory / name) as tmp:
            joblib.dump(model, tmp, compress=3)
            manifest = {**manifest, "signature": signature(tmp, home=data_home())}
    mark_done(directory / MANIFEST, {**manifest, "model_file": name})
    return directory / name


def sign_models(results_dir) -> list[Path]:
    """Sign every pickled model under ``results_dir/models`` with this machine's key (the explicit
    step after moving a results folder from another machine); returns the models signed."""
    signed = []
    for manifest_path in sorted((Path(results_dir) / MODELS_DIR).glob(f"*/{MANIFEST}")):
        manifest = read_done(manifest_path)
        path = manifest_path.parent / str((manifest or {}).get("model_file", ""))
        if manifest and path.suffix == ".joblib" and path.is_file():
            mark_done(manifest_path, {**manifest, "signature": signature(path, home=data_home())})
            signed.append(path)
    return signed


def read_manifest(directory) -> dict | None:
    """A saved model's manifest, or None when the folder holds no complete model."""
    return read_done(Path(directory) / MANIFEST)


def save_predictions(results_dir, model_key: str, *, clip_ids, y_true, scores, label_map,
                     units=None) -> Path:
    """Write a run's test labels and scores to ``predictions/<model_key>.npz`` (atomically), with
    each test row's independence unit (default: the row itself), which the statistics resample.
    Scores are kept in float64, as the predictors saw them: a threshold fitted on valid scores
    can equal a score exactly (a constant-score model), and float32 rounding would flip it."""
    path = Path(results_dir) / PREDICTIONS / f"{model_key}.npz"
    units = clip_ids if units is None else units
    with atomic_write(path) as tmp:
        np.savez_compressed(tmp, clip_ids=np.asarray(clip_ids), y_true=np.asarray(y_true),
                            scores=np.asarray(scores, dtype=np.float64), label_map=np.asarray(label_map),
                            units=np.asarray(units, dtype=str))
    return path


def load_predictions(results_dir, model_key: str) -> dict | None:
    """A run's saved test labels and scores, or None when the run left none."""
    path = Path(results_dir) / PREDICTIONS / f"{model_key}.npz"
    if not path.is_file():
        return None
    with np.load(path) as data:
        return {k: data[k] for k in data.files}

