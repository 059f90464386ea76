"""``validate``: check a dataset folder against its expected layout before a long run.

The dataset's own loader reads the layout and metadata (a missing file, a malformed row or label
stops it, with the file and line named); then every audio file and shipped feature file the
clips refer to is read in full (corrupt, truncated, empty, silent, NaN/inf), and audio or ``.npy``
files that no clip refers to, in the folders the clips are read from, are listed as unexpected.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from .audio import load_audio
from .datasets.audio_folder import AUDIO_SUFFIXES
from .errors import ConfigError, DatasetNotFoundError, InstrumentBenchError
from .executors import parallel_map

CHECK_CHUNK = 32  # files per worker task


@dataclass
class ValidationReport:
    """What ``validate`` found: counts, errors (each naming a file) and warnings."""

    dataset: str
    root: Path
    splits: dict = field(default_factory=dict)
    files_checked: int = 0
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no error was found."""
        return not self.errors

    def lines(self) -> list[str]:
        """The printed summary."""
        out = [f"dataset {self.dataset}: {self.root}"]
        if self.splits:
            out.append("clips: " + ", ".join(f"{s} {n}" for s, n in self.splits.items()))
        out.append(f"files read: {self.files_checked}; errors: {len(self.errors)}; "
                   f"warnings: {len(self.warnings)}")
        out += [f"error: {e}" for e in self.errors]
        out += [f"warning: {w}" for w in self.warnings[:20]]
        if len(self.warnings) > 20:
            out.append(f"warning: ... and {len(self.warnings) - 20} more")
        return out


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
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(cached.name + f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps(problems))
        os.replace(tmp, cached)
    return [(clip_id, path, problem) for path, problem in sorted(problems.items()) for clip_id in files[path]]


def validate_dataset(name: str, *, data_root=None, options: dict | None = None, jobs: int = 1,
                     progress: bool = True) -> ValidationReport:
    """Load a dataset and read every file it refers to.

    Parameters
    ----------
    name : str
        A registered dataset name.
    data_root : str or Path, optional
        Where real datasets live.
    options : dict, optional
        Loader options (``root``, ``group_by`` ...).
    jobs : int
        Worker processes for reading files.
    progress : bool
        Show a progress bar.

    Raises
    ------
    ConfigError
        The name is not a dataset, or an option is not the loader's.
    DatasetNotFoundError
        The dataset's folder is not there.
    """
    from .runner import load_dataset

    report = ValidationReport(dataset=name, root=Path(data_root or "."))
    try:
        dataset = load_dataset(name, options=dict(options or {}), data_root=data_root, jobs=jobs,
                               progress=progress)
    except (ConfigError, DatasetNotFoundError):
        raise
    except InstrumentBenchError as exc:
        report.errors.append(str(exc))
        return report
    report.root = dataset.root
    report.splits = dict(Counter(c.split for c in dataset.clips))
    files = sorted(clip_files(dataset))
    report.errors += sorted(read_all(files, jobs=jobs, progress=progress, desc=f"reading {name}").values())
    report.files_checked = len(files)
    known = {Path(f).resolve() for f in files}
    suffixes = AUDIO_SUFFIXES | {".npy"}
    folders = sorted({Path(f).parent for f in files})  # the folders the dataset reads from
    for path in sorted(p for folder in folders for p in folder.iterdir()):
        if path.suffix.lower() in suffixes and path.is_file() and path.resolve() not in known:
            report.warnings.append(f"{path}: unexpected file (no clip of {name} refers to it)")
    return report
