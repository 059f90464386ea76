"""Predictors: turn a model's class scores into labels."""

from __future__ import annotations

import numpy as np


def argmax(scores: np.ndarray) -> np.ndarray:
    """Single-label prediction: the index of the highest score in each row."""
    return np.asarray(scores).argmax(axis=1)


PREDICTORS = {"argmax": argmax}
