"""musicnn's networks rebuilt in Keras 3: pre-processing, weight mapping, and agreement with the
authors' own TensorFlow 1 graph (its ``.meta``, run in a separate ``tf.Graph`` and session)."""

from __future__ import annotations

import importlib.util
import os

import librosa
import numpy as np
import pytest

from instrument_bench.errors import FeatureError, UnknownNameError
from instrument_bench.features import musicnn

SR = 16000
needs_musicnn = pytest.mark.skipif(importlib.util.find_spec("musicnn") is None,
                                   reason="pip install --no-deps musicnn==0.1.0")

# The original graph's outputs: tag probabilities, and the tensor the model's "penultimate" mirrors
# (musicnn: the batch-normed 200-unit dense layer, as musicnn's extractor returns it; vgg: flattened pool5).
REFERENCE_OUTPUTS = {
    "musicnn": ("model/Sigmoid", "model/batch_normalization_10/batchnorm/add_1"),
    "vgg": ("model/Sigmoid", "model/Flatten/flatten/Reshape"),
}
TOLERANCE = 1e-4


def harmonic_tone(seconds: float, *, f0: float = 220.0, sample_rate: int = SR, seed: int = 0,
                  noise: float = 0.02):
    """A decaying 8-harmonic tone with a little noise: real-ish input for the networks."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    tone = sum(0.3 / k * np.sin(2 * np.pi * f0 * k * t) for k in range(1, 9)) * np.exp(-t / 3)
    return (tone + noise * np.random.default_rng(seed).standard_normal(t.size)).astype(np.float32)


def chirp(seconds: float, *, sample_rate: int = SR):
    return (0.2 * librosa.chirp(fmin=100.0, fmax=4000.0, sr=sample_rate,
                                duration=seconds)).astype(np.float32)


def test_missing_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr(musicnn, "PACKAGE", "musicnn_not_installed_for_this_test")
    expected = r"^musicnn is not installed: pip install --no-deps musicnn==0\.1\.0$"
    with pytest.raises(FeatureError, match=expected):
        musicnn.package_dir()
    with pytest.raises(FeatureError, match="pip install --no-deps musicnn==0.1.0"):
        musicnn.tag_names("MTT_musicnn")


def test_unknown_model_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="MTT_musicnn"):
        musicnn.load_model("MTT_resnet")


def test_patches_overlap_by_half():
    patches = musicnn.log_mel_patches(harmonic_tone(10.0), sample_rate=SR)
    frames = 1 + 10 * SR // musicnn.HOP_LENGTH  # 626 centred frames
    assert patches.shape == (len(range(0, frames - 187 + 1, 93)), 187, 96) == (5, 187, 96)
    assert patches.dtype == np.float32
    for a, b in zip(patches[:-1], patches[1:]):
        np.testing.assert_array_equal(a[93:], b[:94])


def test_exactly_one_patch_is_not_padded_and_one_frame_less_is():
    exact = harmonic_tone(186 * 256 / SR)  # 187 frames
    short = exact[:185 * 256]  # 186 frames
    # the last frame differs; the others hold the same samples (up to one float16 step of the mel:
    # the FFT's last bits depend on the input's length on some numpy/scipy builds)
    np.testing.assert_allclose(musicnn.log_mel_patches(short, sample_rate=SR)[0, :185],
                               musicnn.log_mel_patches(exact, sample_rate=SR)[0, :185], rtol=0, atol=1e-3)
    assert musicnn.log_mel_patches(exact, sample_rate=SR).shape == (1, 187, 96)
    padded = musicnn.log_mel_patches(short, sample_rate=SR)
    np.testing.assert_array_equal(padded[0, 186], padded[0, 0])  # the 187th frame repeats the first


def test_short_clip_is_repeat_padded():
    patches = musicnn.log_mel_patches(chirp(1.0), sample_rate=SR)  # 63 frames
    assert patches.shape == (1, 187, 96)
    p = patches[0]
    np.testing.assert_array_equal(p[63:126], p[:63])
    np.testing.assert_array_equal(p[126:], p[:61])
    assert not np.array_equal(p[1], p[0])  # a chirp: the frames differ, so the tiling is visible


def test_patches_follow_musicnn_extractor_arithmetic():
    """musicnn's batch_data: librosa mel (reflect-padded frames, as librosa 0.7), float16, log10(10000x+1)."""
    y = harmonic_tone(7.0) * 0.1  # quiet enough for musicnn's float16 product not to overflow
    mel = librosa.feature.melspectrogram(y=y, sr=SR, hop_length=256, n_fft=512, n_mels=96,
                                         pad_mode="reflect").T.astype(np.float16)
    theirs = np.log10(10000 * mel + 1)  # float16 arithmetic, as in musicnn
    ours = musicnn.log_mel_patches(y, sample_rate=SR)
    assert theirs.dtype == np.float16
    starts = range(0, len(theirs) - 187 + 1, 93)
    expected = np.stack([theirs[s:s + 187] for s in starts]).astype(np.float32)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=2e-3, atol=1e-3)
    exact = np.log10(10000 * mel.astype(np.float32) + 1)[:187]
    np.testing.assert_allclose(ours[0], exact, rtol=1e-6, atol=1e-6)


def test_loud_input_stays_finite_where_musicnn_float16_overflows():
    t = np.arange(3 * SR) / SR
    y = (0.9 * np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    mel = librosa.feature.melspectrogram(y=y, sr=SR, hop_length=256, n_fft=512, n_mels=96).astype(np.float16)
    with np.errstate(over="ignore"):
        assert np.isinf(np.log10(10000 * mel + 1)).any()
    assert np.isfinite(musicnn.log_mel_patches(y, sample_rate=SR)).all()


def test_other_rates_are_resampled_and_stereo_averaged():
    ours = musicnn.log_mel_patches(harmonic_tone(4.0, noise=0), sample_rate=SR)
    at_44k = musicnn.log_mel_patches(harmonic_tone(4.0, sample_rate=44100, noise=0), sample_rate=44100)
    assert at_44k.shape == ours.shape == (1, 187, 96)
    loud = ours > 2  # the harmonics' bands (the rest is resampling noise floor)
    assert loud.mean() > 0.1 and np.abs(at_44k - ours)[loud].max() < 0.05
    mono = harmonic_tone(4.0)
    np.testing.assert_allclose(musicnn.log_mel_patches(np.stack([mono, mono]), sample_rate=SR),
                               musicnn.log_mel_patches(mono, sample_rate=SR), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("audio", [np.zeros(0, np.float32), np.full(SR, np.nan, np.float32),
                                   np.zeros((2, 2, 100), np.float32)])
def test_unusable_audio_raises(audio):
    with pytest.raises(FeatureError, match="musicnn"):
        musicnn.log_mel_patches(audio, sample_rate=SR)


@needs_musicnn
def test_tag_names():
    mtt, msd = musicnn.tag_names("MTT_musicnn"), musicnn.tag_names("MSD_vgg")
    assert len(mtt) == len(set(mtt)) == 50 and len(msd) == len(set(msd)) == 50
    assert (mtt[0], mtt[9], mtt[-1]) == ("guitar", "piano", "choral")
    assert (msd[0], msd[-1]) == ("rock", "happy")
    assert musicnn.tag_names("MTT_vgg") == mtt


@needs_musicnn
def test_wrong_checkpoint_names_missing_and_unmapped_variables():
    prefix = os.path.join(str(musicnn.package_dir() / "MTT_vgg"), "")
    with pytest.raises(FeatureError) as raised:
        musicnn._assign_checkpoint(musicnn._build("MTT_musicnn"), prefix)
    message = str(raised.value)
    assert "no checkpoint variable: ['batch_normalization_10/beta'" in message
    assert "conv2d_7/kernel" in message and "'1CNN/kernel'" in message and "Adam" not in message


def reference_outputs(name: str, patches: np.ndarray):
    """The authors' graph from the model's ``.meta``, in its own ``tf.Graph`` and v1 session.

    ``import_meta_graph`` fails on the whole training graph under current TensorFlow, so only the
    inference subgraph is imported (without the stale ``_output_shapes``) and every variable in it is
    assigned from the checkpoint by name.
    """
    import tensorflow as tf

    folder = musicnn.package_dir() / name
    meta = tf.compat.v1.MetaGraphDef()
    meta.ParseFromString((folder / ".meta").read_bytes())
    for node in meta.graph_def.node:
        if "_output_shapes" in node.attr:
            del node.attr["_output_shapes"]
    outputs = REFERENCE_OUTPUTS["vgg" if name.endswith("vgg") else "musicnn"]
    graph_def = tf.compat.v1.graph_util.extract_sub_graph(meta.graph_def, list(outputs))
    reader = tf.compat.v1.train.NewCheckpointReader(os.path.join(str(folder), ""))
    for node in graph_def.node:  # its dropout (off: is_training is False) needs a seed under op determinism
        if node.op.startswith("Random"):
            node.attr["seed"].i, node.attr["seed2"].i = 1, 1
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
        variables = [node.name for node in graph_def.node if node.op == "VariableV2"]
        assigns = [tf.compat.v1.assign(graph.get_tensor_by_name(f"{v}:0"), reader.get_tensor(v))
                   for v in variables]
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(assigns)
        tags, penultimate = session.run([f"{o}:0" for o in outputs],
                                        {"model/Placeholder:0": patches, "model/Placeholder_2:0": False})
    return {"tags": tags, "penultimate": penultimate, "variables": variables}


@needs_musicnn
@pytest.mark.parametrize("name", musicnn.MUSICNN_MODELS)
def test_keras_rebuild_matches_the_original_graph(name):
    import tensorflow as tf

    clips = (harmonic_tone(7.5), chirp(1.2), harmonic_tone(4.0, f0=82.4, seed=1) * 3)
    patches = np.concatenate([musicnn.log_mel_patches(clip, sample_rate=SR) for clip in clips])
    reference = reference_outputs(name, patches)
    assert tf.executing_eagerly()  # the v1 session left eager Keras alone
    model = musicnn.load_model(name)
    weights = {f"{layer.name}/{w.name}" for layer in model.layers for w in layer.weights}
    assert weights == set(reference["variables"])  # the graph reads exactly the variables the rebuild maps
    ours = musicnn.predict(patches, model=name)
    tags_diff = float(np.abs(ours["tags"] - reference["tags"]).max())
    penultimate_diff = float(np.abs(ours["penultimate"] - reference["penultimate"]).max())
    print(f"{name}: {len(patches)} patches, max |diff| tags {tags_diff:.2e}, "
          f"penultimate {penultimate_diff:.2e}")
    assert ours["tags"].shape == (len(patches), 50)
    assert tags_diff < TOLERANCE
    assert penultimate_diff < TOLERANCE
    assert np.ptp(reference["tags"], axis=0).max() > 0.01  # the inputs do move the tags


@needs_musicnn
@pytest.mark.parametrize("name,width", [("MTT_musicnn", 200), ("MTT_vgg", 256)])
def test_embed_and_tag_scores(name, width):
    clips = np.stack([harmonic_tone(7.5), harmonic_tone(7.5, f0=330.0, seed=2)])
    model = musicnn.load_model(name)
    assert model is musicnn.load_model(name)
    assert {k: tuple(v.shape) for k, v in model.output.items()} == {"penultimate": (None, width),
                                                                    "tags": (None, 50)}
    patches = musicnn.log_mel_patches(clips[0], sample_rate=SR)
    outputs = musicnn.predict(patches, model=name)
    vector = musicnn.embed(clips[0], sample_rate=SR, model=name)
    assert vector.shape == (2 * width,) and vector.dtype == np.float32
    np.testing.assert_allclose(vector[:width], outputs["penultimate"].mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vector[width:], outputs["penultimate"].max(axis=0), rtol=1e-5, atol=1e-6)
    scores = musicnn.tag_scores(clips[0], sample_rate=SR, model=name)
    np.testing.assert_allclose(scores, outputs["tags"].mean(axis=0), rtol=1e-5, atol=1e-6)
    assert scores.shape == (50,) and ((scores > 0) & (scores < 1)).all()
    batch = musicnn.embed_batch(clips, sample_rate=SR, model=name)
    np.testing.assert_allclose(batch, [musicnn.embed(c, sample_rate=SR, model=name) for c in clips],
                               rtol=1e-4, atol=1e-5)
