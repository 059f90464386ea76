"""Result files: ``runs.csv`` (one row per cell and seed), ``per_class.csv`` and ``leaderboard.csv``.

Every write goes to a temporary file in the same folder and is renamed over the target, so a
reader never sees a torn file and a killed run loses at most the cell it was computing. A cell's
per-class rows are written before its runs.csv rows: a cell is finished once it is in runs.csv,
and a rerun of an unfinished cell replaces any per-class rows it left. Every read-modify-write of
the folder holds ``<results>/.lock`` (a file lock), so runs writing into one folder at once
neither lose nor tear each other's rows.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from filelock import FileLock

from .artifacts import load_predictions
from .protocol.metrics import MULTI_LABEL_METRICS, SINGLE_LABEL_METRICS
from .runs_file import BLOCK, CONDITION, GROUP, KEYS, is_clean, parse_runs, rejected_frame
from .stats.ranks import rank_across
from .stats.significance import RESAMPLES, add_statistics, with_block_columns
from .storage import atomic_write, storage_error

RUNS = "runs.csv"
REJECTED = "runs.rejected.csv"
SKIPPED = "skipped.csv"
PER_CLASS = "per_class.csv"
LEADERBOARD = "leaderboard.csv"
RANKS = "ranks.csv"
RANKS_PAIRWISE = "ranks_pairwise.csv"
__all__ = ["BLOCK", "CONDITION", "GROUP", "is_clean"]
# what rows written before a column existed mean by it (test_dataset: the training set itself)
GROUP_DEFAULTS = {"loss": "-", "predictor": "argmax"}
COST_COLUMNS = ("fit_seconds", "predict_ms_per_clip", "model_bytes", "params_count", "epochs_trained")
SELECTION_COLUMNS = ("valid_score",)


LOCK = ".lock"
LOCK_TIMEOUT = 600  # seconds to wait for another run's write


@contextmanager
def results_lock(results_dir):
    """Hold the results folder's file lock (other runs wait for it).

    Raises
    ------
    StorageError
        The folder cannot be created or written (read-only, no space).
    """
    results_dir = Path(results_dir)
    lock = FileLock(str(results_dir / LOCK), timeout=LOCK_TIMEOUT)
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except OSError as exc:
        raise storage_error(results_dir / LOCK, exc) from None
    try:
        yield
    finally:
        lock.release()


def write_csv_atomic(frame: pd.DataFrame, path) -> None:
    """Write ``frame`` to ``path`` through a temporary file and an atomic rename."""
    with atomic_write(path) as tmp:
        frame.to_csv(tmp, index=False)


def append_csv(frame: pd.DataFrame, path) -> None:
    """Append ``frame``'s rows to the CSV at ``path`` (columns are united), atomically."""
    old = read_csv(path)
    write_csv_atomic(pd.concat([old, frame], ignore_index=True) if not old.empty else frame, path)


def read_csv(path) -> pd.DataFrame:
    """Read a results CSV, or an empty frame when there is none yet."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame()
    return pd.read_csv(path, dtype=KEYS)


def is_true(value) -> bool:
    """True for a True read from a results CSV (False for False, NaN and empty)."""
    return bool(pd.notna(value) and value)


def interval_text(row, metric: str) -> str:
    """``[low, high]`` of a leaderboard row's 95 % interval of ``metric`` (empty when it has none)."""
    low, high = row.get(f"{metric}_ci_low"), row.get(f"{metric}_ci_high")
    return f"[{low:.3f}, {high:.3f}]" if pd.notna(low) and pd.notna(high) else ""


def read_runs(results_dir) -> pd.DataFrame:
    """The valid rows of ``runs.csv`` (torn or invalid rows left out: :func:`repair_runs` sets
    them aside)."""
    return parse_runs(Path(results_dir) / RUNS)[0]


def _set_aside(results_dir: Path, rejected) -> None:
    """Append rejected rows to runs.rejected.csv (the lock is held)."""
    old = read_csv(results_dir / REJECTED)
    new = rejected_frame(rejected)
    write_csv_atomic(pd.concat([old, new], ignore_index=True) if not old.empty else new,
                     results_dir / REJECTED)


def repair_runs(results_dir) -> list[tuple[int, str, str]]:
    """Move the torn or invalid rows of runs.csv to runs.rejected.csv (their cells are then
    recomputed) and return them; raises ResultsError for damage that hides later rows."""
    results_dir = Path(results_dir)
    with results_lock(results_dir):
        runs, rejected = parse_runs(results_dir / RUNS)
        if rejected:
            _set_aside(results_dir, rejected)
            write_csv_atomic(runs, results_dir / RUNS)
    return rejected


def finished_keys(results_dir) -> set[str]:
    """Run keys of the cells that finished with status ``ok``."""
    runs = read_runs(results_dir)
    if runs.empty:
        return set()
    return set(runs.loc[runs["status"] == "ok", "run_key"])


def record_runs(results_dir, rows: list[dict], per_class: list[dict]) -> None:
    """Add one cell's rows (one per predictor) to runs.csv and its per-class rows to per_class.csv.

    Older rows with the same ``run_key`` (a forced rerun, a retried failure) are replaced.
    """
    results_dir = Path(results_dir)
    keys = {row["run_key"] for row in rows}
    with results_lock(results_dir):
        for name, new in ((PER_CLASS, per_class), (RUNS, rows)):  # runs.csv last: the commit
            if name == RUNS:
                old, rejected = parse_runs(results_dir / RUNS)
                if rejected:
                    _set_aside(results_dir, rejected)
            else:
                old = read_csv(results_dir / name)
            if not old.empty:
                old = old[~old["run_key"].isin(keys)]
            if not new and old.empty:
                continue
            frames = [f for f in (old, pd.DataFrame(new)) if not f.empty]
            write_csv_atomic(pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0],
                             results_dir / name)


def record_skipped(results_dir, dataset: str, rows: list[dict]) -> None:
    """Replace the rows of ``dataset`` in skipped.csv (clips ``--on-bad-clip skip`` left out)."""
    path = Path(results_dir) / SKIPPED
    with results_lock(results_dir):
        old = read_csv(path)
        if not old.empty:
            old = old[old["dataset"] != dataset]
        frames = [f for f in (old, pd.DataFrame(rows)) if not f.empty]
        if frames:
            write_csv_atomic(pd.concat(frames, ignore_index=True), path)


def forget_failures(results_dir, *, dataset: str, kind: str) -> None:
    """Drop the ``failure == kind`` rows of ``dataset`` from runs.csv (its data loads now)."""
    path = Path(results_dir) / RUNS
    with results_lock(results_dir):
        runs = read_csv(path)
        if runs.empty or "failure" not in runs:
            return
        stale = (runs["dataset"] == dataset) & (runs["failure"] == kind)
        if stale.any():
            write_csv_atomic(runs[~stale], path)


def latest_split(runs: pd.DataFrame) -> pd.DataFrame:
    """The rows of each dataset's most recent split (``split_hash`` of its newest row): rows of an
    older version of a dataset (re-rendered, changed on disk, clips skipped) stay in runs.csv but
    leave the leaderboard, so its means never mix two versions of the data."""
    if runs.empty or "split_hash" not in runs or "utc_time" not in runs:
        return runs
    latest = runs.sort_values("utc_time", kind="stable").groupby("dataset")["split_hash"].last()
    return runs[runs["split_hash"] == runs["dataset"].map(latest)]


def latest_versions(runs: pd.DataFrame) -> pd.DataFrame:
    """The rows of the newest protocol version of each dataset x task, and within each leaderboard
    group the rows of its newest library versions: rows of other versions stay in runs.csv but are
    never averaged with current ones."""
    if runs.empty or "protocol_version" not in runs or "utc_time" not in runs:
        return runs
    runs = runs.assign(_protocol=runs["protocol_version"].astype(str))
    newest = runs.sort_values("utc_time", kind="stable").groupby(["dataset", "task"])["_protocol"].last()
    keys = pd.MultiIndex.from_frame(runs[["dataset", "task"]])
    runs = runs[runs["_protocol"].to_numpy() == newest.reindex(keys).to_numpy()]
    if "cell_versions" in runs:
        group = with_group_defaults(runs)[GROUP].astype(str).agg("|".join, axis=1)
        latest = runs.assign(_group=group).sort_values("utc_time", kind="stable").groupby("_group")[
            "cell_versions"].last()
        runs = runs[runs["cell_versions"].to_numpy() == group.map(latest).to_numpy()]
    return runs.drop(columns="_protocol")


def current_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """The finished rows the leaderboard is made of: status ok, each dataset's latest split, the
    latest versions (:func:`latest_versions`), ``loss`` / ``predictor`` filled in."""
    if runs.empty:
        return runs
    return with_group_defaults(latest_versions(latest_split(runs[runs["status"] == "ok"])))


def with_group_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with ``loss`` / ``predictor`` / ``test_dataset`` and the condition columns
    filled in for rows written before they existed."""
    frame = with_block_columns(frame)
    for column, default in GROUP_DEFAULTS.items():
        frame[column] = frame[column].fillna(default) if column in frame else default
    return frame


def leaderboard(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds per dataset x task x feature x model, ranked by the primary metric.

    Parameters
    ----------
    runs : pd.DataFrame
        The rows of runs.csv.

    Returns
    -------
    pd.DataFrame
        One row per group with ``rank`` (1 = best within its dataset, task and test dataset), ``n_seeds``,
        ``primary_metric`` and ``<metric>_mean`` / ``<metric>_std`` columns.
    """
    ok = current_rows(runs)
    if ok.empty:
        return pd.DataFrame()
    metrics = [m for m in dict.fromkeys((*SINGLE_LABEL_METRICS, *MULTI_LABEL_METRICS, *COST_COLUMNS,
                                         *SELECTION_COLUMNS)) if m in ok and ok[m].notna().any()]
    ok = ok.assign(_primary=[row[row["primary_metric"]] for _, row in ok.iterrows()])
    grouped = ok.groupby(GROUP, sort=False)
    board = grouped.agg(n_seeds=("seed", "nunique"), primary_metric=("primary_metric", "first"))
    if "task_kind" in ok:
        board["task_kind"] = grouped["task_kind"].first()
    if "deterministic" in ok:
        board["deterministic"] = grouped["deterministic"].first().astype(bool)
    board["seed_std"] = grouped["_primary"].std(ddof=1)  # NaN with one seed: no spread is claimed
    for metric in metrics:
        board[f"{metric}_mean"] = grouped[metric].mean()
        board[f"{metric}_std"] = grouped[metric].std(ddof=0)
    board = board.reset_index().dropna(axis=1, how="all")
    board["primary_mean"] = [row[f"{row['primary_metric']}_mean"] for _, row in board.iterrows()]
    board = board.assign(_cross=board["test_dataset"] != board["dataset"],
                         _perturbed=board["perturbation"] != "-")
    order = ["dataset", "task", "train_source", "_cross", "test_dataset", "test_source", "_perturbed",
             "perturbation", "severity", "primary_mean"]
    board = board.sort_values(order, ascending=[True] * (len(order) - 1) + [False]).drop(
        columns=["_cross", "_perturbed"])
    board.insert(0, "rank", board.groupby(BLOCK).cumcount() + 1)
    return board.drop(columns="primary_mean").reset_index(drop=True)


def write_leaderboard(results_dir, *, resamples: int = RESAMPLES, progress: bool = False) -> pd.DataFrame:
    """Rebuild leaderboard.csv (with confidence intervals and ties, unless ``resamples`` is 0) and
    ranks.csv from runs.csv and the saved predictions; return the leaderboard."""
    results_dir = Path(results_dir)
    with results_lock(results_dir):
        runs = read_runs(results_dir)
    board = leaderboard(runs)
    if board.empty:
        return board
    if resamples:
        board = add_statistics(board, current_rows(runs),
                               lambda key: load_predictions(results_dir, key),
                               resamples=resamples, progress=progress)
    ranks, pairwise = rank_across(board)
    with results_lock(results_dir):
        write_csv_atomic(board.round(4), results_dir / LEADERBOARD)
        for frame, name in ((ranks, RANKS), (pairwise, RANKS_PAIRWISE)):
            if frame is not None and not frame.empty:
                write_csv_atomic(frame.round(4).reset_index(drop=name == RANKS), results_dir / name)
            else:
                (results_dir / name).unlink(missing_ok=True)
    return board


def best_model_keys(runs: pd.DataFrame) -> dict[tuple, str]:
    """For every leaderboard row (dataset, task, feature, model, loss, predictor), the ``model_key``
    of its best seed by the primary metric."""
    if runs.empty or "model_key" not in runs:
        return {}
    ok = current_rows(runs[runs["model_key"].notna()])
    if ok.empty:
        return {}
    ok["_primary"] = [row[row["primary_metric"]] for _, row in ok.iterrows()]
    best = ok.sort_values("_primary", ascending=False).groupby(GROUP, sort=False).head(1)
    return {tuple(row[k] for k in GROUP): row["model_key"] for _, row in best.iterrows()}


def prune_models(results_dir) -> int:
    """Delete saved models (``models/<model_key>/``) of finished cells that are not the best seed of
    any leaderboard row; returns how many were deleted. The kept ones are what ``predict`` loads.
    Models of cells not in runs.csv (another run's cell in flight) are left alone."""
    import shutil

    results_dir = Path(results_dir)
    deleted = 0
    with results_lock(results_dir):
        runs = read_runs(results_dir)
        keep = set(best_model_keys(runs).values())
        known = set(runs["model_key"].dropna()) if "model_key" in runs else set()
        for folder in sorted((results_dir / "models").glob("*/manifest.json")):
            if folder.parent.name in known and folder.parent.name not in keep:
                shutil.rmtree(folder.parent)
                deleted += 1
    return deleted
