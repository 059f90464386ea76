"""``report``: a self-contained HTML page, with its figures, from a results folder.

Reads ``leaderboard.csv`` (with its confidence intervals and ties), ``ranks.csv``, ``runs.csv``,
``per_class.csv`` and the test predictions every run leaves in ``predictions/<model_key>.npz``,
and writes ``report.html`` (images embedded) with the PNGs beside it in ``figures/``. The page
opens with a table of contents and the critical-difference diagram across datasets; then, per
dataset x task (single-label tasks first), the ranking with 95 % intervals and the tie group, one
sentence of what the data can tell apart, the figures (:mod:`.figures`), and the full leaderboard
table folded below.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from . import figures as fig
from . import results
from .artifacts import load_predictions
from .conditions import block_stem, block_title
from .errors import InstrumentBenchError
from .parallel import progress_bar
from .protocol.metrics import MULTI_LABEL_METRICS, SINGLE_LABEL_METRICS
from .storage import write_text_atomic

FIGURES = "figures"


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(board: pd.DataFrame, kind: str) -> str:
    primary = board["primary_metric"].iloc[0]
    names = SINGLE_LABEL_METRICS if kind == "single-label" else MULTI_LABEL_METRICS
    metrics = [primary] + [m for m in names if m != primary and f"{m}_mean" in board][:6]
    deterministic = board.get("deterministic", pd.Series(False, index=board.index))
    frame = pd.DataFrame({"rank": board["rank"],
                          "configuration": [fig.config_label(r) for _, r in board.iterrows()],
                          "seeds": [f"{n:.0f}" + (" (deterministic)" if results.is_true(d) else "")
                                    for n, d in zip(board["n_seeds"], deterministic)]})
    frame[primary] = board[f"{primary}_mean"].round(3)
    frame["95 % CI"] = [results.interval_text(row, primary) for _, row in board.iterrows()]
    if "seed_std" in board:
        frame["seed std"] = board["seed_std"].round(3)
    if "tied_with_best" in board:
        frame["tied with best"] = ["yes" if results.is_true(v) else "" for v in board["tied_with_best"]]
        frame["p vs best (Holm)"] = board.get("p_vs_best", pd.Series(np.nan, index=board.index)).round(4)
    for metric in metrics[1:]:
        frame[metric] = board[f"{metric}_mean"].round(3)
    if "fit_seconds_mean" in board:
        frame["fit_seconds"] = board["fit_seconds_mean"].round(2)
    for count in ("params_count_mean", "model_bytes_mean"):
        if count in board:
            frame[count.replace("_mean", "")] = [f"{v:,.0f}" if pd.notna(v) else "" for v in board[count]]
    return frame.to_html(index=False, border=0, classes="board", na_rep="")


def conclusion(board: pd.DataFrame) -> str:
    """One sentence of what the data can tell apart in a dataset x task's ranking."""
    if "tied_with_best" not in board or not board["tied_with_best"].notna().any():
        return "No confidence intervals were computed (run with --resamples > 0, or instrument-bench stats)."
    tied = [results.is_true(v) for v in board["tied_with_best"]]
    ranks = board["rank"].astype(int).tolist()
    n_tied = sum(tied)
    units = board["n_test_units"].max()
    if n_tied == len(board):
        return (f"All {len(board)} rows are statistically tied with rank 1: {units:.0f} test units cannot "
                "tell them apart.")
    worse = [r for r, t in zip(ranks, tied) if not t]
    head = ("Rank 1 is significantly better than every other row" if n_tied == 1 else
            f"Ranks {', '.join(str(r) for r, t in zip(ranks, tied) if t)} are statistically tied")
    return (f"{head}; rank 1 beats ranks {_spans(worse)} (one-sided paired cluster bootstrap over "
            f"{units:.0f} test units, Holm-corrected, 0.05).")


def _spans(numbers: list[int]) -> str:
    """``[2, 3, 4, 7]`` -> ``2-4, 7``."""
    spans, start = [], None
    for k, n in enumerate(numbers):
        start = n if start is None else start
        if k + 1 == len(numbers) or numbers[k + 1] != n + 1:
            spans.append(f"{start}-{n}" if n != start else f"{n}")
            start = None
    return ", ".join(spans)


def _board(results_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """leaderboard.csv where it is there (with its statistics), else computed from runs.csv."""
    board = results.read_csv(results_dir / results.LEADERBOARD)
    return results.with_group_defaults(board) if not board.empty else results.leaderboard(runs)


def write_report(results_dir, *, progress: bool = True) -> Path:
    """Write ``report.html`` and ``figures/*.png`` into ``results_dir``; return the HTML path.

    Raises
    ------
    InstrumentBenchError
        The folder holds no finished runs.
    """
    results_dir = Path(results_dir)
    runs = results.read_runs(results_dir)
    board = _board(results_dir, runs)
    if board.empty:
        raise InstrumentBenchError(f"{results_dir / results.RUNS}: no finished runs to report on; "
                                   "run a suite first")
    runs = results.current_rows(runs)
    per_class = results.read_csv(results_dir / results.PER_CLASS)
    if not per_class.empty:
        per_class = results.with_group_defaults(per_class)
    figures = results_dir / FIGURES
    figures.mkdir(parents=True, exist_ok=True)
    kinds = board.groupby(results.BLOCK)["task_kind"].first() if "task_kind" in board else None
    clean_blocks = board[board["perturbation"] == "-"]  # perturbed test sets: the robustness curves
    groups = sorted(clean_blocks.groupby(results.BLOCK, sort=True),
                    key=lambda g: (kinds is not None and kinds[g[0]] == "multi-label",
                                   g[0][0] != g[0][3] or g[0][1] != "-", g[0]))
    contents = "".join(f'<li><a href="#{html.escape(block_stem(block))}">{html.escape(block_title(block))}'
                       "</a></li>" for block, _ in groups)
    sections = [f"<nav><h2>Contents</h2><ul>{contents}</ul></nav>", _across(results_dir, figures),
                _transfer(board, figures), _robustness(board, figures)]
    with progress_bar(total=len(groups), desc="report", unit="task", enabled=progress) as bar:
        for block, sub in groups:
            sections.append(_section(results_dir, runs, per_class, sub.reset_index(drop=True), block,
                                     figures))
            bar.update()
    page = TEMPLATE.format(title=html.escape(f"instrument_bench report: {results_dir}"),
                           body="\n".join(sections))
    out = results_dir / "report.html"
    write_text_atomic(out, page)
    return out


def _across(results_dir: Path, figures: Path) -> str:
    """The section on ranks across datasets (the critical-difference diagram), if there are any."""
    ranks = results.read_csv(results_dir / results.RANKS)
    pairwise = results.read_csv(results_dir / results.RANKS_PAIRWISE)
    if ranks.empty or pairwise.empty:
        return ("<section id='across'><h2>Across datasets</h2><p>No feature x model ran on two or more "
                "dataset x task pairs, so there is nothing to rank across datasets.</p></section>")
    pairwise = pairwise.set_index(pairwise.columns[0])
    n, power = int(ranks["n_datasets"].iloc[0]), results.is_true(ranks["low_power"].iloc[0])
    caption = (f"Average rank of each feature x model over {n} dataset x task pairs "
               f"({html.escape(str(ranks['datasets'].iloc[0]))}); Friedman p = "
               f"{ranks['friedman_p'].iloc[0]:.3g}; models not joined by a bar differ (Nemenyi, 0.05)."
               + (f" With {n} dataset x task pairs the test has little power: read the ranks, not the "
                  "bars." if power else ""))
    image = _img(fig.cd_diagram(ranks, pairwise, figures / "critical-difference.png"),
                 "critical-difference diagram")
    return (f"<section id='across'><h2>Across datasets</h2><figure class='cd'>{image}"
            f"<figcaption>{caption}</figcaption></figure></section>")


def _transfer(board, figures: Path) -> str:
    """The transfer matrix: each model's primary metric per training source (rows of a block) and
    test source (columns), for the tasks that have cross-source rows."""
    board = board[results.is_clean(board)]
    cross = board[board["test_dataset"] != board["dataset"]]
    if cross.empty:
        return ("<section id='transfer'><h2>Transfer across sources</h2><p>No cross-source rows: an "
                "experiment with <code>test_on</code> scores its models on another source's test split "
                "(run all does where FluidR3_GM is installed).</p></section>")
    parts = ["<section id='transfer'><h2>Transfer across sources</h2><p>Each cell: a model fitted on "
             "the row's source, scored on the column's test split (the diagonal: its own test split); "
             "mean over seeds of the primary metric, best loss and predictor by valid score.</p>"]
    for task in sorted(cross["task"].unique()):
        rows = board[(board["task"] == task) & board["dataset"].isin(cross["dataset"])]
        path = fig.transfer_matrix(rows, figures / f"transfer-{task}.png")
        parts.append(f"<h3>{html.escape(task)}</h3>" + _img(path, f"transfer matrix, {task}"))
    return "\n".join(parts) + "</section>"


def _robustness(board, figures: Path) -> str:
    """Metric-vs-severity curves of each training set and task with perturbed rows."""
    perturbed = board[board["perturbation"] != "-"]
    if perturbed.empty:
        return ("<section id='robustness'><h2>Robustness</h2><p>No perturbed rows: an experiment with "
                "<code>perturbations = [...]</code> scores its models on the test split under each "
                "perturbation (<code>run extra</code> does).</p></section>")
    parts = ["<section id='robustness'><h2>Robustness</h2><p>Each panel: one perturbation of the test "
             "audio (or of its feature frames), its severities left to right after the clean test split; "
             "each line one feature / model (mean over seeds of the primary metric, best loss and "
             "predictor by valid score), the model never refitted. Dotted: chance.</p>"]
    keys = ["dataset", "train_source", "task", "test_dataset", "test_source"]
    for block, rows in board[board.set_index(keys).index.isin(perturbed.set_index(keys).index)].groupby(keys):
        fields = {**dict(zip(keys, block)), "perturbation": "-", "severity": "-"}
        path = fig.perturbation_curves(rows, figures / f"robustness-{block_stem(fields)}.png")
        parts.append(f"<h3>{html.escape(block_title(fields))}</h3>" + _img(path, "robustness curves"))
    return "\n".join(parts) + "</section>"


def _section(results_dir, runs, per_class, sub, block, figures) -> str:
    """The HTML of one block (training set, task, test set and its condition), writing its figures."""
    kind = sub["task_kind"].iloc[0] if "task_kind" in sub else "single-label"
    stem = block_stem(block)
    parts = [f"<section id='{html.escape(stem)}'><h2>{html.escape(block_title(block))} ({kind})</h2>",
             f"<p>Ranked by {html.escape(sub['primary_metric'].iloc[0])}, mean over seeds, with 95 % "
             "intervals from a cluster bootstrap over the test set's independence units.</p>",
             _img(fig.ranking_chart(sub, figures / f"{stem}-ranking.png"), "ranking with intervals"),
             f"<p class='conclusion'>{html.escape(conclusion(sub))}</p>",
             "<h3>Models x metrics</h3>"
             + _img(fig.heatmap(sub, kind, figures / f"{stem}-heatmap.png"), "heatmap"),
             "<h3>Cost against accuracy</h3>"
             + _img(fig.cost_plots(sub, figures / f"{stem}-cost.png"), "cost")]
    if not per_class.empty:
        bars = fig.per_class_bars(per_class, sub, figures / f"{stem}-per-class.png")
        if bars:
            parts.append("<h3>Per-class F1 of the top models</h3>" + _img(bars, "per-class F1"))
    parts.append("<h3>" + ("Confusion matrices" if kind == "single-label" else
                           "Per-class ROC and precision-recall curves") + " (best seed)</h3>")
    parts.extend(_run_figures(results_dir, runs, sub, kind, figures, stem))
    parts.append(f"<details><summary>The full leaderboard ({len(sub)} rows)</summary>{_table(sub, kind)}"
                 "</details></section>")
    return "\n".join(parts)


def _run_figures(results_dir, runs, board, kind, figures, stem) -> list[str]:
    """Confusion matrices or curves of the best seed of each model (one per model_key)."""
    out, seen = [], set()
    primary = board["primary_metric"].iloc[0]
    for _, row in board.iterrows():
        mask = np.logical_and.reduce([runs[k].astype(str) == str(row[k]) for k in results.GROUP])
        if not mask.any():
            continue
        best = runs[mask].sort_values(primary, ascending=False).iloc[0]
        key = best.get("predictions_key")  # a cross-source row's own predictions
        key = key if isinstance(key, str) else best.get("model_key")
        if not isinstance(key, str) or key in seen:
            continue
        seen.add(key)
        pred = load_predictions(results_dir, key)
        if pred is None:
            continue
        label = fig.config_label(row)
        title = f"{label.rsplit(' / ', 1)[0] if kind == 'multi-label' else label}, seed {int(best['seed'])}"
        draw = fig.confusion if kind == "single-label" else fig.curves
        path = draw(pred, title, figures / f"{stem}-{key}.png")
        out.append(f'<figure>{_img(path, title)}<figcaption>{html.escape(title)}</figcaption></figure>')
    return out


TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; max-width: 80em; }}
table.board {{ border-collapse: collapse; font-size: 0.85em; margin-bottom: 1em; }}
table.board th, table.board td {{ padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right; }}
table.board td:nth-child(2) {{ text-align: left; }}
p.conclusion {{ font-weight: bold; }}
img {{ max-width: 100%; }}
figure {{ display: inline-block; margin: 0.5em; vertical-align: top; }}
figcaption {{ font-size: 0.8em; text-align: center; }}
details {{ margin: 1em 0; }}
</style></head>
<body><h1>{title}</h1>
{body}
</body></html>
"""
