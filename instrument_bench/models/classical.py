"""Classical baselines: scikit-learn Pipelines with the scaler inside.

Each builder takes the run's seed and hyperparameters as keywords and returns an unfitted
estimator. Each model's small grid is in its ``ModelSpec`` (:data:`instrument_bench.models.MODELS`),
searched on the valid split (fit on train, score on valid, keep the best fitted model; the test
split is not touched).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y


def build_logreg(*, seed: int = 0, n_jobs: int = 1, C: float = 1.0):
    """Multinomial logistic regression on standardised features."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000, random_state=seed))


def build_svm(*, seed: int = 0, n_jobs: int = 1, C: float = 10.0, gamma="scale"):
    """RBF support vector machine on standardised features; scores are one-vs-rest decision values."""
    return make_pipeline(StandardScaler(), SVC(C=C, gamma=gamma, kernel="rbf", random_state=seed))


def build_random_forest(*, seed: int = 0, n_jobs: int = 1, n_estimators: int = 300,
                        max_features="sqrt", min_samples_leaf: int = 1):
    """Random forest (the scaler is a no-op for trees, kept for a uniform contract)."""
    return make_pipeline(StandardScaler(), RandomForestClassifier(
        n_estimators=n_estimators, max_features=max_features, min_samples_leaf=min_samples_leaf,
        random_state=seed, n_jobs=n_jobs))


def build_knn(*, seed: int = 0, n_jobs: int = 1, n_neighbors: int = 5, weights: str = "distance"):
    """k-nearest neighbours on standardised features (deterministic: the seed is unused)."""
    return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=n_neighbors,
                                                                weights=weights, n_jobs=n_jobs))


def build_xgboost(*, seed: int = 0, n_jobs: int = 1, n_estimators: int = 300, max_depth: int = 6,
                  learning_rate: float = 0.1, subsample: float = 0.8):
    """Gradient-boosted trees (XGBoost, histogram method)."""
    from xgboost import XGBClassifier

    return make_pipeline(StandardScaler(), XGBClassifier(
        n_estimators=n_estimators, max_depth=max_depth, learning_rate=learning_rate,
        subsample=subsample, colsample_bytree=0.8, tree_method="hist", random_state=seed,
        n_jobs=n_jobs, verbosity=0))


def build_openmic_rf(*, seed: int = 0, n_jobs: int = 1):
    """OpenMIC-2018's official baseline: a random forest of 100 trees of depth 8 (per label on a
    multi-label task), no search."""
    return make_pipeline(StandardScaler(), RandomForestClassifier(
        n_estimators=100, max_depth=8, random_state=seed, n_jobs=n_jobs))


def build_chance(*, seed: int = 0, n_jobs: int = 1):
    """Chance: the train split's class priors for every clip (scikit-learn's DummyClassifier,
    ``prior``; per label on multi-label tasks), the row every other row is read against."""
    return make_pipeline(StandardScaler(), DummyClassifier(strategy="prior"))


def _positive_scores(estimator, X) -> np.ndarray:
    """Probability (or sigmoid of the decision value) of class 1 from a fitted binary classifier."""
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
        classes = list(estimator.classes_)
        return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(X))
    return expit(np.asarray(estimator.decision_function(X), dtype=np.float64))


class PerLabel(ClassifierMixin, BaseEstimator):
    """One binary classifier per label, each fitted on the rows where that label is known.

    For multi-label targets with unknown entries (-1; OpenMIC-2018's unannotated labels), as the
    dataset's official baseline fits one model per instrument on its annotated clips. A label
    whose known rows hold one class only predicts that class.

    Parameters
    ----------
    estimator : estimator
        The binary classifier, cloned per label.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, Y):
        """Fit one clone per column of ``Y`` on its rows with ``Y >= 0``; returns self.

        Raises
        ------
        ValueError
            ``X`` or ``Y`` is empty or non-finite, their lengths differ, ``Y`` is not 2-d, or
            ``Y`` holds a value other than -1 (unknown), 0 and 1.
        """
        if np.ndim(Y) != 2:
            raise ValueError(f"PerLabel takes a 2-d Y (one column per label, -1 = unknown); got "
                             f"{np.ndim(Y)}-d")
        X, Y = check_X_y(X, Y, multi_output=True)
        if not np.isin(Y, (-1, 0, 1)).all():
            raise ValueError("PerLabel's Y holds -1 (unknown), 0 and 1 only")
        self.n_features_in_ = X.shape[1]
        self.estimators_ = []
        for j in range(Y.shape[1]):
            rows = Y[:, j] >= 0
            y = Y[rows, j]
            if len(np.unique(y)) < 2:
                self.estimators_.append(float(y[0]) if len(y) else 0.0)
            else:
                self.estimators_.append(clone(self.estimator).fit(X[rows], y))
        self.classes_ = np.arange(Y.shape[1])
        return self

    def predict_proba(self, X) -> np.ndarray:
        """``(n, labels)`` probability of each label."""
        check_is_fitted(self, "estimators_")
        X = check_array(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features; PerLabel was fitted on {self.n_features_in_}")
        return np.stack([np.full(len(X), e) if isinstance(e, float) else _positive_scores(e, X)
                         for e in self.estimators_], axis=1)

    def predict(self, X) -> np.ndarray:
        """``(n, labels)`` 0/1 at probability 0.5."""
        return (self.predict_proba(X) >= 0.5).astype(np.int64)

