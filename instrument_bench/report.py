"""``report``: figures and a self-contained HTML page from a results folder.

Reads ``runs.csv``, ``per_class.csv``, ``leaderboard.csv`` and the test-split scores that every run
leaves in ``predictions/<model_key>.npz``, and writes ``report.html`` (images embedded, no external
files) with the PNGs beside it in ``figures/``. Per dataset and task:

- the leaderboard table;
- a heatmap of models x metrics (figure 1 of the MusicNet 12-group study; Hamming loss shown as
  1 - loss so that higher is better everywhere);
- accuracy (the primary metric) against fit time and against model size, Pareto front marked;
- per-class F1 of the top models;
- a confusion matrix of the best seed of every single-label model, and per-class ROC and
  precision-recall curves of the best seed of every multi-label model.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay  # noqa: E402

from . import results  # noqa: E402
from .artifacts import load_predictions  # noqa: E402
from .errors import InstrumentBenchError  # noqa: E402
from .parallel import progress_bar  # noqa: E402
from .protocol.metrics import MULTI_LABEL_METRICS, SINGLE_LABEL_METRICS  # noqa: E402
from .storage import atomic_write, write_text_atomic  # noqa: E402

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


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(board: pd.DataFrame, kind: str) -> str:
    primary = board["primary_metric"].iloc[0]
    names = SINGLE_LABEL_METRICS if kind == "single-label" else MULTI_LABEL_METRICS
    metrics = [primary] + [m for m in names if m != primary and f"{m}_mean" in board][:6]
    frame = pd.DataFrame({"rank": board["rank"],
                          "configuration": [config_label(r) for _, r in board.iterrows()],
                          "seeds": board["n_seeds"]})
    frame[f"{primary} (mean ± std)"] = [f"{m:.3f} ± {s:.3f}" for m, s in
                                        zip(board[f"{primary}_mean"], board[f"{primary}_std"])]
    for metric in metrics[1:]:
        frame[metric] = board[f"{metric}_mean"].round(3)
    if "fit_seconds_mean" in board:
        frame["fit_seconds"] = board["fit_seconds_mean"].round(2)
    for count in ("params_count_mean", "model_bytes_mean"):
        if count in board:
            frame[count.replace("_mean", "")] = [f"{v:,.0f}" if pd.notna(v) else "" for v in board[count]]
    return frame.to_html(index=False, border=0, classes="board", na_rep="")


def write_report(results_dir, *, progress: bool = True) -> Path:
    """Write ``report.html`` and ``figures/*.png`` into ``results_dir``; return the HTML path.

    Raises
    ------
    InstrumentBenchError
        The folder holds no finished runs.
    """
    results_dir = Path(results_dir)
    runs = results.read_csv(results_dir / results.RUNS)
    board = results.leaderboard(runs)
    if board.empty:
        raise InstrumentBenchError(f"{results_dir / results.RUNS}: no finished runs to report on; "
                                   "run a suite first")
    runs = results.with_group_defaults(runs[runs["status"] == "ok"])
    per_class = results.read_csv(results_dir / results.PER_CLASS)
    if not per_class.empty:
        per_class = results.with_group_defaults(per_class)
    figures = results_dir / FIGURES
    figures.mkdir(parents=True, exist_ok=True)
    groups = list(board.groupby(["dataset", "task"], sort=True))
    sections = []
    with progress_bar(total=len(groups), desc="report", unit="task", enabled=progress) as bar:
        for (dataset, task), sub in groups:
            sections.append(_section(results_dir, runs, per_class, sub.reset_index(drop=True), dataset,
                                     task, figures))
            bar.update()
    page = TEMPLATE.format(title=html.escape(f"instrument_bench report: {results_dir}"),
                           body="\n".join(sections))
    out = results_dir / "report.html"
    write_text_atomic(out, page)
    return out


def _section(results_dir, runs, per_class, sub, dataset, task, figures) -> str:
    """The HTML of one dataset and task, writing its figures."""
    kind = runs.loc[(runs["dataset"] == dataset) & (runs["task"] == task), "task_kind"].dropna()
    kind = kind.iloc[0] if len(kind) else "single-label"
    stem = f"{dataset}-{task}"
    parts = [f"<h2>{html.escape(dataset)} / {html.escape(task)} ({kind})</h2>",
             f"<p>Ranked by {html.escape(sub['primary_metric'].iloc[0])}, mean over seeds.</p>",
             _table(sub, kind),
             "<h3>Models x metrics</h3>"
             + _img(heatmap(sub, kind, figures / f"{stem}-heatmap.png"), "heatmap"),
             "<h3>Cost against accuracy</h3>" + _img(cost_plots(sub, figures / f"{stem}-cost.png"), "cost")]
    if not per_class.empty:
        bars = per_class_bars(per_class, sub, figures / f"{stem}-per-class.png")
        if bars:
            parts.append("<h3>Per-class F1 of the top models</h3>" + _img(bars, "per-class F1"))
    parts.append("<h3>" + ("Confusion matrices" if kind == "single-label" else
                           "Per-class ROC and precision-recall curves") + " (best seed)</h3>")
    parts.extend(_run_figures(results_dir, runs, sub, kind, figures, stem))
    return "\n".join(parts)


def _run_figures(results_dir, runs, board, kind, figures, stem) -> list[str]:
    """Confusion matrices or curves of the best seed of each model (one per model_key)."""
    out, seen = [], set()
    primary = board["primary_metric"].iloc[0]
    for _, row in board.iterrows():
        mask = np.logical_and.reduce([runs[k].astype(str) == str(row[k]) for k in
                                      ("dataset", "task", "feature", "model", "loss", "predictor")])
        best = runs[mask].sort_values(primary, ascending=False).iloc[0]
        key = best.get("model_key")
        if not isinstance(key, str) or key in seen:
            continue
        seen.add(key)
        pred = load_predictions(results_dir, key)
        if pred is None:
            continue
        title = f"{config_label(row).rsplit(' / ', 1)[0] if kind == 'multi-label' else config_label(row)}" \
                f", seed {int(best['seed'])}"
        name = f"{stem}-{key}.png"
        path = (confusion if kind == "single-label" else curves)(pred, title, figures / name)
        out.append(f'<figure>{_img(path, title)}<figcaption>{html.escape(title)}</figcaption></figure>')
    return out


TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table.board {{ border-collapse: collapse; font-size: 0.85em; margin-bottom: 1em; }}
table.board th, table.board td {{ padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right; }}
table.board td:nth-child(2) {{ text-align: left; }}
img {{ max-width: 100%; }}
figure {{ display: inline-block; margin: 0.5em; vertical-align: top; }}
figcaption {{ font-size: 0.8em; text-align: center; }}
</style></head>
<body><h1>{title}</h1>
{body}
</body></html>
"""

