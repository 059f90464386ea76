"""Models. ``MODELS`` maps a name to its builder: classical builders ``build(*, seed, n_jobs, **hyper)``
return scikit-learn estimators; Keras builders ``build(input_shape, n_classes, **hyper)`` return
``keras.Model``. ``GRIDS`` holds the hyperparameter grid of each classical model, searched on the
valid split; Keras models are selected on the valid split by early stopping.
"""

from . import classical
from .keras import KERAS_MODELS, TIME_FREQUENCY, WINDOW_SECONDS

CLASSICAL_MODELS = {
    "logreg": classical.build_logreg,
    "svm": classical.build_svm,
    "random-forest": classical.build_random_forest,
    "knn": classical.build_knn,
    "xgboost": classical.build_xgboost,
    "openmic-rf": classical.build_openmic_rf,
}
MODELS = {**CLASSICAL_MODELS, **KERAS_MODELS}
GRIDS = dict(classical.GRIDS)

__all__ = ["CLASSICAL_MODELS", "GRIDS", "KERAS_MODELS", "MODELS", "TIME_FREQUENCY", "WINDOW_SECONDS"]
