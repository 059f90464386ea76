"""The on-disk feature cache.

One ``.npz`` file per (dataset, split, feature), named by a hash of everything that changes its
content: dataset name and data version, the split's clip ids, the feature name and parameters and
the versions of the libraries that compute it. A second run reads the file instead of extracting.
Files are written to a temporary name and renamed, so a killed run never leaves a torn file.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

import numpy as np

from ..audio import load_audio
from ..errors import FeatureError
from ..executors import parallel_map

CACHE_FORMAT = "1"
CHUNK = 16  # clips per worker task


def library_versions(names) -> dict[str, str]:
    """Installed versions of the given distributions (``"absent"`` where not installed)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def cache_key(dataset, split: str, spec) -> str:
    """Hash naming the cache file of one dataset split and feature."""
    ids = hashlib.sha256("\n".join(c.clip_id for c in dataset.split(split)).encode()).hexdigest()
    payload = {
        "format": CACHE_FORMAT, "dataset": dataset.name, "version": dataset.version,
        "split": split, "clips": ids, "feature": spec.name, "params": spec.params,
        "libraries": library_versions(spec.libraries), "sample_rate": dataset.sample_rate,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _extract_chunk(feature: str, paths, sample_rate: int) -> np.ndarray:
    from . import FEATURES

    spec = FEATURES[feature]
    rows = []
    for path in paths:
        audio = load_audio(path, sample_rate=sample_rate)
        rows.append(spec.extract(audio, sample_rate=sample_rate, **spec.params))
    return np.stack(rows)


def compute_features(clips, spec, *, sample_rate: int, jobs: int = 1, progress: bool = True,
                     desc: str = "") -> np.ndarray:
    """Compute one feature for a list of clips (no cache).

    Returns
    -------
    np.ndarray
        ``(len(clips), dim)`` float32.
    """
    if not clips:
        raise FeatureError(f"{spec.name}: no clips to compute features for")
    if not spec.needs_audio:
        return np.stack([spec.from_meta(c.meta) for c in clips]).astype(np.float32)
    chunks = [(spec.name, [c.path for c in clips[i:i + CHUNK]], sample_rate)
              for i in range(0, len(clips), CHUNK)]
    parts = parallel_map(_extract_chunk, chunks, jobs=jobs, desc=desc or f"extracting {spec.name}",
                         unit="chunk", progress=progress)
    features = np.concatenate(parts).astype(np.float32)
    if not np.isfinite(features).all():
        bad = [clips[i].path for i in np.where(~np.isfinite(features).all(axis=1))[0][:5]]
        raise FeatureError(f"{spec.name}: non-finite values for {', '.join(map(str, bad))}")
    return features


def load_features(dataset, split: str, spec, *, cache_dir, jobs: int = 1,
                  progress: bool = True) -> np.ndarray:
    """Features of one dataset split, from the cache or freshly computed and cached.

    Parameters
    ----------
    dataset : Dataset
        The loaded dataset.
    split : str
        ``train``, ``valid`` or ``test``.
    spec : FeatureSpec
        The feature.
    cache_dir : str or Path
        Root of the feature cache.
    jobs : int
        Worker processes for extraction.
    progress : bool
        Show a progress bar.

    Returns
    -------
    np.ndarray
        ``(n_clips, dim)`` float32 rows in the split's clip order.
    """
    clips = dataset.split(split)
    path = Path(cache_dir) / dataset.name / spec.name / f"{split}-{cache_key(dataset, split, spec)}.npz"
    ids = np.asarray([c.clip_id for c in clips])
    if path.is_file():
        with np.load(path) as cached:
            if cached["clip_ids"].shape == ids.shape and (cached["clip_ids"] == ids).all():
                return cached["features"]
    features = compute_features(clips, spec, sample_rate=dataset.sample_rate, jobs=jobs,
                                progress=progress, desc=f"{spec.name} {dataset.name}/{split}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        np.savez(handle, features=features, clip_ids=ids)
    os.replace(tmp, path)
    return features
