"""Reading every file a dataset's clips refer to: which clips cannot be used, and why.

``validate`` reports what this finds; ``run --on-bad-clip skip`` leaves those clips out.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import load_audio
from ..errors import InstrumentBenchError
from ..parallel import parallel_map
from ..storage import write_text_atomic

CHECK_CHUNK = 32  # files per worker task


def check_audio(path) -> str | None:
    """Read one audio file in full; the problem, naming the file, or None when it is usable."""
    try:
        load_audio(path, sample_rate=sf.info(path).samplerate)  # its own rate: no resampling
    except InstrumentBenchError as exc:
        return str(exc)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        return f"{path}: cannot read audio ({exc})"
    return None


def check_array(path) -> str | None:
    """Read one ``.npy`` feature file in full; the problem, or None."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        return f"{path}: cannot read ({exc})"
    if array.ndim != 2 or not np.isfinite(array).all():
        return f"{path}: expected a finite 2-d array, got shape {array.shape}"
    return None


def _check_files(paths) -> list[str | None]:
    return [check_array(p) if Path(p).suffix == ".npy" else check_audio(p) for p in paths]


def read_all(paths, *, jobs: int = 1, progress: bool = True, desc: str = "reading") -> dict[str, str]:
    """Read every file in full on ``jobs`` workers: ``{path: problem}`` for those that fail."""
    files = sorted({str(p) for p in paths})
    chunks = [(files[i:i + CHECK_CHUNK],) for i in range(0, len(files), CHECK_CHUNK)]
    out = {}
    for (chunk,), problems in zip(chunks, parallel_map(_check_files, chunks, jobs=jobs, desc=desc,
                                                       unit="chunk", progress=progress)):
        out.update({path: problem for path, problem in zip(chunk, problems) if problem})
    return out


def clip_files(dataset) -> dict[str, list]:
    """The files each clip reads (its audio and shipped feature files): ``{file: [clip ids]}``."""
    out = {}
    for clip in dataset.clips:
        for path in (clip.path, clip.meta.get("melspec_path")):
            if path is not None:
                out.setdefault(str(path), []).append(clip.clip_id)
    return out


def audit(dataset, *, cache_dir, jobs: int = 1, progress: bool = True) -> list[tuple]:
    """The clips of ``dataset`` whose files cannot be used: ``[(clip_id, path, problem)]``.

    Every file is read in full once; the answer is cached under ``cache_dir`` by the dataset's
    name, version and the files' sizes and modification times, so a rerun does not read again.
    """
    files = clip_files(dataset)
    digest = hashlib.sha256(f"{dataset.name}|{dataset.version}".encode())
    for path in sorted(files):
        stat = os.stat(path) if os.path.exists(path) else None
        digest.update(f"{path}|{stat and stat.st_size}|{stat and stat.st_mtime_ns}\n".encode())
    cached = Path(cache_dir) / f"{dataset.name}-{digest.hexdigest()[:16]}.json"
    if cached.is_file():
        problems = json.loads(cached.read_text())
    else:
        problems = read_all(files, jobs=jobs, progress=progress, desc=f"checking {dataset.name}")
        write_text_atomic(cached, json.dumps(problems))
    return [(clip_id, path, problem) for path, problem in sorted(problems.items()) for clip_id in files[path]]
