"""Encoders and models from outside the package, added to ``FEATURES`` and ``MODELS``.

:func:`load_plugins` registers the ``instrument_bench.features`` and ``instrument_bench.models``
entry points of the installed distributions; :func:`register_suite` the ``[encoders.<name>]`` and
``[models.<name>]`` tables of a suite. Neither may take a built-in name, and an entry point and a
suite may not both define one name; a later suite replaces what an earlier suite defined. Both
import and run the code they name: only use plugins and suites you trust.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError, InstrumentBenchError, SuiteError
from ..features import FEATURES
from ..features.encoders import encoder_feature, entry_point_features
from ..settings import _item
from . import MODELS
from .custom import entry_point_models, estimator_model, keras_model

ENTRY_POINT, SUITE = "entry point", "suite"
_ADDED = {"feature": {}, "model": {}}  # name -> (ENTRY_POINT or SUITE, where), what this module added
KERAS_ONLY = ("window_seconds",)
ESTIMATOR_ONLY = ("grid", "native_multi_label", "deterministic")


def _registry(kind: str) -> dict:
    return FEATURES if kind == "feature" else MODELS


def _clash(kind: str, name: str, source: str) -> str | None:
    """Why ``name`` cannot be registered from ``source`` (None: it can)."""
    added = _ADDED[kind].get(name)
    if added is None and name in _registry(kind):
        return f"{kind} {name!r} is built in; give yours another name"
    if added is not None and added[0] != source:
        return f"{kind} {name!r} is already defined by the {added[0]} {added[1]}; give one another name"
    return None


def _add(kind: str, name: str, spec, *, source: str, where: str) -> None:
    _registry(kind)[name] = spec
    _ADDED[kind][name] = (source, where)


def load_plugins() -> dict:
    """Register the installed entry points' features and models (idempotent: call it before any
    lookup of a name that may come from a plugin).

    Returns
    -------
    dict
        ``{"features": [names], "models": [names]}`` registered from entry points.

    Raises
    ------
    ConfigError
        An entry point that does not load, names no feature or model, or takes a built-in name.
    """
    found = {"feature": entry_point_features(), "model": entry_point_models()}
    for kind, specs in found.items():
        for name, spec in specs.items():
            problem = _clash(kind, name, ENTRY_POINT)
            if problem:
                raise ConfigError(f"entry point {name} (group instrument_bench.{kind}s): {problem}")
            _add(kind, name, spec, source=ENTRY_POINT, where=f"{name} (group instrument_bench.{kind}s)")
    return {"features": list(found["feature"]), "models": list(found["model"])}


def added_models() -> set:
    """Names of the models this module added (entry points and suites)."""
    return set(_ADDED["model"])


def reset_plugins() -> None:
    """Remove every feature and model this module added (entry points and suites)."""
    for kind, added in _ADDED.items():
        for name in added:
            _registry(kind).pop(name, None)
        added.clear()


def _encoder(name: str, table: dict, *, folder: Path):
    keras = table.get("keras")
    if keras is not None and not Path(keras).expanduser().is_absolute():
        keras = folder / keras  # relative to the suite file
    return encoder_feature(name, keras=keras, callable=table.get("callable"),
                           input=table.get("input", "audio"), sample_rate=table.get("sample_rate", 16000),
                           description=table.get("description", ""))


def _model(table: dict):
    if "builder" in table:
        return keras_model(table["builder"], params=table.get("params"), input=table.get("input", "any"),
                           window_seconds=table.get("window_seconds"),
                           description=table.get("description", ""))
    return estimator_model(table["estimator"], grid=table.get("grid"), params=table.get("params"),
                           input=table.get("input", "any"),
                           native_multi_label=table.get("native_multi_label", False),
                           deterministic=table.get("deterministic", False),
                           description=table.get("description", ""))


def _problem(kind: str, table: dict) -> str | None:
    """A table's settings that do not go together (the keys and types are checked on loading)."""
    keys = ("callable", "keras") if kind == "feature" else ("builder", "estimator")
    given = [k for k in keys if k in table]
    if len(given) != 1:
        return f"give one of {keys[0]} = 'module:object' or {keys[1]} = ..." + (", not both" if given else "")
    wrong = ESTIMATOR_ONLY if given == ["builder"] else KERAS_ONLY if given == ["estimator"] else ()
    for key in wrong:
        if key in table:
            return f"{key} goes with {'estimator' if given == ['builder'] else 'builder'}, not {given[0]}"
    return None


def register_suite(suite) -> None:
    """Register a suite's ``[encoders.<name>]`` tables as features and ``[models.<name>]`` tables as
    models, importing the code they name (a relative ``keras`` path is relative to the suite file).

    Raises
    ------
    SuiteError
        Naming the suite file, the table and the key: a module that does not import, an object
        that is not an encoder / builder / estimator, a missing file, settings that do not go
        together, or a name taken by a built-in or an entry point.
    """
    where = suite.source or suite.name
    folder = Path(suite.source).parent if suite.source else Path.cwd()
    tables = [("feature", "encoders", n, t) for n, t in getattr(suite, "encoders", {}).items()]
    tables += [("model", "models", n, t) for n, t in getattr(suite, "models", {}).items()]
    for kind, header, name, table in tables:
        key = next((k for k in ("callable", "keras", "builder", "estimator") if k in table), None)
        problem = _problem(kind, table) or _clash(kind, name, SUITE)
        if problem:
            raise SuiteError(f"{where}: [{header}.{name}]: {problem}")
        try:
            spec = _encoder(name, table, folder=folder) if kind == "feature" else _model(table)
        except InstrumentBenchError as exc:
            raise SuiteError(f"{where}: [{header}.{name}] {_item(key, table[key])}: {exc}") from None
        _add(kind, name, spec, source=SUITE, where=where)
