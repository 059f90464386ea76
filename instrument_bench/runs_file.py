"""Reading ``runs.csv`` defensively: every row is checked before it counts as finished work.

A row is finished work only if it parses into the header's number of fields and carries a run
key, a status, its cell's names, a seed, a time and, for ``ok`` rows, a finite primary metric. A
torn or foreign row (a line cut by a crash of an older version, a copy cut short, a hand edit)
is returned as rejected, so the caller sets it aside and its cell is recomputed. Damage that
would hide the rows after it (an unbalanced quote in the middle of the file) raises an error
naming the line and how to recover, since no row after it can be trusted.
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from .errors import InstrumentBenchError

REQUIRED = ("run_key", "status", "dataset", "task", "feature", "model", "seed", "utc_time")
RUN_KEY = re.compile(r"^[0-9a-f]{16}$")
# the test condition of a row beyond its test dataset: the instrument sources it was trained and
# tested on (a source test; "-": every source) and the perturbation of its test audio ("-": none)
CONDITION = ("train_source", "test_source", "perturbation", "severity")
# hex keys that happen to look like numbers, and severities ("30", "-"), stay text
KEYS = {"run_key": str, "model_key": str, **dict.fromkeys(CONDITION, str)}
# a leaderboard row: one per GROUP; rows are ranked within a BLOCK (the training set, the task and
# the test set under its condition: cross-source, source-test and perturbed rows are ranked apart
# from in-source ones, each perturbation at each severity apart from the others)
BLOCK = ["dataset", "train_source", "task", "test_dataset", "test_source", "perturbation", "severity"]
GROUP = [*BLOCK, "feature", "model", "loss", "predictor"]


def is_clean(frame) -> pd.Series:
    """Which rows of a runs or leaderboard frame are plain rows: every source, no perturbation."""
    out = pd.Series(True, index=frame.index)
    for column in CONDITION:
        if column in frame:
            out &= frame[column].fillna("-").astype(str) == "-"
    return out


class ResultsError(InstrumentBenchError):
    """A results file is damaged where the tool cannot tell good rows from bad ones."""


def _reason(row: dict) -> str | None:
    """Why a parsed row is not finished work, or None when it is."""
    if not RUN_KEY.match(row.get("run_key", "")):
        return f"run_key {row.get('run_key', '')!r} is not a 16-digit hex key"
    if row.get("status") not in ("ok", "failed"):
        return f"status {row.get('status')!r} is neither ok nor failed"
    empty = [k for k in REQUIRED if not row.get(k)]
    if empty:
        return f"{', '.join(empty)} empty"
    try:
        int(float(row["seed"]))
        datetime.fromisoformat(row["utc_time"])
    except ValueError:
        return f"seed {row['seed']!r} or utc_time {row['utc_time']!r} unreadable"
    if row["status"] == "ok":
        metric = row.get("primary_metric", "")
        try:
            value = float(row.get(metric, ""))
        except ValueError:
            return f"primary metric {metric!r} missing or not a number"
        if not math.isfinite(value):
            return f"primary metric {metric!r} is {value}"
    return None


def _hides_later_rows(path, start: int, end: int) -> ResultsError:
    return ResultsError(f"{path}: line {start + 1}: a damaged row spans lines {start + 1}-{end}, so the "
                        "rows after it cannot be trusted; keep the lines before it (head -n "
                        f"{start} {path} > {path}.kept && mv {path}.kept {path}) or move the file aside "
                        f"(mv {path} {path}.damaged), then rerun")


def parse_runs(path) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """The finished rows of ``path`` and the rejected ones.

    Returns
    -------
    frame : pd.DataFrame
        The valid rows (empty when the file is missing or empty).
    rejected : list of (line, text, reason)
        Every torn or invalid row: its first line number, its raw text and why.

    Raises
    ------
    ResultsError
        The header is unreadable, or damage in the middle of the file hides the rows after it.
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame(), []
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as exc:
        raise ResultsError(f"{path}: line 1: the header is unreadable ({exc}); move the file aside "
                           f"(mv {path} {path}.damaged) and rerun to recompute every cell") from None
    if not set(REQUIRED) <= set(header):
        missing = ", ".join(sorted(set(REQUIRED) - set(header)))
        raise ResultsError(f"{path}: line 1: the header lacks {missing}; move the file aside "
                           f"(mv {path} {path}.damaged) and rerun")
    good, rejected, start = [lines[0]], [], reader.line_num
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # an unclosed quote: the rest of the file is one torn record
            if len(lines) - start > 1:
                raise _hides_later_rows(path, start, len(lines)) from None
            rejected.append((start + 1, "".join(lines[start:]), f"cannot parse ({exc})"))
            break
        raw, end = "".join(lines[start:reader.line_num]), reader.line_num
        if not fields:
            start = end
            continue
        if len(fields) != len(header):
            reason = f"{len(fields)} fields, the header has {len(header)}"
        else:
            reason = _reason(dict(zip(header, fields)))
        if reason is None:
            good.append(raw)
        elif end - start > 1 and end < len(lines):
            raise _hides_later_rows(path, start, end)
        else:
            rejected.append((start + 1, raw, reason))
        start = end
    if len(good) == 1:
        return pd.DataFrame(columns=header), rejected
    frame = pd.read_csv(io.StringIO("".join(good)), dtype=KEYS)
    return frame, rejected


def rejected_frame(rejected) -> pd.DataFrame:
    """Rejected rows as written to ``runs.rejected.csv``: line, reason, the raw text."""
    return pd.DataFrame([{"line": n, "reason": why, "text": text.rstrip("\r\n")}
                         for n, text, why in rejected])
