"""Models. ``MODELS`` maps a name to a builder ``build(*, seed, n_jobs, **hyper)``; ``GRIDS`` maps
the same names to the hyperparameter grid searched on the valid split."""

from . import classical

MODELS = {
    "logreg": classical.build_logreg,
    "svm": classical.build_svm,
    "random-forest": classical.build_random_forest,
    "knn": classical.build_knn,
    "xgboost": classical.build_xgboost,
}
GRIDS = dict(classical.GRIDS)
