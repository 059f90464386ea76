"""Multi-label runs end to end on a tiny gm-mix render read as MusicNet: classical and Keras models,
losses and predictors as result columns, per-class AP, resume, saved models, bad settings."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from instrument_bench.cli import main
from instrument_bench.config import TrainConfig, load_suite
from instrument_bench.errors import ConfigError
from instrument_bench.protocol.metrics import MULTI_LABEL_METRICS
from instrument_bench.protocol.predictors import MULTI_LABEL_PREDICTORS
from tests.suites import experiment, write_suite

SETTINGS = {"name": "tiny-mix", "seeds": 1, "keras": {"epochs": 2, "patience": 1, "batch_size": 16},
            "datasets": {"musicnet": {"valid_fraction": 0.2}}}
CLASSICAL = experiment("musicnet", tasks=["families"], features=["mfcc-stats"],
                       models=["logreg", "xgboost", "random-forest", "svm"])
MLP = experiment("musicnet", tasks=["families"], features=["mfcc-stats"], models=["mlp"],
                 losses=["bce", "balanced"], predictors=["threshold", "top-k"], top_k=2)


def test_multi_label_suite_end_to_end(tiny_mix_root, bench_home, tmp_path, capsys):
    suite = write_suite(tmp_path / "mix.toml", CLASSICAL, MLP, **SETTINGS)
    res = tmp_path / "results"
    args = ["run", str(suite), "--data-root", str(tiny_mix_root), "--results", str(res), "-q"]
    assert main(args) == 0, capsys.readouterr().err
    assert "6 cells computed" in capsys.readouterr().out
    runs = pd.read_csv(res / "runs.csv")
    classical = runs[runs["model"] != "mlp"]
    assert len(classical) == 4 * len(MULTI_LABEL_PREDICTORS) and set(classical["loss"]) == {"-"}
    assert set(classical["predictor"]) == set(MULTI_LABEL_PREDICTORS)
    mlp = runs[runs["model"] == "mlp"]
    assert sorted(zip(mlp["loss"], mlp["predictor"])) == [
        ("balanced", "threshold"), ("balanced", "top-k"), ("bce", "threshold"), ("bce", "top-k")]
    assert set(runs["status"]) == {"ok"} and runs["run_key"].is_unique
    assert set(MULTI_LABEL_METRICS) <= set(runs)
    assert runs["macro_f1"].between(0, 1).all() and (runs["fp_per_clip"] >= 0).all()
    assert (runs["task_kind"] == "multi-label").all() and runs["split_hash"].nunique() == 1
    # one fit, one row per predictor: the same model, the same threshold-free metrics
    for _, group in runs.groupby("model_key"):
        assert group["map"].nunique() == 1 and group["fit_seconds"].nunique() == 1
    top = mlp[mlp["predictor"] == "top-k"]
    assert (top["fp_per_clip"] >= 0).all() and json.loads(top["predictor_params"].iloc[0]) == {"k": 2}
    tuned = json.loads(classical[classical["predictor"] == "class-thresholds"]["predictor_params"].iloc[0])
    assert len(tuned["threshold"]) == len(json.loads(classical["label_map"].iloc[0]))

    board = pd.read_csv(res / "leaderboard.csv")
    assert len(board) == len(runs) and list(board["rank"]) == list(range(1, len(board) + 1))
    assert board["macro_f1_mean"].is_monotonic_decreasing
    per_class = pd.read_csv(res / "per_class.csv")
    assert {"average_precision", "precision", "recall", "f1", "support", "predictor"} <= set(per_class)
    assert set(per_class["run_key"]) == set(runs["run_key"])

    manifests = [json.loads(p.read_text()) for p in sorted((res / "models").glob("*/manifest.json"))]
    manifest = next(m for m in manifests if m["model"] == "mlp")  # the Keras model's (folders: hashes)
    assert manifest["task_kind"] == "multi-label" and set(manifest["predictors"]) == {"threshold", "top-k"}
    model = keras.saving.load_model(res / "models" / manifest["model_key"] / "model.keras")
    scores = model.predict(np.zeros((2, *model.input_shape[1:]), "float32"), verbose=0)
    assert scores.shape[1] == len(manifest["label_map"]) and ((0 <= scores) & (scores <= 1)).all()

    assert main(args) == 0  # a rerun computes nothing
    assert "0 cells computed, 6 reused" in capsys.readouterr().out


def test_single_label_predictor_on_multi_label_task_fails_the_cell(tiny_mix_root, bench_home, tmp_path,
                                                                   capsys):
    argmax = experiment("musicnet", tasks=["families"], features=["mfcc-stats"], models=["logreg"],
                        predictors=["argmax"])
    suite = write_suite(tmp_path / "bad.toml", argmax, **SETTINGS)
    code = main(["run", str(suite), "--data-root", str(tiny_mix_root), "--results", str(tmp_path / "r"),
                 "-q"])
    assert code == 1
    assert "predictor 'argmax' is for single-label tasks" in capsys.readouterr().err
    runs = pd.read_csv(tmp_path / "r" / "runs.csv")
    assert list(runs["status"]) == ["failed"]


def test_unknown_loss_predictor_or_experiment_key(tmp_path, capsys):
    suite = tmp_path / "s.toml"
    for block, message in (({"losses": ["hinge"]}, "unknown loss 'hinge'"),
                           ({"predictors": ["top-2"]}, "unknown predictor 'top-2'")):
        write_suite(suite, experiment("musicnet", tasks=["families"], features=["mfcc-stats"],
                                      models=["mlp"], **block), **SETTINGS)
        assert main(["run", str(suite), "--results", str(tmp_path / "r")]) == 2
        assert message in capsys.readouterr().err
    write_suite(suite, experiment("gm-mix", tasks=[], features=[], models=[], lossses=["bce"]), **SETTINGS)
    with pytest.raises(ConfigError, match="unknown keys lossses"):
        load_suite(str(suite))


def test_train_config_aggregate_is_validated():
    from instrument_bench.protocol.groups import aggregate_windows

    assert TrainConfig().aggregate == "mean"
    with pytest.raises(ConfigError, match="unknown aggregate 'median'"):
        aggregate_windows(np.zeros((2, 2)), np.array([0, 1]), n_clips=2, aggregate="median")
