"""Cutting a recording into windows: start positions in any unit (seconds, samples, frames)."""

from __future__ import annotations

import numpy as np


def window_starts(length: float, *, window: float, hop: float, cover_end: bool = False) -> list[float]:
    """Start positions of ``window``-long windows, one every ``hop``, inside a ``length``-long signal.

    A signal shorter than one window gives one window at 0 (zero-padded where features are
    computed). With ``cover_end``, a last window ending at the end of the signal is added when the
    regular ones stop short of it.

    Examples
    --------
    >>> window_starts(3.0, window=1.0, hop=0.5)
    [0.0, 0.5, 1.0, 1.5, 2.0]
    >>> window_starts(10, window=4, hop=4, cover_end=True)
    [0.0, 4.0, 6.0]
    """
    if window <= 0 or hop <= 0:
        raise ValueError("window and hop must be positive")
    n = max(1, int(np.floor((length - window) / hop + 1e-9)) + 1)
    starts = [round(k * hop, 6) for k in range(n)]
    if cover_end and length > window and starts[-1] + window < length:
        starts.append(round(length - window, 6))
    return starts


def spread_starts(length: int, *, window: int | None, hop: int | None = None) -> list[int]:
    """Start frames of evenly spread windows covering ``length`` frames (one window when it fits).

    About one window per ``hop`` frames (default: a third of the window); the first window starts
    at frame 0 and the last ends at the last frame. The windowed Keras models train and predict
    on these.
    """
    if not window or length <= window:
        return [0]
    hop = hop or max(1, window // 3)
    count = max(1, round((length - window) / hop)) + 1
    return sorted({int(round(s)) for s in np.linspace(0, length - window, count)})
