"""Shared fixtures, made once per test session: a tiny gm-notes render in NSynth's layout, a tiny
gm-mix render in MusicNet's layout and a data root holding a replica of every real dataset."""

from __future__ import annotations

import pytest

from instrument_bench.datasets import gm_notes

# Three families x three programs: every split holds every family (1 train, 1 valid, 1 test
# program each), 3 pitches x 2 velocities per program = 54 notes.
TINY_PROGRAMS = (0, 1, 6, 24, 25, 26, 40, 41, 42)
TINY_SETTINGS = {"programs": TINY_PROGRAMS, "n_pitches": 3, "velocities": (80, 120)}


@pytest.fixture(scope="session")
def tiny_data_root(tmp_path_factory):
    """A data root holding ``nsynth/`` rendered by gm-notes' own code (the real loader reads it)."""
    root = tmp_path_factory.mktemp("data")
    gm_notes.render_dataset(root / "nsynth", jobs=2, progress=False, **TINY_SETTINGS)
    return root


@pytest.fixture()
def bench_home(tmp_path, monkeypatch):
    """An empty INSTRUMENT_BENCH_HOME (rendered data and feature cache) for one test."""
    home = tmp_path / "home"
    monkeypatch.setenv("INSTRUMENT_BENCH_HOME", str(home))
    return home


# gm-mix, 8 pieces of 20 s (6 train_data, of which 1 is held out as valid, 2 test_data): every NSynth
# family heard in valid or test is also heard in train.
TINY_MIX = {"n_pieces": 8, "n_test": 2, "piece_seconds": 20.0}


@pytest.fixture(scope="session")
def tiny_mix_root(tmp_path_factory):
    """A data root holding ``musicnet/``, a small gm-mix render in MusicNet's layout."""
    from instrument_bench.datasets import gm_mix

    root = tmp_path_factory.mktemp("mixdata")
    gm_mix.render_dataset(root / "musicnet", jobs=2, progress=False, **TINY_MIX)
    return root


# Replica sizes for the tests (IRMAS and OpenMIC made smaller than tests/replicas' defaults).
REPLICA_OPTIONS = {"irmas": {"songs_per_class": 2, "test_files_per_part": 2}, "openmic": {"n_samples": 48}}


@pytest.fixture(scope="session")
def data_root(tmp_path_factory, tiny_data_root):
    """A data root holding every replica of tests/replicas in its default folder.

    Shared by the dataset tests (tests/datasets), ``validate``, a run over the replicas and the
    dataset contracts; tests that damage a replica work on a :func:`tests.replicas.clone` of it.
    """
    from tests import replicas

    root = tmp_path_factory.mktemp("replicas")
    replicas.write_all(root, nsynth_root=tiny_data_root / "nsynth", options=REPLICA_OPTIONS)
    return root


@pytest.fixture
def saved_model(tmp_path, bench_home):
    """A results folder holding one model saved by the tool, and a recording to predict."""
    import numpy as np
    import soundfile as sf
    from sklearn.linear_model import LogisticRegression

    from instrument_bench.artifacts import save_model
    from instrument_bench.features import FEATURES

    t = np.arange(2 * 16000) / 16000
    wav = tmp_path / "tone.wav"
    sf.write(wav, 0.3 * np.sin(2 * np.pi * 440 * t), 16000)
    width = FEATURES["mfcc-stats"].extract(np.sin(t * 2000).astype(np.float32), sample_rate=16000).shape[0]
    rng = np.random.default_rng(0)
    model = LogisticRegression().fit(rng.normal(size=(20, width)), np.arange(20) % 2)
    folder = tmp_path / "results" / "models" / "0123456789abcdef"
    save_model(model, folder, {"model_format": "joblib", "dataset": "d", "task": "t", "model": "logreg",
                               "feature": "mfcc-stats", "feature_params": FEATURES["mfcc-stats"].params,
                               "sample_rate": 16000, "clip_seconds": 4.0, "label_map": ["a", "b"],
                               "task_kind": "single-label", "predictors": {"argmax": {}}})
    return folder, wav
