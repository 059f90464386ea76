"""The tests' suite builder (tests/suites.py) writes TOML that reads back as the dicts it was given."""

import pytest

from instrument_bench.config import load_suite
from tests.suites import experiment, suite_toml, write_suite

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def test_round_trip():
    mlp = experiment("musicnet", tasks=["families"], features=["mfcc-stats"], models=["mlp"],
                     losses=["bce"], top_k=2, threshold=0.25)
    keras = {"epochs": 2, "batch_size": 16, "deterministic": True}
    datasets = {"musicnet": {"valid_fraction": 0.2}, "audio-folder": {"group_by": '^([a-z]+)_"\\'}}
    text = suite_toml(mlp, {"dataset": "gm-mix", "tasks": [], "features": [], "models": []},
                      name="tiny-mix", seeds=2, description="tab\there, é", keras=keras, datasets=datasets)
    assert tomllib.loads(text) == {
        "name": "tiny-mix", "seeds": 2, "description": "tab\there, é", "keras": keras, "datasets": datasets,
        "experiment": [mlp, {"dataset": "gm-mix", "tasks": [], "features": [], "models": []}]}


def test_written_suite_loads(tmp_path):
    path = write_suite(tmp_path / "s.toml", experiment("nsynth", tasks=["family"], features=["mfcc-stats"],
                                                       models=["logreg", "knn"]), name="s", seeds=1)
    suite = load_suite(str(path))
    assert (suite.name, suite.seeds, suite.experiments[0].models) == ("s", 1, ("logreg", "knn"))


def test_unsupported_value_is_refused():
    with pytest.raises(TypeError, match="cannot write NoneType"):
        suite_toml(experiment("nsynth", tasks=["family"], features=["mfcc-stats"], models=["logreg"],
                              top_k=None))
