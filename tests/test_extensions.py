"""Bring your own encoder and model: entry points and suite tables run end to end, check-encoder
refuses each broken encoder with one line, and a suite naming code that does not import is a
SuiteError naming the table and key. The plugin package lives in tests/plugin_pkg (put on sys.path
here, as ``pip install`` would); its code is README's example."""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path

import pandas as pd
import pytest

from instrument_bench import settings
from instrument_bench.cli import main
from instrument_bench.config import load_suite
from instrument_bench.errors import ConfigError, FeatureError, SuiteError
from instrument_bench.features import FEATURES, encoders
from instrument_bench.models import MODELS, spec
from instrument_bench.models.plugins import load_plugins, reset_plugins
from instrument_bench.plan import validate_suite
from tests.suites import experiment, suite_toml, toml_table

PLUGINS = Path(__file__).parent / "plugin_pkg"
TINY_KERAS = {"epochs": 2, "batch_size": 8, "patience": 1}


@pytest.fixture()
def plugin_path(monkeypatch):
    """tests/plugin_pkg on sys.path (its dist-info declares the entry points); every plugin and
    suite entry is taken out of the registries afterwards."""
    before = (set(FEATURES), set(MODELS))
    monkeypatch.syspath_prepend(str(PLUGINS))
    importlib.invalidate_caches()
    yield PLUGINS
    reset_plugins()
    assert (set(FEATURES), set(MODELS)) == before


def _run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _suite_text(features, models, tables=None, **settings) -> str:
    """A suite of one experiment on the tiny NSynth tree, with ``[encoders.x]``/``[models.x]`` tables
    (``{"encoders.x": {...}}``) after it."""
    text = suite_toml(experiment("nsynth", tasks=["family"], features=features, models=models), **settings)
    return text + "\n".join(line for header, table in (tables or {}).items()
                             for line in toml_table(header, table))


def _run_suite(capsys, path, data_root, results):
    return _run(capsys, "run", path, "--data-root", data_root, "--results", results, "--jobs", "1", "-q",
                "--resamples", "0")


def test_suite_rules_match_the_registries():
    assert settings.ENCODER_INPUTS == encoders.INPUTS
    assert settings.MODEL_INPUTS == spec.INPUTS


def test_entry_points_run_end_to_end_and_predict(plugin_path, tiny_data_root, bench_home, tmp_path, capsys):
    code, out, _ = _run(capsys, "list", "features")
    assert code == 0 and "byo-bands" in out and "byo-mel-stats" in out
    code, out, _ = _run(capsys, "list", "models")
    assert code == 0 and all(name in out for name in ("byo-dense", "byo-trees", "byo-ridge"))
    source = hashlib.sha256((PLUGINS / "byo_plugins" / "__init__.py").read_bytes()).hexdigest()
    assert FEATURES["byo-bands"].params["digest"] == source  # the cache key follows the code
    assert MODELS["byo-dense"].architecture()["code"] == f"byo_plugins:build_dense sha256:{source[:16]}"
    assert load_plugins() == {"features": ["byo-bands", "byo-mel-stats"],
                              "models": ["byo-dense", "byo-trees", "byo-ridge"]}  # idempotent

    suite = tmp_path / "plugins.toml"
    suite.write_text(_suite_text(["byo-bands", "byo-mel-stats"], ["byo-dense", "byo-trees", "byo-ridge"],
                                 name="plugins", seeds=1, keras=TINY_KERAS))
    res = tmp_path / "results"
    code, _, err = _run(capsys, "run", suite, "--executor", "dask-local", "--results", res, "-q")
    assert code == 1 and "byo-dense, byo-ridge, byo-trees come from a plugin" in err and "local only" in err
    code, _, err = _run_suite(capsys, suite, tiny_data_root, res)
    assert code == 0, err
    runs = pd.read_csv(res / "runs.csv")
    assert len(runs) == 6 and set(runs["status"]) == {"ok"}
    assert set(zip(runs["feature"], runs["model"])) == {
        (f, m) for f in ("byo-bands", "byo-mel-stats") for m in ("byo-dense", "byo-trees", "byo-ridge")}

    key = runs.loc[(runs["feature"] == "byo-bands") & (runs["model"] == "byo-trees"), "model_key"].iloc[0]
    wav = sorted((tiny_data_root / "nsynth").rglob("*.wav"))[0]
    code, out, err = _run(capsys, "predict", wav, "--results", res, "--model", key)
    assert code == 0, err
    assert out.startswith(str(wav)) and any(f in out for f in ("guitar", "keyboard", "string"))


def test_suite_tables_run_end_to_end(plugin_path, tiny_data_root, bench_home, tmp_path, capsys):
    text = (PLUGINS / "example-suite.toml").read_text()  # README's example, on the tiny NSynth tree
    text = text.replace('dataset = "gm-notes"', 'dataset = "nsynth"').replace("seeds = 2", "seeds = 1")
    text = text.replace("epochs = 10", "epochs = 2\nbatch_size = 8")
    suite = tmp_path / "example.toml"
    suite.write_text(text)
    res = tmp_path / "results"
    code, _, err = _run_suite(capsys, suite, tiny_data_root, res)
    assert code == 0, err
    runs = pd.read_csv(res / "runs.csv")
    assert len(runs) == 6 and set(runs["status"]) == {"ok"}
    assert set(runs["model"]) == {"tiny-dense", "extra-trees", "logreg"}
    assert set(runs["feature"]) == {"band-energy", "mfcc-stats"}
    trees = runs[runs["model"] == "extra-trees"]
    assert trees["best_params"].str.contains('"n_estimators"').all()

    reset_plugins()  # as in a new process: a suite's encoders are known only to its run
    key = runs.loc[runs["feature"] == "band-energy", "model_key"].iloc[0]
    code, _, err = _run(capsys, "predict", sorted(tiny_data_root.rglob("*.wav"))[0], "--results", res,
                        "--model", key)
    assert code == 1 and "its feature 'band-energy' is not registered here" in err


def _keras_encoders(folder: Path) -> dict:
    """Tiny .keras encoders: log-mel in, audio in (a fixed length), and one safe mode refuses."""
    import keras

    mel = keras.Input(shape=(None, 64))
    pooled = keras.layers.GlobalAveragePooling1D()(keras.layers.Dense(8, activation="tanh")(mel))
    audio = keras.Input(shape=(16000,))
    frames = keras.layers.Reshape((40, 400))(audio)
    summary = keras.layers.GlobalAveragePooling1D()(keras.layers.Dense(4)(frames))
    lam = keras.Input(shape=(16000,))
    models = {"mel": keras.Model(mel, pooled), "audio": keras.Model(audio, summary),
              "lambda": keras.Model(lam, keras.layers.Lambda(lambda x: x[:, :4] * 2.0)(lam))}
    for name, model in models.items():
        model.save(folder / f"{name}.keras")
    return {name: folder / f"{name}.keras" for name in models}


def test_keras_encoders_check_and_run(plugin_path, tiny_data_root, bench_home, tmp_path, capsys):
    files = _keras_encoders(tmp_path)
    code, out, err = _run(capsys, "check-encoder", files["audio"])
    assert code == 0, err
    assert "shape (4, 4), dtype float32" in out and "clips/s" in out and out.rstrip().endswith("OK")
    code, out, err = _run(capsys, "check-encoder", files["mel"], "--input", "log-mel")
    assert code == 0 and "shape (4, 8)" in out, err
    code, _, err = _run(capsys, "check-encoder", files["lambda"])
    assert code == 2 and f"{files['lambda']}: cannot load in Keras safe mode" in err

    suite = tmp_path / "keras-encoder.toml"
    suite.write_text(_suite_text(["mel-keras"], ["logreg"],
                                 {"encoders.mel-keras": {"keras": "mel.keras", "input": "log-mel"}}))
    res = tmp_path / "results"
    code, _, err = _run_suite(capsys, suite, tiny_data_root, res)
    assert code == 0, err
    runs = pd.read_csv(res / "runs.csv")
    assert list(runs["status"]) == ["ok"]
    digest = hashlib.sha256(files["mel"].read_bytes()).hexdigest()
    assert digest in runs["feature_params"].iloc[0]  # the file's hash keys the feature cache


def test_check_encoder_accepts_a_good_encoder(plugin_path, capsys):
    for spec_text in ("byo_plugins:embed", "byo-bands"):  # module:function, or its entry point's name
        code, out, err = _run(capsys, "check-encoder", spec_text)
        assert code == 0, err
        assert f"encoder {spec_text}" in out and "shape (4, 16), dtype float32" in out
    code, out, err = _run(capsys, "check-encoder", "band-energy", "--suite", PLUGINS / "example-suite.toml")
    assert code == 0 and "encoder band-energy" in out, err  # a suite's [encoders.band-energy]
    result = encoders.check_encoder("byo_plugins:embed")
    assert result["shape"] == (4, 16) and result["deterministic"] and result["clips_per_second"] > 0


@pytest.mark.parametrize("spec_text, problem", [
    ("byo_plugins.broken:wrong_shape", "output shape (4,) for 4 clips; an encoder must return a 2-d"),
    ("byo_plugins.broken:wrong_rows", "output shape (5, 4) for 4 clips"),
    ("byo_plugins.broken:with_nan", "output holds 1 NaN and 0 infinite value(s) of 16"),
    ("byo_plugins.broken:with_inf", "output holds 0 NaN and 1 infinite value(s)"),
    ("byo_plugins.broken:noisy", "not deterministic: two calls on the same 4 clips differ"),
    ("byo_plugins.broken:raises", "calling it failed (RuntimeError: boom)"),
    ("byo_plugins.broken:NOT_CALLABLE", "int object is not callable"),
    ("byo_plugins:nope", "module 'byo_plugins' has no 'nope'"),
    ("no_such_module:embed", "cannot import module 'no_such_module' (ModuleNotFoundError"),
    ("missing.keras", "missing.keras: file not found ("),
    ("nothing-here", "not a .keras file, a module:function or a registered feature"),
])
def test_check_encoder_refuses_a_broken_encoder_in_one_line(plugin_path, spec_text, problem, capsys):
    code, out, err = _run(capsys, "check-encoder", spec_text)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"check-encoder {spec_text}: " in err and problem in err


BAD_TABLES = [
    ({"encoders.x": {"callable": "no_such_module:embed"}},
     "[encoders.x] callable = 'no_such_module:embed': cannot import module 'no_such_module'"),
    ({"models.y": {"builder": "byo_plugins:nope"}}, "[models.y] builder = 'byo_plugins:nope': module "
                                                    "'byo_plugins' has no 'nope'"),
    ({"models.y": {"estimator": "no_such_module:Forest"}},
     "[models.y] estimator = 'no_such_module:Forest': cannot import module 'no_such_module'"),
    ({"encoders.x": {"keras": "absent.keras"}}, "[encoders.x] keras = 'absent.keras': file not found ("),
    ({"models.y": {"builder": "byo_plugins:build_dense", "params": {"depth": 3}}},
     "[models.y] builder = 'byo_plugins:build_dense': params depth: not arguments of the builder"),
    ({"models.y": {"builder": "byo_plugins:build_dense", "grid": {"units": [8, 16]}}},
     "[models.y]: grid goes with estimator, not builder"),
    ({"encoders.x": {}}, "[encoders.x]: give one of callable = 'module:object' or keras = ..."),
    ({"models.logreg": {"estimator": "sklearn.linear_model:LogisticRegression"}},
     "[models.logreg]: model 'logreg' is built in"),
    ({"encoders.byo-bands": {"callable": "byo_plugins:embed"}},
     "[encoders.byo-bands]: feature 'byo-bands' is already defined by the entry point"),
]


@pytest.mark.parametrize("tables, message", BAD_TABLES)
def test_suite_naming_bad_code_is_a_suite_error(plugin_path, tmp_path, tables, message, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(_suite_text(["mfcc-stats"], ["logreg"], tables))
    with pytest.raises(SuiteError) as caught:
        validate_suite(load_suite(str(path)))
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)
    code, _, err = _run(capsys, "run", path, "--results", tmp_path / "r", "-q")
    assert code == 2 and message in err


def test_suite_table_keys_and_values_are_checked_on_loading(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(_suite_text(["mfcc-stats"], ["logreg"])
                    + '[encoders.x]\ncallable = "embed"\ninput = "spectrogram"\nrate = 8000\n'
                    + '[models.y]\nestimator = "a:B"\ngrid = { C = 1 }\n')
    with pytest.raises(SuiteError) as caught:
        load_suite(str(path))
    text = str(caught.value)
    assert "[encoders.x] unknown keys rate = 8000; valid: callable, keras, input, sample_rate" in text
    assert "[encoders.x] callable = 'embed': must be 'module:object'" in text
    assert "[encoders.x] input = 'spectrogram': must be one of audio, log-mel" in text
    assert "[models.y] [grid] C = 1: must be a table of lists of values" in text


def test_encoder_feature_follows_its_source(tmp_path, monkeypatch):
    module = tmp_path / "enc_tmp.py"
    module.write_text("def embed(audio_batch, sample_rate):\n    return audio_batch[:, :4]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = encoders.encoder_feature("tmp", callable="enc_tmp:embed").params["digest"]
    module.write_text("def embed(audio_batch, sample_rate):\n    return audio_batch[:, :8]\n")
    assert encoders.encoder_feature("tmp", callable="enc_tmp:embed").params["digest"] != first
    with pytest.raises(FeatureError, match="give one of keras"):
        encoders.encoder_feature("tmp")


def test_an_entry_point_may_not_take_a_built_in_name(plugin_path, tmp_path, monkeypatch, capsys):
    info = tmp_path / "clash-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: clash\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[instrument_bench.features]\nlog-mel = byo_plugins:embed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    with pytest.raises(ConfigError, match="entry point log-mel .*feature 'log-mel' is built in"):
        load_plugins()
    code, _, err = _run(capsys, "list", "features")
    assert code == 1 and "'log-mel' is built in" in err
