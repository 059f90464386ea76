"""Publishing files safely: atomic writes, done markers, versions and the git commit.

Every file the tool publishes (results CSVs, saved models and manifests, predictions, feature
arrays, rendered datasets, audit caches) is written under a unique temporary name in its target
folder and renamed over the target, so a reader never sees a torn file, a killed run leaves no
half-written one behind, and two processes publishing the same file never share a temporary name:
the last rename wins and both succeed.

A *done marker* is a small JSON file written last, atomically, into a folder or beside a file:
its presence says the work is complete, and its content says with which settings.

Files that run code when loaded (pickled models) are *signed*: an HMAC under a key that lives in
the data home (``$INSTRUMENT_BENCH_HOME/trust.key``, mode 0600), not beside the file, so a model is
trusted only if this tool wrote it on this machine.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from functools import cache
from importlib import metadata
from pathlib import Path

from .errors import StorageError


def temporary_name(path) -> Path:
    """A name beside ``path`` that no other process or call uses (hidden, with pid and a random part)."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")


def storage_error(path, exc: OSError, *, written: int = 0) -> StorageError:
    """A one-line :class:`StorageError` for an OSError met while publishing ``path``."""
    path = Path(path)
    if exc.errno == errno.ENOSPC:
        free = shutil.disk_usage(next(p for p in (path.parent, *path.parents) if p.exists())).free
        return StorageError(f"{path}: no space left on the device (the write needed more than "
                            f"{written:,} bytes; {free:,} bytes free); finished results are intact - "
                            "free some space and rerun to resume")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StorageError(f"{path.parent}: cannot write there ({exc.strerror}); choose a writable "
                            "folder (--results DIR)")
    return StorageError(f"{path}: cannot write ({exc.strerror or exc})")


@contextmanager
def atomic_write(path):
    """Yield a temporary path to write; on success it is renamed over ``path``, on error deleted.

    Raises
    ------
    StorageError
        The disk is full or the folder cannot be written (an OSError while writing or renaming).

    Examples
    --------
    >>> with atomic_write(folder / "model.joblib") as tmp:  # doctest: +SKIP
    ...     joblib.dump(model, tmp)
    """
    path = Path(path)
    tmp = temporary_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        replace(tmp, path)
    except OSError as exc:
        written = tmp.stat().st_size if tmp.is_file() else 0
        raise storage_error(path, exc, written=written) from None
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def replace(src, dst) -> None:
    """``os.replace``: the one rename every publication goes through."""
    os.replace(src, dst)


TEMPORARY = re.compile(r"^\..+\.tmp-(\d+)-[0-9a-f]{8}")


def remove_stale_temporaries(folder) -> int:
    """Delete the temporary files and folders that processes no longer running left in ``folder``
    (a killed run); those of live processes (a concurrent run) are kept. Returns how many."""
    removed = 0
    for path in Path(folder).rglob(".*.tmp-*") if Path(folder).is_dir() else ():
        match = TEMPORARY.match(path.name)
        if match is None or _alive(int(match[1])):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


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
    tmp = temporary_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        replace(tmp, path)
    except OSError as exc:
        raise storage_error(path, exc) from None
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
    return {name: _version(name) for name in names}


@cache
def _version(name: str) -> str:
    """One distribution's version, looked up once per process (every cell's run key asks)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


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


KEY_FILE = "trust.key"


def _trust_key(home) -> bytes:
    """This machine's signing key: ``<home>/trust.key`` (32 random bytes, mode 0600), made once."""
    path = Path(home) / KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(32))
    key = path.read_bytes()
    if len(key) != 32:
        raise ValueError(f"{path}: not a signing key (32 bytes); delete it to make a new one")
    return key


def signature(path, *, home) -> str:
    """HMAC-SHA256 of the file ``path`` under this machine's key (see :func:`_trust_key`)."""
    digest = hmac.new(_trust_key(home), digestmod=hashlib.sha256)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def signed_here(path, claimed, *, home) -> bool:
    """True when ``claimed`` is the signature this machine's key gives the file ``path``: the file
    was written by this tool here (whoever can write a file can write a signature beside it, but
    cannot make one without the key, which lives outside the results folder)."""
    return isinstance(claimed, str) and hmac.compare_digest(claimed, signature(path, home=home))
