"""Copies of a replica that can be damaged without touching the original, and the damage itself.

:func:`clone` copies a replica as hard links (instant) and :func:`own` gives one linked file its
own copy; :func:`corrupt_wav`, :func:`silence_wav` and :func:`truncate_file` then damage it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf


def _pick(path, pattern: str) -> Path:
    """``path`` itself, or the first file (sorted) under it matching ``pattern``."""
    path = Path(path)
    if path.is_dir():
        matches = sorted(p for p in path.rglob(pattern) if p.is_file())
        if not matches:
            raise FileNotFoundError(f"{path}: no {pattern} file")
        return matches[0]
    return path


def clone(src, dst) -> Path:
    """A copy of a replica made of hard links (instant); damage files only after :func:`own`."""
    shutil.copytree(src, dst, copy_function=os.link)
    return Path(dst)


def own(path) -> Path:
    """Give a hard-linked file its own copy, so damaging it leaves the original intact."""
    path = Path(path)
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data)
    return path


def corrupt_wav(path) -> Path:
    """Overwrite a wav with ``b"RIFF"`` followed by 100 bytes of (seeded) garbage.

    Parameters
    ----------
    path : str or Path
        The wav, or a replica root (its first wav, sorted, is damaged).

    Returns
    -------
    Path
        The damaged file.
    """
    target = _pick(path, "*.wav")
    garbage = np.random.default_rng(7).integers(0, 256, size=100, dtype=np.uint8).tobytes()
    target.write_bytes(b"RIFF" + garbage)
    return target


def silence_wav(path) -> Path:
    """Rewrite a wav with zeros: same length, sample rate, channels and subtype (silent on purpose).

    Parameters
    ----------
    path : str or Path
        The wav, or a replica root (its first wav, sorted, is damaged).

    Returns
    -------
    Path
        The damaged file.
    """
    target = _pick(path, "*.wav")
    info = sf.info(target)
    zeros = np.zeros((info.frames, info.channels), dtype=np.float32)
    sf.write(target, zeros, info.samplerate, subtype=info.subtype, format=info.format)
    return target


def truncate_file(path) -> Path:
    """Cut a file to its first 60 bytes.

    Parameters
    ----------
    path : str or Path
        The file, or a replica root (its first wav, sorted, is damaged).

    Returns
    -------
    Path
        The damaged file.
    """
    target = _pick(path, "*.wav")
    with open(target, "r+b") as f:
        f.truncate(60)
    return target
