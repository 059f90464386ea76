"""Suite files are checked up front: every key and value, with one message naming the file, the
key, the value and what is allowed (exit status 2), before any dataset is read."""

from __future__ import annotations

import re

import pytest

from instrument_bench.cli import main
from instrument_bench.config import Experiment, RunOptions, TrainConfig, list_suites, load_suite
from instrument_bench.datasets import DATASETS
from instrument_bench.errors import ConfigError, SuiteError
from instrument_bench.settings import AGGREGATES, EXPERIMENT_RULES, KERAS_RULES, check_dataset_options
from tests.suites import experiment, suite_toml, write_suite

FOLDER = experiment("audio-folder", tasks=["label"], features=["mfcc-stats"], models=["logreg"])


def _suite(tmp_path, text: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


def _refused(path, message: str):
    with pytest.raises(SuiteError, match=re.escape(f"{path}: {message}")):
        load_suite(str(path))


def test_unknown_top_level_keys_and_tables(tmp_path):
    path = _suite(tmp_path, "seed = 2\n" + suite_toml(FOLDER))
    _refused(path, "unknown keys seed = 2 (did you mean 'seeds'?); valid: name, description, seeds, keras, "
                   "datasets, experiment")
    path = _suite(tmp_path, suite_toml(FOLDER) + '[dataset.audio-folder]\ngroup_by = "^(.)"\n')
    _refused(path, "unknown keys [dataset.audio-folder] (did you mean 'datasets'?); valid: name, "
                   "description, seeds, keras, datasets, experiment")
    path = _suite(tmp_path, suite_toml(FOLDER) + '[datasets]\ngroup_by = "^(.)"\n')
    _refused(path, "[datasets] group_by = '^(.)': must be tables [datasets.<dataset>] of each dataset's "
                   "options")
    path = _suite(tmp_path, 'name = "x"\n[experiment]\ndataset = "audio-folder"\n')
    _refused(path, "[experiment] dataset = 'audio-folder': must be [[experiment]] blocks (an array of "
                   "tables)")


@pytest.mark.parametrize("top, message", [
    ({"seeds": 0}, "seeds = 0: must be a whole number of at least 1"),
    ({"seeds": -2}, "seeds = -2: must be a whole number of at least 1"),
    ({"seeds": "three"}, "seeds = 'three': must be a whole number of at least 1"),
    ({"seeds": 2.5}, "seeds = 2.5: must be a whole number of at least 1"),
    ({"seeds": True}, "seeds = true: must be a whole number of at least 1"),
    ({"name": 3}, "name = 3: must be a string"),
    ({"description": ["a"]}, "description = ['a']: must be a string"),
])
def test_bad_top_level_values(tmp_path, top, message):
    _refused(_suite(tmp_path, suite_toml(FOLDER, **top)), message)


@pytest.mark.parametrize("block, message", [
    ({"tasks": "label"}, "experiment 1: tasks = 'label': must be a list of names, like tasks = ['label']"),
    ({"models": []}, "experiment 1: models = []: must be a list of names, at least one"),
    ({"features": ["mfcc-stats", 3]}, "experiment 1: features = ['mfcc-stats', 3]: must be a list of "
                                      "names, at least one"),
    ({"dataset": ["audio-folder"]}, "experiment 1: dataset = ['audio-folder']: must be a dataset name "
                                    "(a string)"),
    ({"losses": "bce"}, "experiment 1: losses = 'bce': must be a list of names, like losses = ['bce']"),
    ({"predictors": [""]}, "experiment 1: predictors = ['']: must be a list of names"),
    ({"top_k": 0}, "experiment 1: top_k = 0: must be a whole number of at least 1"),
    ({"top_k": 2.0}, "experiment 1: top_k = 2.0: must be a whole number of at least 1"),
    ({"threshold": 0}, "experiment 1: threshold = 0: must be a number between 0 and 1, exclusive"),
    ({"threshold": 1.0}, "experiment 1: threshold = 1.0: must be a number between 0 and 1, exclusive"),
    ({"threshold": "0.5"}, "experiment 1: threshold = '0.5': must be a number between 0 and 1, exclusive"),
])
def test_bad_experiment_values(tmp_path, block, message):
    _refused(_suite(tmp_path, suite_toml({**FOLDER, **block})), message)


@pytest.mark.parametrize("keras, message", [
    ({"epochs": 0}, "[keras] epochs = 0: must be a whole number of at least 1"),
    ({"patience": "3"}, "[keras] patience = '3': must be a whole number of at least 1"),
    ({"batch_size": 1.5}, "[keras] batch_size = 1.5: must be a whole number of at least 1"),
    ({"learning_rate": 0}, "[keras] learning_rate = 0: must be a number above 0"),
    ({"learning_rate": "fast"}, "[keras] learning_rate = 'fast': must be a number above 0"),
    ({"class_weight": 1}, "[keras] class_weight = 1: must be true or false"),
    ({"deterministic": "yes"}, "[keras] deterministic = 'yes': must be true or false"),
    ({"aggregate": "median"}, "[keras] aggregate = 'median': must be one of mean, max"),
    ({"epoch": 3}, "[keras] unknown keys epoch = 3 (did you mean 'epochs'?); valid: epochs, patience, "
                   "batch_size, learning_rate, class_weight, deterministic, aggregate"),
])
def test_bad_keras_values(tmp_path, keras, message):
    _refused(_suite(tmp_path, suite_toml(FOLDER, keras=keras)), message)


def test_every_problem_is_named_in_one_message(tmp_path):
    path = _suite(tmp_path, "seed = 2\n" + suite_toml({**FOLDER, "top_k": 0}, seeds=0, keras={"epochs": -1}))
    with pytest.raises(SuiteError) as caught:
        load_suite(str(path))
    text = str(caught.value)
    assert text.startswith(f"{path}: ") and text.count(str(path)) == 1
    for part in ("unknown keys seed = 2", "seeds = 0", "[keras] epochs = -1",
                 "experiment 1: top_k = 0"):
        assert part in text


def test_good_values_load(tmp_path):
    block = {**FOLDER, "losses": ["bce"], "predictors": ["top-k"], "top_k": 2, "threshold": 0.25}
    keras = {"epochs": 2, "patience": 1, "batch_size": 8, "learning_rate": 1, "class_weight": True,
             "deterministic": False, "aggregate": "max"}
    suite = load_suite(str(write_suite(tmp_path / "s.toml", block, seeds=2, keras=keras,
                                       datasets={"audio-folder": {"window_seconds": 2}})))
    assert (suite.seeds, suite.experiments[0].top_k, suite.experiments[0].threshold) == (2, 2, 0.25)
    assert TrainConfig(**suite.keras).learning_rate == 1.0
    assert suite.source == str(tmp_path / "s.toml")
    for name in list_suites():  # the shipped suites pass every check
        check_dataset_options(load_suite(name), DATASETS)


def test_the_checks_cover_every_setting():
    from instrument_bench.protocol.groups import AGGREGATES as PROTOCOL_AGGREGATES

    assert set(KERAS_RULES) == set(TrainConfig.__dataclass_fields__)
    assert set(EXPERIMENT_RULES) == set(Experiment.__dataclass_fields__)
    assert AGGREGATES == PROTOCOL_AGGREGATES  # config sits below protocol; the two must agree


def test_dataset_tables_are_checked_against_the_registry(tmp_path):
    def refused(datasets, message):
        suite = load_suite(str(write_suite(tmp_path / "d.toml", FOLDER, datasets=datasets)))
        with pytest.raises(SuiteError, match=re.escape(f"{tmp_path / 'd.toml'}: {message}")):
            check_dataset_options(suite, DATASETS)

    refused({"audio-foldr": {"root": "x"}}, "[datasets.audio-foldr]: unknown dataset 'audio-foldr'; valid "
                                            "datasets: ")
    refused({"audio-folder": {"window": 2}}, "[datasets.audio-folder] window = 2: not an option of "
                                             "audio-folder; valid: root, group_by, window_seconds, ")
    refused({"audio-folder": {"window_seconds": "2"}}, "[datasets.audio-folder] window_seconds = '2': "
                                                       "must be a number")
    refused({"audio-folder": {"jobs": 2}}, "[datasets.audio-folder] jobs = 2: not an option of audio-folder")
    refused({"nsynth": {"root": "x", "hop": 1}}, "[datasets.nsynth] hop = 1: not an option of nsynth; "
                                                 "valid: root")
    suite = load_suite(str(write_suite(tmp_path / "ok.toml", FOLDER, datasets={
        "audio-folder": {"root": "x", "group_by": "^(.)", "window_seconds": 2, "hop_seconds": 1.5},
        "gm-mix": {"anything": 1}})))  # a loader taking **options checks its own
    check_dataset_options(suite, DATASETS)


def test_structural_problems_stay_config_errors(tmp_path):
    path = _suite(tmp_path, "[[experiment]]\ndataset = 'gm-notes'\n")
    with pytest.raises(ConfigError, match="experiment 1 lacks tasks, features, models"):
        load_suite(str(path))


def test_bad_suite_and_seeds_exit_2_before_any_work(tmp_path, capsys):
    nowhere = ["--data-root", str(tmp_path / "nowhere"), "--results", str(tmp_path / "r"), "-q"]
    bad = _suite(tmp_path, "seed = 2\n" + suite_toml(FOLDER))
    assert main(["run", str(bad), *nowhere]) == 2
    assert f"instrument-bench: error: {bad}: unknown keys seed = 2" in capsys.readouterr().err
    good = write_suite(tmp_path / "good.toml", FOLDER)
    assert main(["run", str(good), "--seeds", "0", *nowhere]) == 2
    assert "seeds = 0: must be a whole number of at least 1" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
    with pytest.raises(SuiteError, match="seeds = -1"):
        RunOptions(seeds=-1)
