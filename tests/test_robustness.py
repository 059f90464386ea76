"""Robustness in the grid: seed 004's source test (``train_source``) and perturbed test splits
(``perturbations``), end to end on a tiny gm-notes render in NSynth's layout.

(a) the source view and the targets it adds; plain cross-source run keys unchanged; (b) a run: the
rows carry train / test sources and perturbation / severity, each condition is its own block, the
perturbed features are those of the perturbed audio, a rerun computes nothing, the report draws
the curves; (c) suite checks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from instrument_bench.cli import main
from instrument_bench.datasets import gm_notes
from instrument_bench.datasets.base import Clip, Dataset
from instrument_bench.datasets.gm import NSYNTH_FAMILIES
from instrument_bench.datasets.nsynth import read_layout
from instrument_bench.errors import DatasetError, TaskNotApplicableError
from instrument_bench.features import FEATURES
from instrument_bench.features.perturbations import PERTURBATIONS, perturb
from instrument_bench.features.store import clip_seed, compute_features, load_features
from instrument_bench.protocol.labels import task_view
from instrument_bench.protocol.tasks import TASKS
from instrument_bench.protocol.transfer import (
    perturbation_targets,
    source_targets,
    source_view,
    target_view,
)
from instrument_bench.runs_file import GROUP
from instrument_bench.stats.significance import block_name, with_block_columns
from tests.suites import experiment, write_suite

# keyboard 0, 1, 3 (acoustic) + 4 (electric piano); string 40, 41, 42 (acoustic) + 50 (synth strings).
# gm-notes' split puts 0, 1, 42, 50 in train, 4, 41 in valid, 3, 40 in test: acoustic train and valid
# and test clips exist, the electronic program is in valid, the synthetic one in train.
PROGRAMS = (0, 1, 3, 4, 40, 41, 42, 50)
SPLIT = {0: "train", 1: "train", 3: "test", 4: "valid", 40: "test", 41: "valid", 42: "train", 50: "train"}


@pytest.fixture(scope="module")
def sources_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    gm_notes.render_dataset(root / "nsynth", programs=PROGRAMS, n_pitches=2, velocities=(100,), jobs=2,
                            progress=False)
    return root


@pytest.fixture(scope="module")
def sources(sources_root):
    return read_layout(sources_root / "nsynth", name="nsynth", version="t")


def _program(clip) -> int:
    return int(clip.meta["instrument"])


# ---------------------------------------------------------------- (a) views and targets

def test_the_split_is_the_one_the_tests_assume():
    assert gm_notes.assign_splits(PROGRAMS) == SPLIT


def test_source_view_keeps_one_source_in_every_split(sources):
    view, notes = source_view(task_view(TASKS["family"], sources), sources, "acoustic")
    assert notes == []
    for split in ("train", "valid", "test"):
        assert {c.meta["instrument_source_str"] for c in view.clips[split]} == {"acoustic"}
        assert len(view.y[split]) == len(view.clips[split]) == int(view.keep[split].sum())
    assert {_program(c) for c in view.clips["test"]} == {3, 40}
    assert {_program(c) for c in view.clips["valid"]} == {41}  # the electric piano (4) is not acoustic


def test_source_targets_take_every_split_of_each_other_source(sources):
    view, _ = source_view(task_view(TASKS["family"], sources), sources, "acoustic")
    targets = {t.source: t for t in source_targets(view, sources, "acoustic")}
    assert set(targets) == {"electronic", "synthetic"}
    assert {_program(c) for c in targets["electronic"].clips} == {4}  # from valid
    assert {_program(c) for c in targets["synthetic"].clips} == {50}  # from train
    assert set(targets["synthetic"].keep) == {"train", "valid", "test"}
    assert targets["synthetic"].y.tolist() == [NSYNTH_FAMILIES.index("string")] * 2
    assert targets["electronic"].key == "nsynth@electronic"


def test_a_class_with_no_train_clip_of_the_source_is_left_out_with_a_note():
    def clip(clip_id, split, family, source):
        return Clip(clip_id, None, split, {"instrument_family_str": family, "instrument_source_str": source,
                                           "instrument_str": clip_id})

    clips = (clip("k1", "train", "keyboard", "acoustic"), clip("s1", "train", "string", "acoustic"),
             clip("g1", "train", "guitar", "electronic"), clip("k2", "valid", "keyboard", "acoustic"),
             clip("g2", "valid", "guitar", "acoustic"), clip("s3", "test", "string", "acoustic"),
             clip("g3", "test", "guitar", "acoustic"))
    data = Dataset(name="d", root=Path("/nowhere"), sample_rate=16000, clips=clips, version="v")
    view, notes = source_view(task_view(TASKS["family"], data), data, "acoustic")
    assert notes == ["valid: guitar left out (no acoustic instrument of it in train)",
                     "test: guitar left out (no acoustic instrument of it in train)"]
    assert [c.clip_id for c in view.clips["valid"]] == ["k2"]
    assert [c.clip_id for c in view.clips["test"]] == ["s3"]
    assert view.keep["test"].tolist() == [True, False]


def test_source_view_errors(sources):
    with pytest.raises(DatasetError, match="valid split has no synthetic clip"):
        source_view(task_view(TASKS["family"], sources), sources, "synthetic")
    stripped = sources.__class__(name="x", root=sources.root, sample_rate=16000, version="t",
                                 clips=tuple(c.__class__(c.clip_id, c.path, c.split,
                                                         {k: v for k, v in c.meta.items()
                                                          if k != "instrument_source_str"})
                                             for c in sources.clips))
    with pytest.raises(TaskNotApplicableError, match="instrument_source_str"):
        source_view(task_view(TASKS["family"], stripped), stripped, "acoustic")


def test_perturbation_targets_one_per_severity(sources):
    view = task_view(TASKS["family"], sources)
    targets = perturbation_targets(view, sources, ["noise", "reverse"])
    assert [(t.perturbation, t.severity) for t in targets] == [
        ("noise", "30"), ("noise", "20"), ("noise", "10"), ("noise", "0"), ("reverse", "-")]
    assert all(t.clips == view.clips["test"] for t in targets)
    assert targets[0].key == "nsynth~noise~30"
    assert targets[0].key_fields()["perturbation"] == "noise"
    assert targets[0].applies_to(FEATURES["nsynth-attributes"]) is not None  # no audio to perturb
    frames = perturbation_targets(view, sources, ["reverse-frames"])[0]
    assert frames.applies_to(FEATURES["log-mel"]) is None
    assert "no time frames" in frames.applies_to(FEATURES["mfcc-stats"])


def test_plain_cross_source_keys_and_block_names_are_unchanged(sources):
    """Rows written before the condition columns existed keep their run keys and bootstrap draws."""
    view = target_view(TASKS["family"], sources)
    assert view.key == "nsynth"
    assert view.key_fields() == {"test_dataset": "nsynth", "test_version": "t",
                                 "test_split_hash": sources.split_hash()}
    assert block_name(("gm-notes", "-", "family", "gm-notes-fluidr3", "-", "-", "-")) == \
        "gm-notes/family->gm-notes-fluidr3"
    assert block_name(("gm-notes", "acoustic", "family", "gm-notes", "electronic", "-", "-")) == \
        "gm-notes/family|train_source=acoustic,test_source=electronic"
    old = pd.DataFrame({"dataset": ["a"], "task": ["family"]})
    filled = with_block_columns(old)
    assert filled.loc[0, "test_dataset"] == "a" and filled.loc[0, "perturbation"] == "-"


def test_perturbed_features_are_those_of_the_perturbed_audio(sources, bench_home):
    """log-mel is 10 log10 of power: -12 dB of gain is -12 dB in every bin above the floor; noise is
    seeded by the clip, so the cache and a fresh computation agree."""
    import librosa

    spec, clips = FEATURES["log-mel"], sources.split("test")[:2]
    clean = compute_features(clips, spec, sample_rate=16000, progress=False)
    quiet = compute_features(clips, spec, sample_rate=16000, progress=False, perturbation=("gain", "-12"))
    loud = clean > clean.max() - 60
    np.testing.assert_allclose(quiet[loud], clean[loud] - 12.0, atol=0.01)
    noisy = load_features(sources, "test", spec, cache_dir=bench_home, progress=False,
                          perturbation=("noise", "10"))
    audio = librosa.load(clips[0].path, sr=16000)[0]
    expected = spec.extract_many([perturb(audio, name="noise", severity=10, sample_rate=16000,
                                          seed=clip_seed(seed=0, clip_id=clips[0].clip_id, name="noise",
                                                         severity=10))], sample_rate=16000)
    np.testing.assert_allclose(noisy[0], expected[0], atol=1e-4)
    again = load_features(sources, "test", spec, cache_dir=bench_home, progress=False,
                          perturbation=("noise", "10"))
    assert Path(noisy.filename) == Path(again.filename)
    assert np.abs(np.asarray(noisy[:2]) - clean).mean() > 1.0  # 10 dB SNR fills the quiet bins


# ---------------------------------------------------------------- (b) a run end to end

@pytest.fixture(scope="module")
def robustness_run(sources_root, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    results = tmp_path_factory.mktemp("results")
    suite = write_suite(results.parent / "robust.toml",
                        experiment("nsynth", tasks=["family"], features=["mfcc-stats", "nsynth-attributes"],
                                   models=["logreg"], train_source="acoustic",
                                   perturbations=["noise", "reverse", "reverse-frames"]),
                        seeds=1)
    argv = ["run", str(suite), "--data-root", str(sources_root), "--results", str(results), "--jobs", "2",
            "-q", "--resamples", "20"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INSTRUMENT_BENCH_HOME", str(home))
        first = main(argv)
        written = (results / "runs.csv").read_text()
        again = main(argv)
        rewritten = (results / "runs.csv").read_text() != written
        report = main(["report", "--results", str(results), "-q"])
    return {"results": results, "codes": (first, again, report), "rewritten": rewritten}


def test_run_rows_carry_sources_and_perturbations(robustness_run, capsys):
    assert robustness_run["codes"] == (0, 0, 0)
    runs = pd.read_csv(robustness_run["results"] / "runs.csv", dtype=str)
    mfcc = runs[runs["feature"] == "mfcc-stats"]
    conditions = set(zip(mfcc["test_source"], mfcc["perturbation"], mfcc["severity"]))
    assert conditions == {("acoustic", "-", "-"), ("electronic", "-", "-"), ("synthetic", "-", "-"),
                          ("acoustic", "noise", "30"), ("acoustic", "noise", "20"),
                          ("acoustic", "noise", "10"), ("acoustic", "noise", "0"),
                          ("acoustic", "reverse", "-")}  # reverse-frames: no frames in mfcc-stats
    assert set(runs["train_source"]) == {"acoustic"}
    assert mfcc.set_index("test_source").loc["electronic", "n_test"] == "2"
    assert mfcc.set_index("test_source").loc["synthetic", "n_test"] == "2"
    attributes = runs[runs["feature"] == "nsynth-attributes"]
    assert set(attributes["perturbation"]) == {"-"}  # metadata: nothing to perturb
    assert runs["run_key"].is_unique


def test_each_condition_is_its_own_block(robustness_run):
    board = pd.read_csv(robustness_run["results"] / "leaderboard.csv", dtype={"severity": str})
    assert set(GROUP) <= set(board.columns)
    blocks = board.groupby(["test_source", "perturbation", "severity"])
    assert all(sorted(sub["rank"]) == list(range(1, len(sub) + 1)) for _, sub in blocks)
    assert len(blocks) == 8


def test_rerun_computes_nothing_and_report_draws_curves(robustness_run):
    results = robustness_run["results"]
    assert not robustness_run["rewritten"]  # every row's key was found: nothing refitted or rescored
    assert (results / "figures" / "robustness-nsynth-family-from-acoustic-to-acoustic.png").is_file()
    page = (results / "report.html").read_text()
    assert "<h2>Robustness</h2>" in page and "tested on electronic instruments" in page


# ---------------------------------------------------------------- (c) suite checks

@pytest.mark.parametrize("keys, message", [
    ({"perturbations": ["hiss"]}, "unknown perturbation 'hiss'"),
    ({"train_source": "analog"}, "train_source = 'analog': must be one of NSynth's instrument sources"),
])
def test_suite_refuses_unknown_perturbations_and_sources(tmp_path, capsys, keys, message):
    path = write_suite(tmp_path / "bad.toml", experiment("gm-notes", tasks=["family"],
                                                         features=["mfcc-stats"], models=["logreg"], **keys))
    assert main(["run", str(path), "--results", str(tmp_path / "r"), "-q"]) == 2
    assert message in capsys.readouterr().err


def test_list_perturbations_names_them(capsys):
    assert main(["list", "perturbations"]) == 0
    out = capsys.readouterr().out
    for name in PERTURBATIONS:
        assert f"  {name} " in out
    assert set(PERTURBATIONS) == {"noise", "gain", "lowpass", "mp3", "reverb", "pitch", "stretch", "reverse",
                                  "reverse-frames"}
