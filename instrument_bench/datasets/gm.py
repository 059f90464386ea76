"""General MIDI program tables: NSynth families, sources and playable ranges.

A GM program is one "instrument" of the built-in data. Programs map onto NSynth's 11 instrument
families as ``keyboard 0-7, mallet 8-15, organ 16-23, guitar 24-31, bass 32-39, string 40-51,
vocal 52-54, brass 56-63, reed 64-71, flute 72-79, synth_lead 80-87``. Program 55 (orchestra hit)
and 88-127 (pads, effects, ethnic, percussive, sound effects) have no NSynth family and are not used.
Timpani (47) stays in ``string`` because GM files it with the orchestral strings.
"""

from __future__ import annotations

# NSynth's own family and source ids (the real dataset's examples.json uses these integers).
NSYNTH_FAMILIES = (
    "bass", "brass", "flute", "guitar", "keyboard", "mallet",
    "organ", "reed", "string", "synth_lead", "vocal",
)
NSYNTH_SOURCES = ("acoustic", "electronic", "synthetic")
NSYNTH_QUALITIES = (
    "bright", "dark", "distortion", "fast_decay", "long_release",
    "multiphonic", "nonlinear_env", "percussive", "reverb", "tempo-synced",
)

FAMILY_PROGRAMS = {
    "keyboard": range(0, 8),
    "mallet": range(8, 16),
    "organ": range(16, 24),
    "guitar": range(24, 32),
    "bass": range(32, 40),
    "string": range(40, 52),
    "vocal": range(52, 55),
    "brass": range(56, 64),
    "reed": range(64, 72),
    "flute": range(72, 80),
    "synth_lead": range(80, 88),
}

# NSynth: acoustic = an acoustic instrument, electronic = an electric/electronic instrument
# (electric piano, electric guitar, drawbar organ ...), synthetic = a synthesizer.
_ELECTRONIC = {2, 4, 5, 7, 16, 17, 18, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36, 37}
_SYNTHETIC = {38, 39, 50, 51, 54, 62, 63, *range(80, 88)}

# Playable MIDI pitch range per program (lowest, highest), from the instruments' usual compass;
# programs not listed use their family's range.
FAMILY_RANGES = {
    "keyboard": (33, 96), "mallet": (53, 96), "organ": (36, 96), "guitar": (40, 84),
    "bass": (28, 60), "string": (36, 96), "vocal": (48, 79), "brass": (40, 82),
    "reed": (50, 86), "flute": (60, 96), "synth_lead": (36, 96),
}
PROGRAM_RANGES = {
    8: (60, 96), 9: (67, 100), 10: (60, 96), 11: (53, 89), 12: (45, 96), 13: (65, 100),
    14: (60, 77), 15: (55, 84),
    40: (55, 96), 41: (48, 84), 42: (36, 72), 43: (28, 60), 45: (36, 84), 46: (28, 96),
    47: (40, 55),
    56: (55, 82), 57: (40, 72), 58: (28, 58), 59: (55, 82), 60: (41, 77),
    64: (56, 87), 65: (49, 81), 66: (44, 76), 67: (36, 69), 68: (58, 91), 69: (52, 81),
    70: (34, 72), 71: (50, 91),
    72: (74, 102), 73: (60, 96), 77: (55, 84), 79: (60, 84),
}


def family_of(program: int) -> str:
    """NSynth family name of a GM program (0-based).

    Parameters
    ----------
    program : int
        General MIDI program number, 0-127.
    """
    for family, programs in FAMILY_PROGRAMS.items():
        if program in programs:
            return family
    raise ValueError(f"GM program {program} has no NSynth family (valid: 0-54, 56-87)")


def source_of(program: int) -> str:
    """NSynth instrument source (acoustic / electronic / synthetic) of a GM program."""
    family_of(program)
    if program in _SYNTHETIC:
        return "synthetic"
    if program in _ELECTRONIC:
        return "electronic"
    return "acoustic"


def pitch_range(program: int) -> tuple[int, int]:
    """Lowest and highest MIDI pitch the built-in data plays on a GM program."""
    return PROGRAM_RANGES.get(program, FAMILY_RANGES[family_of(program)])


def all_programs() -> list[int]:
    """Every GM program the built-in data uses, in order."""
    return [p for programs in FAMILY_PROGRAMS.values() for p in programs]
