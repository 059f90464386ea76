"""``nsynth-attributes``: NSynth's 10 note qualities, pitch and velocity from the metadata.

The 12 note attributes that the NSynth family study fed to its MLP.
"""

from __future__ import annotations

import numpy as np

from .base import FeatureSpec


def from_meta(meta) -> np.ndarray:
    """The 12 note attributes of one NSynth example: 10 quality flags, pitch, velocity."""
    return np.asarray([*meta["qualities"], meta["pitch"], meta["velocity"]], dtype=np.float32)


SPEC = FeatureSpec(
    name="nsynth-attributes",
    from_meta=from_meta,
    description="NSynth's 10 note qualities + pitch + velocity from metadata (12 values)",
)
