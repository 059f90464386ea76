"""Publishing files safely: atomic writes, done markers, versions and the git commit.

Every file the tool publishes (results CSVs, saved models and manifests, predictions, feature
arrays, rendered datasets, audit caches) is written under a unique temporary name in its target
folder and renamed over the target, so a reader never sees a torn file, a killed run leaves no
half-written one behind, and two processes publishing the same file never share a temporary name:
the last rename wins and both succeed.

A *done marker* is a small JSON file written last, atomically, into a folder or beside a file:
its presence says the work is complete, and its content says with which settings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path


def temporary_name(path) -> Path:
    """A name beside ``path`` that no other process or call uses (hidden, with pid and a random part)."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")


@contextmanager
def atomic_write(path):
    """Yield a temporary path to write; on success it is renamed over ``path``, on error deleted.

    Examples
    --------
    >>> with atomic_write(folder / "model.joblib") as tmp:  # doctest: +SKIP
    ...     joblib.dump(model, tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path, data) -> Path:
    """Write ``data`` as indented, key-sorted JSON to ``path`` atomically."""
    return write_text_atomic(path, json.dumps(data, indent=1, sort_keys=True, default=str))


@contextmanager
def atomic_dir(path):
    """Yield a fresh temporary folder to fill; on success it replaces ``path`` (removed first if
    there), on error it is deleted. The caller writes the folder's done marker inside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        tmp.mkdir()
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def mark_done(path, info: dict | None = None) -> Path:
    """Write the done marker ``path`` (JSON of ``info``), atomically and last."""
    return write_json_atomic(path, info or {})


def read_done(path) -> dict | None:
    """The content of the done marker ``path``, or None when the work it marks is not complete."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def library_versions(names) -> dict[str, str]:
    """Installed versions of the given distributions (``"absent"`` where not installed)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def git_commit() -> str:
    """The git commit of the package's checkout, or ``unknown``."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def done_with(path, settings: dict) -> bool:
    """True when the done marker ``path`` exists and records every one of ``settings``."""
    found = read_done(path)
    return found is not None and all(found.get(k) == v for k, v in settings.items())
