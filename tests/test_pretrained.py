"""Pretrained embeddings in runs: musicnn features as frozen-probe inputs, the zero-shot model, and
a missing musicnn wheel skipped in one line (the networks themselves: tests/test_musicnn.py)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from instrument_bench.cli import main
from instrument_bench.datasets.gm import NSYNTH_FAMILIES
from instrument_bench.features import FEATURES, musicnn
from instrument_bench.models.zero_shot import TAG_FAMILIES, ZeroShotFamilies
from tests.suites import experiment, write_suite

needs_musicnn = pytest.mark.skipif(importlib.util.find_spec("musicnn") is None,
                                   reason="pip install --no-deps musicnn==0.1.0")
TAGS = ("guitar", "classical", "piano", "violin", "flute", "rock")  # a few tags, in a made-up order


def _run(suite, data_root, results, capsys):
    code = main(["run", str(suite), "--data-root", str(data_root), "--results", str(results), "--jobs", "1",
                 "-q", "--resamples", "0"])
    out = capsys.readouterr()
    return code, out.out, out.err


def _musicnn_suite(path, *, features, models):
    """``models`` on ``features``, and the zero-shot row on musicnn's tags, on nsynth."""
    return write_suite(path, experiment("nsynth", tasks=["family"], features=features, models=models),
                       experiment("nsynth", tasks=["family"], features=["musicnn-mtt-tags"],
                                  models=["zero-shot"]))


def test_zero_shot_scores_each_family_by_its_best_tag_and_learns_nothing():
    families = ("guitar", "keyboard", "string", "brass")
    X = np.zeros((4, len(TAGS)))
    X[0, TAGS.index("guitar")] = 0.9
    X[1, TAGS.index("piano")] = 0.8
    X[2, TAGS.index("violin")] = 0.7
    X[3, TAGS.index("rock")] = 0.9  # a genre: no family
    model = ZeroShotFamilies(classes=families, tags=TAGS).fit(X[:1], np.array([0]))
    scores = model.predict_proba(X)
    np.testing.assert_allclose(scores[:3].argmax(axis=1), [0, 1, 2])
    assert (scores[:, families.index("brass")] == 0).all()  # no MTT tag names brass
    assert (scores[3] == 0).all()
    again = ZeroShotFamilies(classes=families, tags=TAGS).fit(X[::-1], np.array([3, 2, 1, 0]))
    np.testing.assert_array_equal(again.predict_proba(X), scores)  # the training data changes nothing
    with pytest.raises(ValueError, match="6 musicnn tag probabilities"):
        ZeroShotFamilies(classes=families, tags=TAGS).fit(np.zeros((2, 5)), np.array([0, 1]))


@needs_musicnn
def test_zero_shot_tags_are_musicnn_mtt_tags_and_name_families():
    tags = set(musicnn.tag_names("MTT_musicnn"))
    assert set(TAG_FAMILIES) <= tags
    assert set(TAG_FAMILIES.values()) <= set(NSYNTH_FAMILIES)
    assert not {"no vocals", "no vocal", "no voice"} & set(TAG_FAMILIES)


def test_a_missing_musicnn_wheel_skips_its_cells_in_one_line(tiny_data_root, bench_home, tmp_path, capsys,
                                                             monkeypatch):
    monkeypatch.setattr(musicnn, "PACKAGE", "musicnn_is_not_installed_here")
    assert FEATURES["musicnn-mtt"].missing() == ("the musicnn wheel is not installed: "
                                                 "pip install --no-deps musicnn==0.1.0")
    suite = _musicnn_suite(tmp_path / "s.toml", features=["musicnn-mtt", "mfcc-stats"], models=["logreg"])
    res = tmp_path / "results"
    code, out, err = _run(suite, tiny_data_root, res, capsys)
    assert code == 0, err
    runs = pd.read_csv(res / "runs.csv")
    assert list(runs["feature"]) == ["mfcc-stats"] and (runs["status"] == "ok").all()
    lines = [line for line in out.splitlines() if line.startswith("skipped feature")]
    assert lines == [f"skipped feature {name} (every cell on it): the musicnn wheel is not installed: "
                     "pip install --no-deps musicnn==0.1.0" for name in ("musicnn-mtt", "musicnn-mtt-tags")]


@needs_musicnn
def test_musicnn_probes_and_the_zero_shot_row_run_end_to_end(tiny_data_root, bench_home, tmp_path, capsys):
    suite = _musicnn_suite(tmp_path / "s.toml", features=["musicnn-mtt"], models=["logreg", "knn"])
    res = tmp_path / "results"
    code, out, err = _run(suite, tiny_data_root, res, capsys)
    assert code == 0, err
    runs = pd.read_csv(res / "runs.csv")
    assert (runs["status"] == "ok").all() and len(runs) == 3
    assert set(runs.loc[runs["feature"] == "musicnn-mtt", "n_features"]) == {400}
    assert set(runs.loc[runs["model"] == "zero-shot", "n_features"]) == {50}
    assert ((runs["accuracy"] >= 0) & (runs["accuracy"] <= 1)).all()
