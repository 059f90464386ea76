"""``check-encoder``: run an encoder on a few rendered notes and check what it returns.

SPEC is a ``.keras`` file, a ``module:function`` callable, or the name of a registered feature
(built in, from an entry point, or from ``--suite``'s ``[encoders.<name>]`` tables). The encoder
runs twice on the same notes (two General MIDI programs, two notes each, 16 kHz): its output must
be a 2-d ``(clips, dim)`` array of real numbers, one row per clip, finite, and the same both
times. Naming ``module:function`` imports and runs that module's code.
"""

from __future__ import annotations

from .config import load_suite
from .errors import FeatureError
from .features import FEATURES
from .features.encoders import CHECK_PROGRAMS, check_encoder
from .models.plugins import load_plugins, register_suite


def check(spec: str, *, input: str = "audio", sample_rate: int = 16000, suite: str | None = None) -> dict:
    """Check the encoder ``spec`` names; see :func:`~.features.encoders.check_encoder`.

    Raises
    ------
    FeatureError
        One line naming ``spec`` and its problem.
    SuiteError
        ``suite`` does not load or names code that does not import.
    """
    load_plugins()
    if suite:
        register_suite(load_suite(suite))
    if spec in FEATURES:
        return check_encoder(FEATURES[spec], sample_rate=sample_rate, label=spec)
    if spec.endswith(".keras") or ":" in spec:
        return check_encoder(spec, input=input, sample_rate=sample_rate)
    raise FeatureError(f"{spec}: not a .keras file, a module:function or a registered feature "
                       f"(features: {', '.join(sorted(FEATURES))})")


def report_lines(result: dict) -> list[str]:
    """What ``check-encoder`` prints about a good encoder."""
    return [f"encoder {result['encoder']}",
            f"  input          {result['clips']} rendered notes of {result['clip_seconds']:g} s at "
            f"{result['sample_rate']} Hz (GM programs {', '.join(map(str, CHECK_PROGRAMS))})",
            f"  output         shape {result['shape']}, dtype {result['dtype']}",
            "  finite         yes (no NaN or inf)",
            "  deterministic  yes (two calls gave identical output)",
            f"  speed          {result['clips_per_second']:.1f} clips/s",
            "OK"]
