"""Entry points whose objects are a FeatureSpec and a ModelSpec (an encoder of log-mel input, a
ridge classifier with its grid), made with instrument_bench's own helpers."""

from instrument_bench.features.encoders import encoder_feature
from instrument_bench.models.custom import estimator_model

MEL_STATS = encoder_feature("byo-mel-stats", callable="byo_plugins:embed_mel", input="log-mel")
RIDGE = estimator_model("sklearn.linear_model:RidgeClassifier", grid={"alpha": [0.1, 10.0]},
                        deterministic=True)
