"""Models. ``MODELS`` maps a name to its :class:`~.spec.ModelSpec`: the builder, the kind
(classical / keras), the grid searched on the valid split, the input it takes, the window it is
trained on and whether it fits multi-label targets natively. Adding a model is a builder plus one
line here. :mod:`.fitting` builds, fits, selects and scores both kinds.
"""

from . import classical, zero_shot
from .keras import cnn, crnn, mlp, resnet, transformer, vgg
from .spec import ModelSpec

TF = "time-frequency"

MODELS = {
    "chance": ModelSpec(classical.build_chance, kind="classical", deterministic=True,
                        native_multi_label=True),
    "logreg": ModelSpec(classical.build_logreg, kind="classical", grid={"C": [0.1, 1.0, 10.0]},
                        deterministic=True),
    "svm": ModelSpec(classical.build_svm, kind="classical", grid={"C": [1.0, 10.0, 100.0]},
                     deterministic=True),
    "random-forest": ModelSpec(classical.build_random_forest, kind="classical", native_multi_label=True,
                               grid={"min_samples_leaf": [1, 3], "max_features": ["sqrt", 0.3]}),
    "knn": ModelSpec(classical.build_knn, kind="classical", grid={"n_neighbors": [1, 5, 15]},
                     native_multi_label=True, deterministic=True),
    "xgboost": ModelSpec(classical.build_xgboost, kind="classical", grid={"max_depth": [3, 6]},
                         native_multi_label=True, libraries=("xgboost",)),
    "openmic-rf": ModelSpec(classical.build_openmic_rf, kind="classical"),
    "zero-shot": ModelSpec(zero_shot.build_zero_shot, kind="classical", deterministic=True,
                           native_multi_label=True, label_names=True, libraries=("musicnn",),
                           features=("musicnn-mtt-tags",)),
    "mlp": ModelSpec(mlp.build_mlp, kind="keras"),
    "cnn": ModelSpec(cnn.build_cnn, kind="keras", input=TF),
    "vgg": ModelSpec(vgg.build_vgg, kind="keras", input=TF),
    "crnn-attention": ModelSpec(crnn.build_crnn_attention, kind="keras", input=TF, window_seconds=3.0),
    "transformer": ModelSpec(transformer.build_transformer, kind="keras", input=TF),
    "resnet18": ModelSpec(resnet.build_resnet18, kind="keras", input=TF),
}

__all__ = ["MODELS", "ModelSpec"]
