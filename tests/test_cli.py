"""The command line end to end on a tiny rendered NSynth tree: run, resume, force, errors, list."""

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from instrument_bench import results
from instrument_bench.cli import main
from tests.suites import experiment, write_suite

NSYNTH = experiment("nsynth", tasks=["family"], features=["mfcc-stats", "nsynth-attributes"],
                    models=["logreg", "random-forest"])


@pytest.fixture()
def suite(tmp_path):
    return write_suite(tmp_path / "tiny.toml", NSYNTH, name="tiny", seeds=2)


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_run_writes_results_and_resumes(suite, tiny_data_root, bench_home, tmp_path, capsys):
    res = tmp_path / "results"
    args = ["run", str(suite), "--data-root", str(tiny_data_root), "--results", str(res), "--jobs", "2"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    runs = pd.read_csv(res / "runs.csv")
    # 2 features x (random-forest, 2 seeds + logreg, deterministic: fitted once)
    assert len(runs) == 2 * (2 + 1) and set(runs["status"]) == {"ok"}
    assert runs["split_hash"].nunique() == 1  # the same split for every model
    assert {"accuracy", "balanced_accuracy", "macro_f1", "micro_f1", "fit_seconds",
            "predict_ms_per_clip", "model_bytes", "best_params", "versions", "git_commit",
            "utc_time"} <= set(runs)
    assert runs["macro_f1"].between(0, 1).all()
    board = pd.read_csv(res / "leaderboard.csv")
    assert len(board) == 4 and list(board["rank"]) == [1, 2, 3, 4]
    assert board["macro_f1_mean"].is_monotonic_decreasing
    assert dict(zip(board["model"], board["n_seeds"])) == {"random-forest": 2, "logreg": 1}
    per_class = pd.read_csv(res / "per_class.csv")
    assert len(per_class) == 6 * 3 and set(per_class["run_key"]) == set(runs["run_key"])  # 3 families
    assert "6 cells computed" in out

    stamp = (res / "runs.csv").stat().st_mtime_ns
    code, out, _ = run(args, capsys)  # a rerun: nothing to compute
    assert code == 0 and "0 cells computed, 6 reused" in out
    assert (res / "runs.csv").stat().st_mtime_ns == stamp

    code, out, _ = run([*args, "--force", "--models", "logreg", "--seeds", "1"], capsys)
    assert code == 0 and "2 cells computed" in out
    assert len(pd.read_csv(res / "runs.csv")) == 6  # replaced, not duplicated


def test_same_seed_gives_same_metrics(suite, tiny_data_root, bench_home, tmp_path, capsys):
    for name in ("a", "b"):
        assert main(["run", str(suite), "--data-root", str(tiny_data_root), "--results",
                     str(tmp_path / name), "--models", "random-forest", "--features",
                     "mfcc-stats", "--seeds", "1", "-q"]) == 0
    cols = ["accuracy", "macro_f1", "best_params"]
    a, b = (pd.read_csv(tmp_path / n / "runs.csv")[cols] for n in ("a", "b"))
    pd.testing.assert_frame_equal(a, b)


def test_missing_dataset_is_skipped_with_a_reason(suite, tmp_path, bench_home, capsys, monkeypatch):
    monkeypatch.delenv("INSTRUMENT_BENCH_DATA", raising=False)
    code, out, _ = run(["run", str(suite), "--results", str(tmp_path / "r"), "-q"], capsys)
    assert code == 0 and "skipped nsynth" in out and "--data-root" in out
    assert not (tmp_path / "r" / "runs.csv").exists()


@pytest.mark.parametrize("flag, kind", [("--models", "model"), ("--features", "feature"),
                                        ("--datasets", "dataset"), ("--tasks", "task")])
def test_unknown_names_exit_2_listing_valid_ones(flag, kind, capsys):
    code, _, err = run(["run", "all", flag, "nope"], capsys)
    assert code == 2
    assert f"unknown {kind} 'nope'" in err and "valid" in err


def test_unknown_suite(capsys):
    code, _, err = run(["run", "no-such-suite"], capsys)
    assert code == 2 and "unknown suite 'no-such-suite'" in err and "all" in err


def test_malformed_suite(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[[experiment]]\ndataset = 'gm-notes'\n")
    code, _, err = run(["run", str(path)], capsys)
    assert code == 2 and "bad.toml: experiment 1 lacks tasks, features, models" in err


def test_list(capsys):
    code, out, _ = run(["list"], capsys)
    assert code == 0
    for name in ("gm-notes", "nsynth", "mfcc-stats", "essentia-descriptors", "nsynth-attributes",
                 "logreg", "svm", "random-forest", "knn", "xgboost", "family", "all", "quick"):
        assert name in out


@pytest.mark.processes  # python -m instrument_bench in a subprocess
def test_module_entry_point_help():
    out = subprocess.run([sys.executable, "-m", "instrument_bench", "run", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--seeds" in out and "--force" in out and "--data-root" in out


def test_failed_cell_is_recorded_and_exit_code_is_1(suite, tiny_data_root, bench_home, tmp_path,
                                                    capsys):
    # drop the only train instrument of one family: its class cannot be learned
    root = tmp_path / "data" / "nsynth"
    shutil.copytree(tiny_data_root / "nsynth", root)
    path = root / "nsynth-train" / "examples.json"
    examples = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in examples.items()
                                if v["instrument_family_str"] != "string"}))
    code, _, err = run(["run", str(suite), "--data-root", str(tmp_path / "data"), "--results",
                        str(tmp_path / "r"), "--models", "logreg", "--features", "nsynth-attributes",
                        "--seeds", "1", "-q"], capsys)
    assert code == 1 and "string occur in valid but not in train" in err
    runs = results.read_csv(tmp_path / "r" / "runs.csv")
    assert list(runs["status"]) == ["failed"] and "not in train" in runs["error"][0]


KERAS_EXPERIMENTS = (
    experiment("nsynth", tasks=["family"], features=["mfcc-stats"], models=["mlp", "cnn"]),
    experiment("nsynth", tasks=["family"], features=["log-mel"], models=["cnn", "crnn-attention"]),
)


def test_keras_models_land_in_the_same_leaderboard(tiny_data_root, bench_home, tmp_path, capsys):
    import keras

    suite = write_suite(tmp_path / "k.toml", *KERAS_EXPERIMENTS, name="tiny-keras", seeds=2,
                        keras={"epochs": 2, "batch_size": 8})
    res = tmp_path / "results"
    code, out, err = run(["run", str(suite), "--data-root", str(tiny_data_root), "--results", str(res),
                          "--jobs", "2", "-q"], capsys)
    assert code == 1  # the cnn cannot take a vector feature: those cells fail, the rest go on
    assert "'cnn' needs a time-frequency feature" in err
    runs = pd.read_csv(res / "runs.csv")
    ok = runs[runs["status"] == "ok"]
    assert sorted(set(zip(ok["feature"], ok["model"]))) == [
        ("log-mel", "cnn"), ("log-mel", "crnn-attention"), ("mfcc-stats", "mlp")]
    assert len(ok) == 6 and ok["epochs_trained"].between(1, 2).all() and (ok["params_count"] > 0).all()
    assert (ok["backend"] == keras.backend.backend()).all()
    assert (ok.loc[ok["model"] == "crnn-attention", "window_frames"] == 47).all()
    board = pd.read_csv(res / "leaderboard.csv")
    assert len(board) == 3 and (board["n_seeds"] == 2).all()
    saved = [key for key in ok["model_key"] if (res / "models" / key).is_dir()]
    assert len(saved) == 3  # the best seed of each of the 3 configurations
    for key in saved:
        manifest = json.loads((res / "models" / key / "manifest.json").read_text())
        assert manifest["label_map"] == ["guitar", "keyboard", "string"]
        assert (res / "models" / key / "model.keras").is_file()
    model = keras.saving.load_model(res / "models" / saved[-1] / "model.keras")
    assert model.output_shape == (None, 3)
    code, out, _ = run(["run", str(suite), "--data-root", str(tiny_data_root), "--results", str(res),
                        "-q"], capsys)
    assert "0 cells computed, 6 reused" in out  # failed cells are retried, finished ones are not
