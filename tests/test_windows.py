"""Cutting a recording into windows (instrument_bench.windows.window_starts)."""

from __future__ import annotations

import pytest

from instrument_bench.windows import window_starts


def test_window_starts():
    assert window_starts(3.0, window=1.0, hop=0.5) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert window_starts(7.5, window=3.0, hop=3.0) == [0.0, 3.0]
    assert window_starts(1.2, window=3.0, hop=3.0) == [0.0]  # shorter: one padded window


def test_window_starts_cover_end():
    assert window_starts(10, window=4, hop=4, cover_end=True) == [0.0, 4.0, 6.0]  # last one ends at 10
    assert window_starts(10, window=4, hop=4) == [0.0, 4.0]
    assert window_starts(12, window=4, hop=4, cover_end=True) == [0.0, 4.0, 8.0]  # already ends at 12
    assert window_starts(2.5, window=4, hop=4, cover_end=True) == [0.0]  # shorter than one window
    assert window_starts(4, window=4, hop=4, cover_end=True) == [0.0]


@pytest.mark.parametrize("window, hop", [(0, 1), (1, 0), (-1, 1)])
def test_window_and_hop_must_be_positive(window, hop):
    with pytest.raises(ValueError, match="window and hop must be positive"):
        window_starts(10, window=window, hop=hop)
