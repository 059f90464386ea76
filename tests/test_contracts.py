"""Contracts over the registries: every dataset loads with leak-free splits, every feature gives
finite float32 arrays of one shape, and ``PerLabel`` passes scikit-learn's estimator checks."""

from __future__ import annotations

import functools
import pickle
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from instrument_bench.datasets import DATASETS, gm_mix, gm_notes, gm_varied
from instrument_bench.datasets.base import SPLITS, Clip
from instrument_bench.datasets.loading import load_dataset
from instrument_bench.datasets.qualities import derive_qualities
from instrument_bench.datasets.render import render_notes
from instrument_bench.features import FEATURES
from instrument_bench.features.store import compute_features
from instrument_bench.models.classical import PerLabel
from tests import replicas
from tests.conftest import TINY_MIX, TINY_SETTINGS
from tests.datasets.helpers import splits_of

# -- datasets -------------------------------------------------------------------------------------

# Registry entries read from the tiny renders of tests/conftest.py (the fixture holding them);
# every other entry reads a replica of tests/replicas under the ``data_root`` fixture.
TINY_RENDERS = {"gm-notes": "tiny_data_root", "nsynth": "tiny_data_root",
                "gm-mix": "tiny_mix_root", "musicnet": "tiny_mix_root",
                "gm-notes-fluidr3": "tiny_data_root",  # rendered from FluidR3_GM in the test
                # 2 varied notes per tiny program, rendered in the test (-fluidr3: from FluidR3_GM)
                "gm-notes-varied": "tiny_data_root", "gm-notes-varied-fluidr3": "tiny_data_root"}
READS_FOLDER_OF = {"irmas-predominant": "irmas"}  # entries that read another entry's folder


def rendered_into_home(name, root, home, monkeypatch) -> None:
    """Make gm-notes / gm-mix find the tiny render in the data home instead of rendering theirs.

    The loader's own ``ensure_rendered`` runs, with the tiny render's settings; the render is
    hard-linked into the folder the loader looks in.
    """
    if name == "gm-notes":
        module, source, settings = gm_notes, root / "nsynth", TINY_SETTINGS
    else:
        module, source, settings = gm_mix, root / "musicnet", {k: TINY_MIX[k] for k in ("n_pieces", "n_test")}
        monkeypatch.setattr(gm_mix, "PIECE_SECONDS", TINY_MIX["piece_seconds"])
    replicas.clone(source, home / name / f"v{module.VERSION}")
    monkeypatch.setattr(module, "ensure_rendered", functools.partial(module.ensure_rendered, **settings))


def test_every_real_dataset_has_a_replica():
    """A new dataset must come with a replica writer (tests/replicas) or a tiny render."""
    replicated = set(replicas.DEFAULT_FOLDERS.values()) | set(READS_FOLDER_OF)
    missing = sorted(set(DATASETS) - replicated - set(TINY_RENDERS))
    assert not missing, f"no replica or tiny render for {', '.join(missing)}: add one to tests/replicas"


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_dataset_loads_with_leak_free_splits(name, request, monkeypatch, bench_home):
    if name == "gm-notes-fluidr3":  # the tiny program set, rendered from the second SoundFont
        if not Path(gm_notes.FLUIDR3).is_file():
            pytest.skip(f"no FluidR3_GM: {gm_notes.FLUIDR3_INSTALL}")
        monkeypatch.setattr(gm_notes, "ensure_rendered", functools.partial(gm_notes.ensure_rendered,
                                                                           **TINY_SETTINGS))
    if name == "gm-notes-varied-fluidr3" and not Path(gm_notes.FLUIDR3).is_file():
        pytest.skip(f"no FluidR3_GM: {gm_notes.FLUIDR3_INSTALL}")
    if name.startswith("gm-notes-varied"):
        monkeypatch.setattr(gm_varied, "ensure_rendered", functools.partial(
            gm_varied.ensure_rendered, programs=TINY_SETTINGS["programs"], notes_per_program=2))
    if name in TINY_RENDERS:
        root = request.getfixturevalue(TINY_RENDERS[name])
        if name in ("gm-notes", "gm-mix"):
            rendered_into_home(name, root, bench_home, monkeypatch)
    else:
        folder = READS_FOLDER_OF.get(name, name)
        if folder not in replicas.DEFAULT_FOLDERS.values():
            pytest.fail(f"no replica of {name!r} in tests/replicas")
        root = request.getfixturevalue("data_root")
    dataset = load_dataset(name, options={}, data_root=root, progress=False)
    assert dataset.name == name
    assert {c.split for c in dataset.clips} == set(SPLITS)  # every split, and nothing else
    ids = [c.clip_id for c in dataset.clips]
    assert len(set(ids)) == len(ids)  # so no clip is in two splits
    if any("group" in c.meta for c in dataset.clips):
        assert all("group" in c.meta for c in dataset.clips)
        crossing = {g: s for g, s in splits_of(dataset, lambda c: c.meta["group"]).items() if len(s) > 1}
        assert not crossing, f"groups in more than one split: {sorted(crossing)[:5]}"


# -- features -------------------------------------------------------------------------------------

SAMPLE_RATE = 16000
NOTES = ((0, 60, 100), (24, 52, 80), (40, 67, 120))  # (GM program, pitch, velocity)
LENGTHS = (2.0, 4.0)  # seconds of each note clip
# Features read from metadata that only one dataset ships: computed on that dataset's replica.
SHIPPED_META = {"vggish": "openmic-2018", "vggish-mean": "openmic-2018"}
# 2-d features without frame_seconds: a fixed-size image whatever the clip length (its rows are
# not frames at a fixed hop, so models cannot cut windows from it).
IMAGES = {"spectrogram-150": (150, 150)}


def feature_params() -> list:
    """Every registered feature; those read from files a dataset ships (``from_file``, e.g.
    MTG-Jamendo's mel spectrograms) are skipped here: the dataset tests compute them."""
    skip = pytest.mark.skip(reason="reads files a dataset ships: see tests/datasets")
    return [pytest.param(name, marks=skip if spec.from_file is not None else ())
            for name, spec in sorted(FEATURES.items())]


@pytest.fixture(scope="module")
def notes(tmp_path_factory) -> dict:
    """``{seconds: clips}``: a few rendered notes of each length, as gm-notes writes them (a wav
    and the NSynth attributes)."""
    folder = tmp_path_factory.mktemp("notes")
    out = {}
    for seconds in LENGTHS:
        out[seconds] = []
        for program, pitch, velocity in NOTES:
            (audio,) = render_notes(program=program, notes=[(pitch, velocity)], sample_rate=SAMPLE_RATE,
                                    note_seconds=0.75 * seconds, clip_seconds=seconds)
            audio = 0.5 * audio / np.abs(audio).max()
            path = folder / f"{program:03d}-{pitch}-{velocity}-{seconds:.0f}s.wav"
            sf.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
            qualities = derive_qualities(audio, sample_rate=SAMPLE_RATE, pitch=pitch,
                                         note_seconds=0.75 * seconds)
            meta = {"pitch": pitch, "velocity": velocity, "qualities": qualities}
            out[seconds].append(Clip(path.stem, path, "train", meta))
    return out


def clip_sets(name, request) -> list[tuple[float, list]]:
    """``[(seconds, clips)]`` the feature is computed on."""
    if name in SHIPPED_META:
        dataset = load_dataset(SHIPPED_META[name], options={}, data_root=request.getfixturevalue("data_root"),
                               progress=False)
        return [(dataset.clips[0].duration, list(dataset.clips[:4]))]
    return sorted(request.getfixturevalue("notes").items())


@pytest.mark.parametrize("name", feature_params())
def test_feature_gives_finite_float32_of_one_shape(name, request):
    spec = FEATURES[name]
    if "essentia" in spec.libraries:
        pytest.importorskip("essentia")
    shapes = {}
    for seconds, clips in clip_sets(name, request):
        x = compute_features(clips, spec, sample_rate=SAMPLE_RATE, progress=False)
        assert x.dtype == np.float32 and len(x) == len(clips)
        assert np.isfinite(x).all()
        shapes[seconds] = x.shape[1:]
    first = next(iter(shapes.values()))
    for seconds, shape in shapes.items():
        if name in IMAGES:
            assert shape == IMAGES[name]
        elif spec.frame_seconds is None:  # flat: one vector per clip, whatever its length
            assert len(shape) == 1 and shape == first
        else:  # time-frequency: (frames, bins), frames at the feature's hop
            frames = seconds / spec.frame_seconds(spec.params, SAMPLE_RATE)
            assert len(shape) == 2 and abs(shape[0] - frames) <= 2 + 0.02 * frames, (shape, frames)
    assert len({shape[1:] for shape in shapes.values()}) == 1  # the same bins for every length


# -- PerLabel -------------------------------------------------------------------------------------

# scikit-learn's common checks fit classifiers on a 1-d y; PerLabel takes a 2-d Y (one column per
# label, -1 where unknown) and fails those checks on ``Y.shape[1]`` before reaching what they test.
# The 2-d versions of the contracts those checks cover are tested below.
ONE_D_Y = "fits a 1-d y; PerLabel takes a 2-d Y (labels as columns, -1 = unknown)"
EXPECTED_FAILED_CHECKS = {
    **dict.fromkeys((
        "check_classifier_data_not_an_array", "check_classifiers_classes", "check_classifiers_one_label",
        "check_classifiers_regression_target", "check_classifiers_train", "check_complex_data",
        "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
        "check_estimator_sparse_array", "check_estimator_sparse_matrix", "check_estimator_sparse_tag",
        "check_estimators_dtypes", "check_estimators_empty_data_messages",
        "check_estimators_fit_returns_self", "check_estimators_nan_inf",
        "check_estimators_overwrite_params", "check_estimators_pickle",
        "check_f_contiguous_array_estimator", "check_fit2d_1feature", "check_fit2d_1sample",
        "check_fit2d_predict1d", "check_fit_check_is_fitted", "check_fit_idempotent",
        "check_fit_score_takes_y", "check_methods_sample_order_invariance",
        "check_methods_subset_invariance", "check_n_features_in", "check_n_features_in_after_fitting",
        "check_pipeline_consistency", "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
        "check_requires_y_none", "check_supervised_y_2d",
    ), ONE_D_Y),
}


@parametrize_with_checks([PerLabel(LogisticRegression())],
                         expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS)
def test_per_label_passes_sklearn_checks(estimator, check):
    check(estimator)


def multi_label_data(n: int = 60, seed: int = 0):
    """Separable features and three labels, the second unknown (-1) on every fourth row."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    Y = (X[:, :3] > 0).astype(np.int64)
    Y[::4, 1] = -1
    return X, Y


def test_per_label_fits_each_label_on_its_known_rows():
    X, Y = multi_label_data()
    inner = LogisticRegression()
    model = PerLabel(inner)
    assert model.fit(X, Y) is model
    assert model.get_params()["estimator"] is inner and not hasattr(inner, "coef_")  # cloned, not fitted
    known = Y[:, 1] >= 0
    alone = LogisticRegression().fit(X[known], Y[known, 1])
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], alone.predict_proba(X)[:, 1])
    assert model.predict(X).shape == Y.shape and set(np.unique(model.predict(X))) <= {0, 1}
    copy = clone(model)
    assert copy.get_params()["estimator"] is not inner and not hasattr(copy, "estimators_")
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(PerLabel(LogisticRegression()).fit(X, Y).fit(X, Y).predict_proba(X),
                                  model.predict_proba(X))  # refitting starts afresh


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_per_label_rejects_non_finite_features(bad):
    X, Y = multi_label_data()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        PerLabel(LogisticRegression()).fit(X, Y)


# the input contracts of a scikit-learn estimator, in their 2-d form
@pytest.mark.parametrize("case", ["unfitted", "nan-features-single-class-labels", "no-rows", "nan-labels",
                                  "row-mismatch", "one-d-y", "labels-not-0-1", "feature-count"])
def test_per_label_input_contracts(case):
    X, Y = multi_label_data()
    model = PerLabel(LogisticRegression())
    if case == "unfitted":
        with pytest.raises(NotFittedError):
            model.predict(X)
        return
    if case == "nan-features-single-class-labels":
        X[3, 2], Y = np.nan, np.zeros_like(Y)
    elif case == "no-rows":
        X, Y = X[:0], Y[:0]
    elif case == "nan-labels":
        Y = Y.astype(float)
        Y[0, 0] = np.nan
    elif case == "row-mismatch":
        Y = Y[:-1]
    elif case == "one-d-y":
        Y = Y[:, 0]
    elif case == "labels-not-0-1":
        Y = Y * 2
    else:
        with pytest.raises(ValueError, match="fitted on 5"):
            model.fit(X, Y).predict(X[:, :4])
        return
    with pytest.raises(ValueError):
        model.fit(X, Y)
