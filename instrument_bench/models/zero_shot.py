"""``zero-shot``: musicnn's MagnaTagATune tags read as instrument families, with no training.

A reference row for the pretrained embeddings: on the ``musicnn-mtt-tags`` feature (the 50 tag
probabilities of musicnn's MTT model, averaged over a clip's patches), each family's score is the
highest probability among the tags that name it (``TAG_FAMILIES``); nothing is learnt from the
training split, which only tells the model which families the task has. Families no MTT tag names
(bass, brass, mallet, organ, reed) score 0, so the row can only ever recognise six of NSynth's 11.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline

# MagnaTagATune tags that name an instrument family (the other tags: genre, mood, tempo, "no vocals")
TAG_FAMILIES = {
    "guitar": "guitar", "sitar": "guitar", "strings": "string", "violin": "string", "cello": "string",
    "harp": "string", "piano": "keyboard", "harpsichord": "keyboard", "flute": "flute",
    "synth": "synth_lead", "vocal": "vocal", "vocals": "vocal", "singing": "vocal", "female": "vocal",
    "male": "vocal", "woman": "vocal", "man": "vocal", "male vocal": "vocal", "female vocal": "vocal",
    "male voice": "vocal", "female voice": "vocal", "voice": "vocal", "choir": "vocal",
    "choral": "vocal", "opera": "vocal",
}


class ZeroShotFamilies(ClassifierMixin, BaseEstimator):
    """Family scores from tag probabilities: the max over each family's tags (no parameters learnt).

    Parameters
    ----------
    classes : tuple of str
        The family of each output column (the task's label map).
    tags : tuple of str
        The tag of each input column (default: musicnn's 50 MTT tags).
    """

    def __init__(self, classes=(), tags=()):
        self.classes = classes
        self.tags = tags

    def fit(self, X, y):
        """Check the input is the tag probabilities and map each class to its tags' columns."""
        tags = list(self.tags)
        if not tags:
            from ..features.musicnn import tag_names

            tags = list(tag_names("MTT_musicnn"))
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != len(tags):
            raise ValueError(f"zero-shot reads the {len(tags)} musicnn tag probabilities "
                             f"(feature musicnn-mtt-tags), got {X.shape[1:]} values per clip")
        y = np.asarray(y)
        self.n_outputs_ = y.shape[1] if y.ndim == 2 else 1
        self.classes_ = np.arange(len(self.classes)) if y.ndim == 1 else np.array([0, 1])
        self.columns_ = [[k for k, tag in enumerate(tags) if TAG_FAMILIES.get(tag) == family]
                         for family in self.classes]
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X) -> np.ndarray:
        """``(clips, classes)``: each family's highest tag probability (0 for a family no tag names)."""
        X = np.asarray(X, dtype=np.float64)
        return np.stack([X[:, cols].max(axis=1) if cols else np.zeros(len(X)) for cols in self.columns_],
                        axis=1)

    def predict(self, X) -> np.ndarray:
        """The best family (single-label) or every family scoring 0.5 or more (multi-label)."""
        scores = self.predict_proba(X)
        return scores.argmax(axis=1) if self.n_outputs_ == 1 else (scores >= 0.5).astype(int)


def build_zero_shot(*, seed: int = 0, n_jobs: int = 1, classes=()) -> Pipeline:
    """musicnn's tags read as families, nothing learnt (``seed`` and ``n_jobs`` are unused)."""
    return Pipeline([("zero-shot", ZeroShotFamilies(classes=tuple(classes)))])
