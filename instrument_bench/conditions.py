"""How a leaderboard block reads: its title and file stem from the training set, the task, the
test set and its condition (the instrument sources of a source test, a perturbation and its
severity), and the order a robustness curve draws severities in."""

from __future__ import annotations

from .features.perturbations import PERTURBATIONS, severity_text
from .runs_file import BLOCK


def _fields(block) -> dict:
    return dict(zip(BLOCK, block)) if not isinstance(block, dict) else block


def perturbation_text(name: str, severity: str) -> str:
    """``noise 20 dB SNR``, ``reverse``: a perturbation and its severity with the unit."""
    if name == "-":
        return "clean"
    unit = PERTURBATIONS[name].unit if name in PERTURBATIONS else ""
    return name + ("" if severity == "-" else f" {severity}" + (f" {unit}" if unit else ""))


def block_title(block) -> str:
    """``gm-notes / family (trained on acoustic) -> tested on electronic, under noise 20 dB SNR``."""
    b = _fields(block)
    title = f"{b['dataset']} / {b['task']}"
    if b.get("train_source", "-") != "-":
        title += f" (trained on {b['train_source']} instruments)"
    tested = [b["test_dataset"]] if b["test_dataset"] != b["dataset"] else []
    if b.get("test_source", "-") not in ("-", b.get("train_source", "-")):
        tested.append(f"{b['test_source']} instruments")
    title += f" -> tested on {' '.join(tested)}" if tested else ""
    if b.get("perturbation", "-") != "-":
        title += f", under {perturbation_text(b['perturbation'], b['severity'])}"
    return title


def block_stem(block) -> str:
    """A file-name stem for the block's figures: ``gm-notes-family-on-gm-notes-fluidr3`` ..."""
    b = _fields(block)
    stem = f"{b['dataset']}-{b['task']}" + (f"-on-{b['test_dataset']}" if b["test_dataset"] != b["dataset"]
                                            else "")
    for key, prefix in (("train_source", "from-"), ("test_source", "to-"), ("perturbation", ""),
                        ("severity", "")):
        if str(b.get(key, "-")) != "-":
            stem += f"-{prefix}{b[key]}"
    return stem


def severity_order(name: str, severity: str) -> int:
    """Where a severity sits on its perturbation's curve (the registry's order, mildest first)."""
    texts = [severity_text(v) for v in PERTURBATIONS[name].severities] if name in PERTURBATIONS else []
    return texts.index(severity) if severity in texts else len(texts)


def condition_order(name: str, severity: str) -> tuple:
    """Sort key of a perturbation and severity: clean first, then the registry's order."""
    names = list(PERTURBATIONS)
    return (names.index(name) + 1 if name in names else 0 if name == "-" else len(names) + 1,
            severity_order(name, severity))
