"""One exception family for instrument_bench.

Every error the tool raises on purpose derives from :class:`InstrumentBenchError`; its message names
the file or name at fault and, where there is one, the fix.
"""

from __future__ import annotations


class InstrumentBenchError(Exception):
    """Base class of every error instrument_bench raises on purpose."""


class ConfigError(InstrumentBenchError):
    """A suite file, option or environment variable is invalid."""


class UnknownNameError(ConfigError):
    """A dataset, feature, model, task or suite name is not registered.

    Parameters
    ----------
    kind : str
        What was looked up (``"dataset"``, ``"model"`` ...).
    name : str
        The name that was asked for.
    valid : iterable of str
        The names that exist.
    """

    def __init__(self, kind: str, name: str, valid):
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        plural = f"{kind}es" if kind.endswith("s") else f"{kind}s"
        super().__init__(f"unknown {kind} {name!r}; valid {plural}: {', '.join(self.valid)}")


class SuiteError(ConfigError):
    """A suite setting (a key or value of a suite file, or ``--seeds``) is not allowed; the message
    names the file, the key, the value and what is allowed. The command line exits with status 2."""


class DatasetError(InstrumentBenchError):
    """A dataset on disk is missing, malformed or inconsistent."""


class AudioError(DatasetError):
    """An audio file is missing, unreadable, silent or holds non-finite samples."""


class FeatureError(InstrumentBenchError):
    """A feature could not be computed or its cache is unusable."""


def lookup(registry: dict, name: str, *, kind: str):
    """Return ``registry[name]`` or raise :class:`UnknownNameError` listing the valid names.

    Parameters
    ----------
    registry : dict
        A plain name -> object registry.
    name : str
        The name to look up.
    kind : str
        What the registry holds, used in the error message.
    """
    try:
        return registry[name]
    except KeyError:
        raise UnknownNameError(kind, name, registry) from None


class StorageError(InstrumentBenchError):
    """A file could not be published: the disk is full, the folder is read-only or gone. Finished
    work is intact (every write is atomic); the run stops."""


class DatasetNotFoundError(DatasetError):
    """A dataset is not on disk where the tool looked (a suite skips it with this reason)."""


class TaskNotApplicableError(DatasetError):
    """A dataset carries no labels for a task (a suite skips that task on it with this reason)."""


class BadClipsError(FeatureError):
    """Clips whose audio (or feature file) cannot be used, found in one extraction pass.

    Parameters
    ----------
    feature : str
        The feature being computed.
    problems : list of (clip_id, path, message)
        Every clip that failed, with the reason (the message names the file).
    """

    def __init__(self, feature: str, problems):
        self.problems = list(problems)
        messages = list(dict.fromkeys(message for _, _, message in self.problems))  # one per file
        shown = "; ".join(messages[:10])
        more = f"; ... and {len(messages) - 10} more" if len(messages) > 10 else ""
        super().__init__(f"{feature}: {len(self.problems)} clip(s) cannot be used: {shown}{more} "
                         "(--on-bad-clip skip leaves them out and lists them in results/skipped.csv)")
