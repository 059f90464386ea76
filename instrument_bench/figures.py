"""The report's figures, each drawn with matplotlib into a PNG (written atomically).

Per dataset x task: the ranking with 95 % intervals and the tie group, a heatmap of models x
metrics (figure 1 of the MusicNet 12-group study), cost against accuracy with the Pareto front,
per-class F1 of the top models, confusion matrices or ROC / precision-recall curves; across
datasets, the critical-difference diagram of average ranks (scikit-posthocs).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scikit_posthocs  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay  # noqa: E402

from . import results  # noqa: E402
from .conditions import condition_order, severity_order  # noqa: E402
from .features.perturbations import PERTURBATIONS  # noqa: E402
from .protocol.metrics import SINGLE_LABEL_METRICS  # noqa: E402
from .storage import atomic_write  # noqa: E402

FIGURES = "figures"
HEATMAP_METRICS = {
    "single-label": SINGLE_LABEL_METRICS,
    "multi-label": ("macro_f1", "micro_f1", "samples_f1", "macro_precision", "macro_recall",
                    "hamming_loss", "roc_auc_macro", "map", "lrap", "playing_found"),
}
TOP_MODELS = 3
MAX_HEATMAP_ROWS = 25


def config_label(row) -> str:
    """``feature / model [/ loss] [/ predictor]`` of a leaderboard or runs row."""
    parts = [row["feature"], row["model"]]
    if row.get("loss", "-") not in ("-", "categorical-crossentropy"):
        parts.append(str(row["loss"]))
    if row.get("predictor", "argmax") != "argmax":
        parts.append(str(row["predictor"]))
    return " / ".join(parts)


def pareto_front(cost, score) -> np.ndarray:
    """Indices of the points no other point beats on both lower cost and higher score, by cost."""
    order = np.lexsort((-np.asarray(score), np.asarray(cost)))
    front, best = [], -np.inf
    for i in order:
        if score[i] > best:
            front.append(i)
            best = score[i]
    return np.asarray(front, dtype=int)


def _save(fig, path: Path) -> Path:
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def heatmap(board: pd.DataFrame, kind: str, path: Path) -> Path:
    """Models x metrics heatmap of one dataset and task."""
    metrics = [m for m in HEATMAP_METRICS[kind] if f"{m}_mean" in board]
    rows = board.head(MAX_HEATMAP_ROWS)
    values = np.array([[1 - r[f"{m}_mean"] if m == "hamming_loss" else r[f"{m}_mean"] for m in metrics]
                       for _, r in rows.iterrows()], dtype=float)
    fig, ax = plt.subplots(figsize=(1.1 * len(metrics) + 4, 0.35 * len(rows) + 1.5))
    image = ax.imshow(values, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(metrics)), ["1 - hamming_loss" if m == "hamming_loss" else m for m in metrics],
                  rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), [config_label(r) for _, r in rows.iterrows()])
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if v < 0.6 else "black")
    fig.colorbar(image, ax=ax, fraction=0.03)
    ax.set_title("mean over seeds (higher is better)")
    return _save(fig, path)


def cost_plots(board: pd.DataFrame, path: Path) -> Path:
    """The primary metric against fit time and against model size, Pareto fronts marked."""
    primary = board["primary_metric"].iloc[0]
    score = board[f"{primary}_mean"].to_numpy(dtype=float)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, cost, label in ((axes[0], "fit_seconds_mean", "fit seconds (chosen model)"),
                            (axes[1], "model_bytes_mean", "model size, bytes")):
        x = board[cost].to_numpy(dtype=float) if cost in board else np.full(len(board), np.nan)
        ok = np.isfinite(x) & np.isfinite(score) & (x > 0)
        ax.scatter(x[ok], score[ok], s=18, color="tab:blue")
        front = np.flatnonzero(ok)[pareto_front(x[ok], score[ok])]
        ax.plot(x[front], score[front], "-o", color="tab:red", label="Pareto front")
        for i in front:
            ax.annotate(config_label(board.iloc[i]), (x[i], score[i]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel(primary)
        ax.legend(loc="lower right")
    return _save(fig, path)


def per_class_bars(per_class: pd.DataFrame, board: pd.DataFrame, path: Path) -> Path | None:
    """Per-class F1 (mean over seeds) of the top models."""
    top = board.head(TOP_MODELS)
    keys = results.GROUP
    frames = []
    for _, row in top.iterrows():
        mask = np.logical_and.reduce([per_class[k].astype(str) == str(row[k]) for k in keys])
        f1 = per_class[mask].groupby("class", sort=False)["f1"].mean()
        frames.append(f1.rename(config_label(row)))
    if not frames or all(f.empty for f in frames):
        return None
    table = pd.concat(frames, axis=1)
    ax = table.plot.bar(figsize=(max(6, 0.6 * len(table) + 3), 4), width=0.8)
    ax.set_ylabel("F1 (test, mean over seeds)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    return _save(ax.figure, path)


def confusion(pred: dict, title: str, path: Path) -> Path:
    """Confusion matrix of a single-label run (rows: true class)."""
    labels = [str(c) for c in pred["label_map"]]
    fig, ax = plt.subplots(figsize=(0.45 * len(labels) + 3, 0.45 * len(labels) + 2.5))
    ConfusionMatrixDisplay.from_predictions(pred["y_true"], pred["scores"].argmax(axis=1),
                                            labels=np.arange(len(labels)), display_labels=labels,
                                            ax=ax, colorbar=False, xticks_rotation=45)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def curves(pred: dict, title: str, path: Path) -> Path:
    """Per-class ROC and precision-recall curves of a multi-label run."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax in axes:
        ax.set_prop_cycle(color=plt.cm.tab20.colors)  # 20 distinct colours: one per class
    y, scores = pred["y_true"], pred["scores"]
    for k, name in enumerate(pred["label_map"]):
        known = y[:, k] >= 0  # unknown labels (-1, OpenMIC-2018) are left out
        truth, score = y[known, k], scores[known, k]
        if 0 < truth.sum() < len(truth):
            RocCurveDisplay.from_predictions(truth, score, name=str(name), ax=axes[0])
            PrecisionRecallDisplay.from_predictions(truth, score, name=str(name), ax=axes[1])
    for ax in axes:
        ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def ranking_chart(board: pd.DataFrame, path: Path, *, top: int = MAX_HEATMAP_ROWS) -> Path:
    """The primary metric of the top rows with their 95 % intervals; the rows tied with the best
    (not significantly worse) drawn in one colour, the others in grey."""
    rows = board.head(top)
    primary = rows["primary_metric"].iloc[0]
    mean = rows[f"{primary}_mean"].to_numpy()
    low = rows.get(f"{primary}_ci_low", pd.Series(mean)).to_numpy()
    high = rows.get(f"{primary}_ci_high", pd.Series(mean)).to_numpy()
    tied = np.array([results.is_true(v) for v in rows.get("tied_with_best", pd.Series([False] * len(rows)))])
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    for mask, colour, label in ((tied, "tab:blue", "tied with rank 1"), (~tied, "0.55", "worse than rank 1")):
        if mask.any():
            ax.errorbar(mean[mask], y[mask], xerr=[mean[mask] - low[mask], high[mask] - mean[mask]],
                        fmt="o", color=colour, capsize=2, label=label)
    ax.set_yticks(y, [f"{r:.0f}. {config_label(row)}" for r, (_, row) in zip(rows["rank"], rows.iterrows())],
                  fontsize=7)
    ax.set_xlabel(f"{primary} (mean over seeds, 95 % CI over test units)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)


def cd_diagram(ranks: pd.DataFrame, pairwise: pd.DataFrame, path: Path) -> Path:
    """Critical-difference diagram of average ranks across datasets (scikit-posthocs): pairs not
    joined by a bar differ significantly (Nemenyi, 0.05)."""
    labels = ranks["feature"] + " / " + ranks["model"]
    fig, ax = plt.subplots(figsize=(9, 0.25 * len(ranks) + 2))
    scikit_posthocs.critical_difference_diagram(pd.Series(ranks["average_rank"].to_numpy(), index=labels),
                                                pairwise.loc[labels, labels], ax=ax,
                                                label_props={"fontsize": 7})
    n, weak = int(ranks["n_datasets"].iloc[0]), results.is_true(ranks["low_power"].iloc[0])
    ax.set_title(f"average rank over {n} dataset x task pairs"
                 + (" (too few for the test to have power)" if weak else ""), fontsize=9)
    return _save(fig, path)


def transfer_matrix(board: pd.DataFrame, path: Path, *, top: int = MAX_HEATMAP_ROWS) -> Path:
    """Feature / model (rows) x "train source -> test source" (columns) heatmap of the primary
    metric of one task; each model's loss and predictor with the best valid score stand for it."""
    primary = board["primary_metric"].iloc[0]
    board = board.assign(_valid=board.get("valid_score_mean", pd.Series(0.0, index=board.index)))
    board = board.sort_values("_valid", ascending=False, kind="stable").groupby(
        ["dataset", "test_dataset", "feature", "model"], sort=False).head(1)
    board = board.assign(_column=board["dataset"] + " -> " + board["test_dataset"],
                         _row=board["feature"] + " / " + board["model"])
    matrix = board.pivot_table(index="_row", columns="_column", values=f"{primary}_mean", aggfunc="first")
    matrix = matrix.loc[matrix.mean(axis=1).sort_values(ascending=False).index[:top]]
    fig, ax = plt.subplots(figsize=(1.6 * len(matrix.columns) + 4, 0.35 * len(matrix) + 1.8))
    image = ax.imshow(matrix.to_numpy(dtype=float), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=30, ha="right")
    ax.set_yticks(range(len(matrix)), matrix.index)
    for (i, j), v in np.ndenumerate(matrix.to_numpy(dtype=float)):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if v < 0.6 else "black")
    fig.colorbar(image, ax=ax, fraction=0.03)
    ax.set_title(f"{primary}, mean over seeds: trained on -> tested on")
    return _save(fig, path)


def perturbation_curves(board: pd.DataFrame, path: Path, *, top: int = 8) -> Path:
    """Metric against severity, one panel per perturbation, one line per feature / model (the
    ``top`` best on the clean test split; each model's loss and predictor with the best valid score
    stand for it), for one training set, task and test set."""
    primary = board["primary_metric"].iloc[0]
    board = board.assign(_valid=board.get("valid_score_mean", pd.Series(0.0, index=board.index)),
                         _label=board["feature"] + " / " + board["model"])
    chosen = board[board["perturbation"] == "-"].sort_values("_valid", ascending=False, kind="stable")
    chosen = chosen.groupby("_label", sort=False).head(1)
    chosen = chosen.sort_values(f"{primary}_mean", ascending=False).head(top)
    keys = ["feature", "model", "loss", "predictor"]
    rows = board.merge(chosen[keys], on=keys)
    names = sorted((p for p in set(rows["perturbation"]) if p != "-"), key=lambda p: condition_order(p, "-"))
    ncols = min(4, len(names))
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.8 * nrows + 0.8), squeeze=False,
                             sharey=True)
    chance = board.loc[(board["model"] == "chance") & (board["perturbation"] == "-"), f"{primary}_mean"]
    for ax, name in zip(axes.flat, names):
        levels = sorted(set(rows.loc[rows["perturbation"] == name, "severity"]),
                        key=lambda s: severity_order(name, s))
        ticks = ["clean", *levels]
        for label, line in rows.groupby("_label", sort=False):
            values = {("clean" if p == "-" else s): v for p, s, v in
                      zip(line["perturbation"], line["severity"], line[f"{primary}_mean"])
                      if p in ("-", name)}
            ax.plot(range(len(ticks)), [values.get(t, np.nan) for t in ticks], marker="o", label=label)
        if len(chance):
            ax.axhline(chance.iloc[0], color="grey", linestyle=":")
        ax.set_xticks(range(len(ticks)), [name if t == "-" else t for t in ticks], rotation=30,
                      fontsize=7)
        unit = PERTURBATIONS[name].unit if name in PERTURBATIONS else ""
        ax.set_title(name + (f" ({unit})" if unit else ""), fontsize=9)
        ax.set_ylim(0, 1)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].set_ylabel(primary)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    legend_rows = -(-len(labels) // 4)
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=7,
               bbox_to_anchor=(0.5, 0))
    fig.tight_layout(rect=(0, 0.03 * legend_rows / nrows + 0.02, 1, 1))
    return _save(fig, path)
