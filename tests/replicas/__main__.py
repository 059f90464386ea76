"""``python -m tests.replicas DIR``: write all six replicas under DIR."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import write_all


def main(argv=None) -> int:
    """``python -m tests.replicas DIR``: write all six replicas under DIR, one line each."""
    parser = argparse.ArgumentParser(prog="python -m tests.replicas", description=main.__doc__)
    parser.add_argument("dir", type=Path, help="data root to write the replicas into")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    for name, path in write_all(args.dir).items():
        files = [p for p in path.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files) / 1e6
        print(f"{name:16s} {path}  {len(files)} files, {size:.1f} MB")
    print(f"done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
