"""Feature families. ``FEATURES`` maps a name to its :class:`FeatureSpec`.

Flat features give one vector per clip (classical models, ``mlp``); time-frequency features give a
``(frames, bins)`` array per clip (the deep models).
"""

from . import (
    essentia_descriptors,
    log_mel,
    mfcc_seq,
    mfcc_stats,
    musicnn,
    nsynth_attributes,
    provided,
    spectrogram_150,
)
from .base import union

FEATURES = {
    "mfcc-stats": mfcc_stats.SPEC,
    "nsynth-attributes": nsynth_attributes.SPEC,
    "essentia-descriptors": essentia_descriptors.SPEC,
    "log-mel": log_mel.SPEC,
    "log-mel-essentia": log_mel.SPEC_ESSENTIA,
    "mfcc-seq": mfcc_seq.SPEC,
    "spectrogram-150": spectrogram_150.SPEC,
    "vggish": provided.VGGISH,
    "vggish-mean": provided.VGGISH_MEAN,
    "provided-melspec": provided.PROVIDED_MELSPEC,
    "musicnn-mtt": musicnn.SPEC,
    "musicnn-msd": musicnn.SPEC_MSD,
    "musicnn-mtt-tags": musicnn.SPEC_MTT_TAGS,
}
FEATURES["mfcc+essentia"] = union(
    "mfcc+essentia", (mfcc_stats.SPEC, essentia_descriptors.SPEC),
    description="mfcc-stats and essentia-descriptors side by side (112 values; built from their caches)")
