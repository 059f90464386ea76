"""``validate``: check a dataset folder against its expected layout before a long run.

The dataset's own loader reads the layout and metadata (a missing file, a malformed row or label
stops it, with the file and line named); then every audio file and shipped feature file the
clips refer to is read in full (corrupt, truncated, empty, silent, NaN/inf), and audio or ``.npy``
files that no clip refers to, in the folders the clips are read from, are listed as unexpected.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .datasets.audio_folder import AUDIO_SUFFIXES
from .datasets.audit import clip_files, read_all
from .datasets.loading import load_dataset
from .errors import ConfigError, DatasetNotFoundError, InstrumentBenchError


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


def classes_not_in_train(dataset) -> list[str]:
    """Classes (``label`` / ``labels``) that occur in valid or test but not in train: a model cannot
    learn them, so every cell of their task would fail."""
    splits = {}
    for clip in dataset.clips:
        for label in clip.meta.get("labels", [clip.meta["label"]] if "label" in clip.meta else []):
            splits.setdefault(label, set()).add(clip.split)
    return [f"class {label!r} occurs in {' and '.join(s for s in ('valid', 'test') if s in found)} but not "
            "in train: every cell of its task would fail (give it more files or groups)"
            for label, found in sorted(splits.items()) if "train" not in found]


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
    report.warnings += list(dataset.notes)
    if name == "audio-folder":
        report.errors += classes_not_in_train(dataset)
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
