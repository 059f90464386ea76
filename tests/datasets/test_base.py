"""The dataset contract's helpers (instrument_bench.datasets.base)."""

from __future__ import annotations

import pytest

from instrument_bench.datasets.base import safe_path
from instrument_bench.errors import DatasetError


def test_safe_path_refuses_paths_that_leave_the_root(tmp_path):
    (tmp_path / "root" / "a").mkdir(parents=True)
    (tmp_path / "outside.mp3").write_bytes(b"x")
    (tmp_path / "root" / "link").symlink_to(tmp_path)
    inside = safe_path(tmp_path / "root", "a/b.mp3", source="m.tsv: line 2")
    assert inside == tmp_path / "root" / "a" / "b.mp3"
    for bad in ("../outside.mp3", "/etc/passwd", "a/../../outside.mp3", "link/outside.mp3", ""):
        with pytest.raises(DatasetError, match="m.tsv: line 2: path"):
            safe_path(tmp_path / "root", bad, source="m.tsv: line 2")
