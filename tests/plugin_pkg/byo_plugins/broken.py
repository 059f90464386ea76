"""Encoders that check-encoder must refuse, one problem each."""

import numpy as np

NOT_CALLABLE = 3


def wrong_shape(audio_batch, sample_rate):
    """One number per clip: 1-d, not (clips, dim)."""
    return np.asarray(audio_batch).mean(axis=1)


def wrong_rows(audio_batch, sample_rate):
    """One row too many."""
    return np.ones((len(audio_batch) + 1, 4), dtype=np.float32)


def with_nan(audio_batch, sample_rate):
    """A NaN in the first clip's embedding."""
    out = np.ones((len(audio_batch), 4), dtype=np.float32)
    out[0, 1] = np.nan
    return out


def with_inf(audio_batch, sample_rate):
    """An infinite value."""
    out = np.ones((len(audio_batch), 4), dtype=np.float32)
    out[-1, 0] = np.inf
    return out


def noisy(audio_batch, sample_rate):
    """Different every call: not deterministic."""
    return np.random.default_rng().normal(size=(len(audio_batch), 4)).astype(np.float32)


def raises(audio_batch, sample_rate):
    """Fails."""
    raise RuntimeError("boom")
