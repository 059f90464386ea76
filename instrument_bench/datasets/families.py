"""The shared label vocabulary: every dataset's labels mapped onto NSynth's 11 instrument families.

Each dataset module declares a :class:`FamilyMap` (``FAMILY_MAP``): the clip metadata field that
holds its labels and, for every label of its vocabulary, the NSynth family it belongs to or None
(dropped: drums, cymbals, a "computer" tag ...). Cross-source experiments score a model trained
on one dataset's families on another dataset's clips through these maps; an audio folder takes its
map from its suite table (``families = {"cello" = "string", ...}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import DatasetError
from .gm import FAMILY_PROGRAMS, NSYNTH_FAMILIES


@dataclass(frozen=True)
class FamilyMap:
    """How a dataset's labels map to NSynth families.

    Parameters
    ----------
    field : str
        The clip metadata field holding a label or a list of labels.
    families : Mapping
        Label -> NSynth family name, or None for a label with no family (dropped).
    """

    field: str
    families: Mapping = field(default_factory=dict)

    def __post_init__(self):
        bad = {k: v for k, v in self.families.items() if v is not None and v not in NSYNTH_FAMILIES}
        if bad:
            raise DatasetError(f"family map of {self.field!r}: {bad} are not NSynth families "
                               f"({', '.join(NSYNTH_FAMILIES)})")

    def of(self, clip) -> tuple[str, ...] | None:
        """The NSynth families of a clip's labels, sorted (None: the clip has no such field).

        Raises
        ------
        DatasetError
            A label the map does not list (neither a family nor dropped).
        """
        value = clip.meta.get(self.field)
        if value is None:
            return None
        labels = value if isinstance(value, (list, tuple)) else [value]
        out = set()
        for label in labels:
            if label not in self.families:
                raise DatasetError(f"{clip.path or clip.clip_id}: label {label!r} of {self.field!r} has "
                                   "no entry in the dataset's family map")
            if self.families[label] is not None:
                out.add(self.families[label])
        return tuple(sorted(out))

    def known(self, clip) -> tuple[str, ...] | None:
        """The families whose presence a clip's annotation decides (OpenMIC-2018 asked about some
        labels only: ``annotated``); None: all of them."""
        annotated = clip.meta.get("annotated")
        if annotated is None:
            return None
        return tuple(sorted({self.families[a] for a in annotated if self.families.get(a) is not None}))


def gm_code_families() -> dict[int, str | None]:
    """MusicNet-style instrument codes (General MIDI program + 1, 1-128) -> NSynth family."""
    return {code: next((f for f, programs in FAMILY_PROGRAMS.items() if code - 1 in programs), None)
            for code in range(1, 129)}


def identity(field_name: str) -> FamilyMap:
    """The map of a dataset whose labels are NSynth families already."""
    return FamilyMap(field_name, {f: f for f in NSYNTH_FAMILIES})
