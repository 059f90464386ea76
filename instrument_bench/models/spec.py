"""What a model is: :class:`ModelSpec`, one entry of the ``MODELS`` registry."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

KINDS = ("classical", "keras")
INPUTS = ("any", "vector", "time-frequency")
BACKEND_LIBRARIES = {"tensorflow": "tensorflow", "jax": "jaxlib", "torch": "torch"}


@dataclass(frozen=True)
class ModelSpec:
    """A model family: how to build it and what it needs.

    Parameters
    ----------
    build : callable
        Classical: ``build(*, seed, n_jobs, **hyper)`` returning an unfitted scikit-learn estimator.
        Keras: ``build(input_shape, n_classes, *, ...)`` returning a ``keras.Model``.
    kind : str
        ``classical`` (grid searched on valid) or ``keras`` (epoch chosen on valid).
    grid : dict
        Classical: the hyperparameter grid searched on the valid split (part of the run key).
    input : str
        ``time-frequency`` for models that need a ``(frames, bins)`` feature, ``any`` otherwise
        (flat features are fed as vectors; time-frequency ones are flattened for classical models).
    window_seconds : float, optional
        Keras models trained on fixed windows of this length, their scores averaged per clip.
    native_multi_label : bool
        Classical models that fit every label of a multi-label task at once (scikit-learn's
        multi-output trees and neighbours, XGBoost); the others are wrapped one-vs-rest.
    deterministic : bool
        The fit does not depend on the seed (logistic regression, SVM, k-NN, chance): fitted once
        per cell, whatever ``seeds`` says, so no spread over seeds is claimed where there is none.
    libraries : tuple of str
        Distributions beyond scikit-learn (classical) or Keras and its backend (Keras) whose
        versions can change the fitted model (:meth:`versioned_libraries`, part of the run key).
    description : str
        One line for ``list``; default: the first line of the builder's (classical) or its
        module's (Keras) docstring.
    features : tuple of str
        The only features the model reads (empty: any that fits its ``input``).
    label_names : bool
        Classical models built with the label map's class names (``classes=``): the zero-shot
        model, which maps tags to families by name.
    """

    build: Callable
    kind: str
    grid: dict = field(default_factory=dict)
    input: str = "any"
    window_seconds: float | None = None
    native_multi_label: bool = False
    deterministic: bool = False
    libraries: tuple = ()
    description: str = ""
    label_names: bool = False
    features: tuple = ()

    def __post_init__(self):
        if self.kind not in KINDS or self.input not in INPUTS:
            raise ValueError(f"ModelSpec: kind must be one of {KINDS}, input one of {INPUTS}")

    @property
    def is_keras(self) -> bool:
        """True for Keras models."""
        return self.kind == "keras"

    @property
    def summary(self) -> str:
        """The one-line description."""
        source = sys.modules[self.build.__module__] if self.is_keras else self.build
        first_paragraph = (inspect.getdoc(source) or "").split("\n\n")[0]
        return self.description or " ".join(first_paragraph.split())

    def versioned_libraries(self) -> tuple:
        """Every distribution whose version can change this model's fit."""
        if not self.is_keras:
            return ("scikit-learn", *self.libraries)
        import keras

        backend = keras.backend.backend()
        return ("keras", BACKEND_LIBRARIES.get(backend, backend), *self.libraries)

    def architecture(self) -> dict:
        """Keyword defaults of a Keras builder (its architecture settings, part of the run key)."""
        return {name: p.default for name, p in inspect.signature(self.build).parameters.items()
                if p.kind is p.KEYWORD_ONLY}
