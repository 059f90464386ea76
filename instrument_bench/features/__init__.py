"""Feature families. ``FEATURES`` maps a name to its :class:`FeatureSpec`."""

from . import essentia_descriptors, mfcc_stats, nsynth_attributes

FEATURES = {
    "mfcc-stats": mfcc_stats.SPEC,
    "nsynth-attributes": nsynth_attributes.SPEC,
    "essentia-descriptors": essentia_descriptors.SPEC,
}
