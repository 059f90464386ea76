"""Bring your own model: a :class:`~.spec.ModelSpec` from a Keras builder or a scikit-learn
estimator, and the models of the ``instrument_bench.models`` entry points.

A Keras builder is ``build(input_shape, n_classes, **params) -> keras.Model`` (compiled or not; the
training code compiles it) and should take ``activation``, the output layer's activation (softmax,
or sigmoid on multi-label tasks). An estimator is a scikit-learn classifier class or a factory
returning one, searched over its ``grid`` on the valid split like the built-in models; it gets
``random_state=seed`` and ``n_jobs`` where it takes them and, unless it is a Pipeline already, a
``StandardScaler`` in front. Each model's ``code`` (``module:object`` and the sha256 of its
module's source file) is part of its run key, so editing the code recomputes its cells.
"""

from __future__ import annotations

import inspect
from importlib import metadata

from ..errors import ConfigError, InstrumentBenchError
from ..features.encoders import import_object, one_line, source_digest
from .spec import ModelSpec

GROUP = "instrument_bench.models"


def _resolve(obj):
    """``(object, "module:object")`` from an object or its ``module:object`` string."""
    if isinstance(obj, str):
        return import_object(obj, error=ConfigError), obj
    return obj, f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', type(obj).__name__)}"


def code_of(obj, target: str) -> str:
    """``module:object sha256:<16 hex digits of its module's source file>``."""
    return f"{target} sha256:{source_digest(obj)[:16]}"


def _first_line(obj) -> str:
    return " ".join((inspect.getdoc(obj) or "").split("\n\n")[0].split())


class KerasBuilder:
    """A user's Keras builder as the training code calls it: ``params`` bound, ``activation`` passed
    only where the builder takes it, and a signature whose keyword defaults (the architecture in
    the run key) hold the bound values and the builder's ``code``."""

    def __init__(self, build, *, target: str, params=None):
        self.build, self.target, self.params = build, target, dict(params or {})
        signature = inspect.signature(build)
        named = list(signature.parameters.values())
        if len([p for p in named if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]) < 2:
            raise ConfigError("a Keras builder takes (input_shape, n_classes, **params)")
        takes_any = any(p.kind is p.VAR_KEYWORD for p in named)
        self.takes_activation = takes_any or "activation" in signature.parameters
        unknown = [k for k in self.params if k not in signature.parameters and not takes_any]
        if unknown:
            raise ConfigError(f"params {', '.join(unknown)}: not arguments of the builder")
        keywords = {p.name: self.params.get(p.name, p.default) for p in named[2:]
                    if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        missing = [k for k, v in keywords.items() if v is inspect.Parameter.empty]
        if missing:
            raise ConfigError(f"builder argument(s) {', '.join(missing)} have no default; "
                              "give them in params")
        keywords.update({k: v for k, v in self.params.items() if k not in keywords})
        keywords["code"] = code_of(build, target)
        first = [p.replace(kind=p.POSITIONAL_OR_KEYWORD, default=p.empty) for p in named[:2]]
        self.__signature__ = inspect.Signature(first + [
            inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in keywords.items()])
        self.__module__ = build.__module__  # ModelSpec.summary reads the module's docstring
        self.__doc__ = build.__doc__

    def __call__(self, input_shape, n_classes, **kwargs):
        import keras

        kwargs = {**self.params, **kwargs}
        if not self.takes_activation:
            kwargs.pop("activation", None)
        model = self.build(input_shape, n_classes, **kwargs)
        if not isinstance(model, keras.Model):
            raise ConfigError(f"Keras builder {self.target} returned a {type(model).__name__}, "
                              "not a keras.Model")
        return model


class EstimatorBuilder:
    """A user's estimator class or factory as a classical builder ``build(*, seed, n_jobs, **hyper)``
    returning a Pipeline (a ``StandardScaler`` in front unless it is one already)."""

    def __init__(self, factory, *, target: str, params=None):
        self.factory, self.target, self.params = factory, target, dict(params or {})
        try:
            self.takes = set(inspect.signature(factory).parameters)
        except (TypeError, ValueError):
            self.takes = set()
        self.__doc__ = factory.__doc__

    def __call__(self, *, seed: int = 0, n_jobs: int = 1, code: str = "", **hyper):
        from sklearn.pipeline import Pipeline, make_pipeline
        from sklearn.preprocessing import StandardScaler

        kwargs = {**self.params, **hyper}
        for name, value in (("random_state", seed), ("n_jobs", n_jobs)):
            if name in self.takes and name not in kwargs:
                kwargs[name] = value
        estimator = self.factory(**kwargs)
        if not hasattr(estimator, "fit"):
            raise ConfigError(f"estimator {self.target} gave a {type(estimator).__name__}, "
                              "which has no fit()")
        return estimator if isinstance(estimator, Pipeline) else make_pipeline(StandardScaler(), estimator)


def keras_model(builder, *, params=None, input: str = "any", window_seconds: float | None = None,
                description: str = "") -> ModelSpec:
    """A Keras model from its builder (a function or ``module:function``).

    Parameters
    ----------
    builder : callable or str
        ``build(input_shape, n_classes, **params) -> keras.Model``.
    params : dict, optional
        Keyword arguments bound for every build (part of the run key).
    input : str
        ``any`` or ``time-frequency`` (the model needs a ``(frames, bins)`` feature).
    window_seconds : float, optional
        Train on windows of this length, clip scores averaged over them.

    Raises
    ------
    ConfigError
        The builder does not import, is not a builder, or ``params`` do not fit it.
    """
    build, target = _resolve(builder)
    wrapped = KerasBuilder(build, target=target, params=params)
    return ModelSpec(wrapped, kind="keras", input=input, window_seconds=window_seconds,
                     description=description or _first_line(build) or f"Keras builder {target}")


def estimator_model(estimator, *, grid=None, params=None, input: str = "any",
                    native_multi_label: bool = False, deterministic: bool = False,
                    description: str = "") -> ModelSpec:
    """A classical model from a scikit-learn estimator class or factory (or its ``module:object``).

    Parameters
    ----------
    estimator : type, callable or str
        Called with the grid point's and ``params``' keywords (and ``random_state``, ``n_jobs``
        where it takes them); returns an unfitted classifier.
    grid : dict, optional
        ``{parameter: [values]}`` searched on the valid split.
    params : dict, optional
        Fixed keyword arguments.
    native_multi_label, deterministic : bool
        As :class:`~.spec.ModelSpec`'s.

    Raises
    ------
    ConfigError
        The estimator does not import or is not callable.
    """
    factory, target = _resolve(estimator)
    if not callable(factory):
        raise ConfigError(f"{target}: a {type(factory).__name__} is not an estimator class or factory")
    grid = {k: list(v) for k, v in (grid or {}).items()}
    grid["code"] = [code_of(factory, target)]  # one value: no extra fit, in the run key
    return ModelSpec(EstimatorBuilder(factory, target=target, params=params), kind="classical", grid=grid,
                     input=input, native_multi_label=native_multi_label, deterministic=deterministic,
                     description=description or _first_line(factory) or f"estimator {target}")


def is_keras_builder(obj) -> bool:
    """A function taking ``(input_shape, n_classes)`` without defaults (not a class): a builder."""
    if inspect.isclass(obj):
        return False
    try:
        named = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in named if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.default is p.empty]
    return len(positional) >= 2


def model_from_object(obj, *, target: str) -> ModelSpec:
    """An entry point's object as a model: a ModelSpec, a Keras builder (a function of
    ``(input_shape, n_classes, ...)``) or an estimator class or factory (``target``: its
    ``module:object``)."""
    if isinstance(obj, ModelSpec):
        return obj
    if not callable(obj):
        raise ConfigError(f"a {type(obj).__name__}, not a ModelSpec, a Keras builder or an estimator")
    return keras_model(target) if is_keras_builder(obj) else estimator_model(target)


def entry_point_models() -> dict:
    """``{name: ModelSpec}`` of the ``instrument_bench.models`` entry points installed.

    Raises
    ------
    ConfigError
        An entry point that does not load or names no model.
    """
    out = {}
    for ep in metadata.entry_points(group=GROUP):
        where = f"entry point {ep.name} = {ep.value} (group {GROUP})"
        try:
            out[ep.name] = model_from_object(ep.load(), target=f"{ep.module}:{ep.attr}")
        except InstrumentBenchError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        except Exception as exc:
            raise ConfigError(f"{where}: cannot load ({one_line(exc)})") from None
    return out
