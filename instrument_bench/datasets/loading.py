"""Loading a registered dataset with a suite's options, and leaving out clips that cannot be used."""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import replace

from ..errors import ConfigError, DatasetError, lookup
from . import DATASETS
from .audit import audit


def load_dataset(name: str, *, options: dict, data_root=None, jobs: int = 1, progress: bool = True):
    """Load a registered dataset with a suite's ``[datasets.<name>]`` options.

    Raises
    ------
    ConfigError
        The loader does not take one of the options.
    DatasetError
        A clip id appears twice.
    """
    loader = lookup(DATASETS, name, kind="dataset")
    parameters = inspect.signature(loader).parameters
    accepted = set(parameters)
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    unknown = sorted(k for k in options if k not in accepted and not accepts_any)
    if unknown:
        raise ConfigError(f"dataset {name!r} takes no option {', '.join(unknown)}")
    try:
        dataset = loader(data_root=data_root, jobs=jobs, progress=progress, **options)
    except TypeError as exc:
        raise ConfigError(f"dataset {name!r}: bad option ({exc})") from None
    ids = [c.clip_id for c in dataset.clips]
    if len(set(ids)) != len(ids):
        seen = set()
        twice = next(i for i in ids if i in seen or seen.add(i))
        raise DatasetError(f"{dataset.root}: clip id {twice!r} appears more than once in {name}")
    return dataset


def without_bad_clips(dataset, *, cache_dir, jobs: int = 1, progress: bool = True):
    """``dataset`` without the clips whose files cannot be used (``--on-bad-clip skip``).

    Returns
    -------
    dataset, problems
        The dataset (its version names what was left out) and ``[(clip_id, path, problem)]``.
    """
    problems = audit(dataset, cache_dir=cache_dir, jobs=jobs, progress=progress)
    if not problems:
        return dataset, []
    bad = {clip_id for clip_id, _, _ in problems}
    digest = hashlib.sha256("\n".join(sorted(bad)).encode()).hexdigest()[:8]
    return replace(dataset, clips=tuple(c for c in dataset.clips if c.clip_id not in bad),
                   version=f"{dataset.version}-without{len(bad)}-{digest}"), problems
