"""The on-disk feature cache.

One ``.npy`` array per (dataset, split, feature), named by a hash of everything that changes its
content: dataset name and data version, the split's clip ids, the feature name and parameters and
the versions of the libraries that compute it. Arrays are written chunk by chunk into a
memory-mapped file and read back memory-mapped, so neither extraction nor training needs the whole
split in memory. A sidecar ``.ids.npy`` with the clip ids is written last and marks the array
complete; both go through a temporary name and an atomic rename, so a killed run never leaves a
torn file that a later run would read.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..audio import load_audio
from ..errors import AudioError, BadClipsError, FeatureError
from ..parallel import parallel_imap
from ..storage import atomic_write, library_versions
from .perturbations import PERTURBATIONS, clip_seed, perturb, severity_text

CACHE_FORMAT = "3"  # 3: padding- and level-free statistics features (protocol 3)
CHUNK = 16  # clips per worker task
MAX_CHUNK = 512  # clips of one recording per task, at most
PERTURBATION_SEED = 0  # every perturbed clip's randomness (noise) is drawn from this and its clip id
PERTURBATION_LIBRARIES = ("pedalboard", "scipy", "numpy")


def cache_key(dataset, split: str, spec, perturbation=None) -> str:
    """Hash naming the cache file of one dataset split and feature (under a perturbation)."""
    ids = hashlib.sha256("\n".join(c.clip_id for c in dataset.split(split)).encode()).hexdigest()
    payload = {
        "format": CACHE_FORMAT, "dataset": dataset.name, "version": dataset.version,
        "split": split, "clips": ids, "feature": spec.name, "params": spec.params,
        "libraries": library_versions(spec.libraries), "sample_rate": dataset.sample_rate,
    }
    if perturbation is not None:  # the perturbation's code is versioned with the package's libraries
        payload.update(perturbation=list(perturbation), perturbation_seed=PERTURBATION_SEED,
                       perturbation_libraries=library_versions(PERTURBATION_LIBRARIES))
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _read_item(spec, item, sample_rate, decoded: dict, perturbation=None):
    """The input of one clip: its window of audio (each file decoded once per chunk), perturbed
    when asked (seeded by the clip), or of the feature file; raises AudioError / FeatureError
    naming the file."""
    path, start, duration, clip_id = item
    if spec.from_file is not None:
        return spec.from_file(path, start=start, duration=duration, **spec.params)
    if path not in decoded:
        decoded.clear()
        try:
            decoded[path] = load_audio(path, sample_rate=sample_rate)
        except AudioError as exc:
            decoded[path] = exc
    audio = decoded[path]
    if isinstance(audio, Exception):
        raise audio
    if start or duration is not None:
        a = int(round(start * sample_rate))
        n = len(audio) - a if duration is None else int(round(duration * sample_rate))
        audio = np.pad(audio[a:a + n], (0, max(0, n - len(audio[a:a + n]))))
    if perturbation is not None:
        name, text = perturbation
        value = next(v for v in PERTURBATIONS[name].severities if severity_text(v) == text)
        audio = perturb(audio, name=name, severity=value, sample_rate=sample_rate,
                        seed=clip_seed(seed=PERTURBATION_SEED, clip_id=clip_id, name=name, severity=value))
    return audio


def _extract_chunk(spec, items, sample_rate: int, perturbation=None):
    """Features of ``(path, start, duration, clip id)`` items (their audio perturbed when asked),
    and the clips that could not be read.

    Returns
    -------
    block : np.ndarray or None
        ``(len(items), ...)`` float32, NaN rows for unreadable clips (None when none was readable).
    problems : list of (int, str)
        Row in the chunk and the reason (naming the file) of every unreadable clip.
    """
    inputs, rows, problems, decoded = [], [], [], {}
    for i, item in enumerate(items):
        try:
            inputs.append(_read_item(spec, item, sample_rate, decoded, perturbation))
            rows.append(i)
        except (AudioError, FeatureError) as exc:
            problems.append((i, str(exc)))
    if not inputs:
        return None, problems
    if spec.from_file is not None:
        good = np.stack(inputs).astype(np.float32)
    else:
        good = spec.extract_many(inputs, sample_rate=sample_rate)
    if not problems:
        return good, problems
    block = np.full((len(items), *good.shape[1:]), np.nan, dtype=np.float32)
    block[rows] = good
    return block, problems


def chunk_clips(clips, *, size: int = CHUNK, max_size: int = MAX_CHUNK, file_of=None) -> list[list]:
    """Consecutive clips in chunks of about ``size``, never splitting one file's clips (up to
    ``max_size``), so each recording is decoded once per pass. ``file_of(clip)`` names the file a
    clip is read from (default: its audio, ``clip.path``)."""
    file_of = file_of or (lambda clip: clip.path)
    chunks, current = [], []
    for clip in clips:
        same_file = current and file_of(clip) == file_of(current[-1])
        if current and ((len(current) >= size and not same_file) or len(current) >= max_size):
            chunks.append(current)
            current = []
        current.append(clip)
    return chunks + ([current] if current else [])


def _extract_into(spec, items, sample_rate: int, out: str, offset: int, perturbation=None) -> list[int]:
    """Compute a chunk and write it into rows ``offset...`` of the ``.npy`` file ``out`` (opened
    memory-mapped by the worker itself, so no feature array travels back to the parent); return
    the chunk's row numbers holding non-finite values and its unreadable clips."""
    block, problems = _extract_chunk(spec, items, sample_rate, perturbation)
    if block is None:
        return [], problems
    target = np.load(out, mmap_mode="r+")
    if block.shape[1:] != target.shape[1:]:
        raise FeatureError(f"{spec.name}: {items[0][0]} gives shape {block.shape[1:]}, other clips "
                           f"{target.shape[1:]}; a feature must have one shape per dataset")
    target[offset:offset + len(block)] = block
    target.flush()
    unreadable = {i for i, _ in problems}
    return [r for r in _non_finite_rows(block) if r not in unreadable], problems


def _non_finite_rows(block) -> list[int]:
    """Row numbers of ``block`` holding NaN or infinite values."""
    return np.flatnonzero(~np.isfinite(block.reshape(len(block), -1)).all(axis=1)).tolist()


def _raise_non_finite(spec, clips, rows: list) -> None:
    if len(rows):
        names = ", ".join(str(clips[i].path or clips[i].clip_id) for i in rows[:5])
        raise FeatureError(f"{spec.name}: non-finite values for {names}")


def _items(chunk, spec) -> list[tuple]:
    """``(file, start, duration, clip id)`` of each clip: its audio, or the file a shipped feature
    is in."""
    items = []
    for c in chunk:
        path = c.meta.get(spec.file_field) if spec.from_file is not None else c.path
        if path is None:
            what = f"a {spec.file_field!r} file" if spec.from_file is not None else "audio"
            raise FeatureError(f"{spec.name}: clip {c.clip_id} has no {what}; this dataset does not "
                               f"provide what the feature reads")
        items.append((path, c.start, c.duration, c.clip_id))
    return items


def compute_features(clips, spec, *, sample_rate: int, jobs: int = 1, progress: bool = True,
                     desc: str = "", out=None, executor=None, perturbation=None) -> np.ndarray:
    """Compute one feature for a list of clips (no cache).

    Clips are processed in chunks (:func:`chunk_clips`) on ``jobs`` worker processes. With
    ``out``, every worker writes its rows straight into the memory-mapped output file, so neither
    the parent nor the pipe between them ever holds more than a chunk.

    Parameters
    ----------
    clips : list of Clip
        The clips, in order.
    spec : FeatureSpec
        The feature.
    sample_rate : int
        Rate the audio is read at.
    jobs : int
        Worker processes.
    progress : bool
        Show a progress bar.
    desc : str
        Progress bar label.
    out : str or Path, optional
        Write into a memory-mapped ``.npy`` file at this path instead of memory.
    executor : Executor, optional
        A Dask executor sends the chunks to its cluster (default: ``jobs`` local processes).
    perturbation : (str, str), optional
        A perturbation's name and severity text (:mod:`.perturbations`): every clip's audio is
        perturbed, seeded by the clip, before the feature is computed.

    Returns
    -------
    np.ndarray
        ``(len(clips), *feature_shape)`` float32 (a memmap when ``out`` is given).

    Raises
    ------
    BadClipsError
        Clips whose audio (or feature file) cannot be read, all of them, each naming its file.
    FeatureError
        A clip gives non-finite values or a shape unlike the others.
    """
    if not clips:
        raise FeatureError(f"{spec.name}: no clips to compute features for")
    if not spec.reads_files:
        result = np.stack([spec.from_meta(c.meta) for c in clips]).astype(np.float32)
        _raise_non_finite(spec, clips, _non_finite_rows(result))
        if out is None:
            return result
        target = np.lib.format.open_memmap(out, mode="w+", dtype=np.float32, shape=result.shape)
        target[:] = result
        target.flush()
        return target
    shipped = spec.from_file is not None  # clips of one shipped feature file share a chunk
    chunks = chunk_clips(clips, file_of=(lambda c: c.meta.get(spec.file_field)) if shipped else None)
    offsets = np.cumsum([0] + [len(c) for c in chunks])
    bad, problems, first, k = [], [], None, 0
    while first is None and k < len(chunks):  # the first readable chunk gives the shape
        first, found = _extract_chunk(spec, _items(chunks[k], spec), sample_rate, perturbation)
        problems += [(int(offsets[k]) + i, message) for i, message in found]
        k += 1
    if first is None:
        raise BadClipsError(spec.name, [(clips[i].clip_id, clips[i].path, m) for i, m in problems])
    shape = (len(clips), *first.shape[1:])
    result = (np.lib.format.open_memmap(out, mode="w+", dtype=np.float32, shape=shape)
              if out is not None else np.empty(shape, dtype=np.float32))
    result[offsets[k - 1]:offsets[k]] = first
    unreadable = {i for i, _ in problems}
    at = int(offsets[k - 1])
    bad = [at + r for r in _non_finite_rows(first) if at + r not in unreadable]
    label = desc or f"extracting {spec.name}"
    rest = list(zip(chunks[k:], offsets[k:]))
    if out is not None:
        result.flush()
        tasks = [(spec, _items(chunk, spec), sample_rate, str(out), int(offset), perturbation)
                 for chunk, offset in rest]
        done = parallel_imap(_extract_into, tasks, jobs=jobs, desc=label, unit="chunk", progress=progress,
                            executor=executor)
        for (_, offset), (rows, found) in zip(rest, done):
            bad += [int(offset) + r for r in rows]
            problems += [(int(offset) + i, message) for i, message in found]
        result = np.load(out, mmap_mode="r+")
    else:
        tasks = [(spec, _items(chunk, spec), sample_rate, perturbation) for chunk, _ in rest]
        done = parallel_imap(_extract_chunk, tasks, jobs=jobs, desc=label, unit="chunk", progress=progress,
                            executor=executor)
        for (_, offset), (block, found) in zip(rest, done):
            problems += [(int(offset) + i, message) for i, message in found]
            if block is None:
                continue
            if block.shape[1:] != shape[1:]:
                raise FeatureError(f"{spec.name}: clips give shapes {shape[1:]} and {block.shape[1:]}; "
                                   "a feature must have one shape per dataset")
            result[offset:offset + len(block)] = block
            unreadable = {i for i, _ in found}
            bad += [int(offset) + r for r in _non_finite_rows(block) if r not in unreadable]
    if problems:
        raise BadClipsError(spec.name, [(clips[i].clip_id, clips[i].path, m) for i, m in sorted(problems)])
    _raise_non_finite(spec, clips, sorted(bad))
    return result


def load_features(dataset, split: str, spec, *, cache_dir, jobs: int = 1,
                  progress: bool = True, executor=None, perturbation=None) -> np.ndarray:
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
    executor : Executor, optional
        Where extraction runs (see :func:`compute_features`).
    perturbation : (str, str), optional
        Compute the feature of the split's audio under this perturbation and severity (cached
        under its own key; see :func:`compute_features`).

    Returns
    -------
    np.ndarray
        ``(n_clips, *feature_shape)`` float32 rows in the split's clip order, memory-mapped
        read-only from the cache file.
    """
    clips = dataset.split(split)
    stem = split if perturbation is None else f"{split}-{perturbation[0]}-{perturbation[1]}"
    key = cache_key(dataset, split, spec, perturbation)
    base = Path(cache_dir) / dataset.name / spec.name / f"{stem}-{key}"
    path, ids_path = base.with_suffix(".npy"), base.with_suffix(".ids.npy")
    ids = np.asarray([c.clip_id for c in clips])
    if path.is_file() and ids_path.is_file():
        cached_ids = np.load(ids_path)
        if cached_ids.shape == ids.shape and (cached_ids == ids).all():
            return np.load(path, mmap_mode="r")
    if spec.components:  # a union: its parts' cached arrays side by side
        parts = [load_features(dataset, split, part, cache_dir=cache_dir, jobs=jobs, progress=progress,
                               executor=executor, perturbation=perturbation) for part in spec.components]
        with atomic_write(path) as tmp:
            np.save(tmp, np.concatenate([np.asarray(p).reshape(len(p), -1) for p in parts], axis=1))
    else:
        with atomic_write(path) as tmp:
            what = "" if perturbation is None else f" under {perturbation[0]} {perturbation[1]}"
            compute_features(clips, spec, sample_rate=dataset.sample_rate, jobs=jobs, progress=progress,
                             desc=f"{spec.name} {dataset.name}/{split}{what}", out=tmp, executor=executor,
                             perturbation=perturbation)
    with atomic_write(ids_path) as tmp:  # written last: marks the array complete
        np.save(tmp, ids)
    return np.load(path, mmap_mode="r")

