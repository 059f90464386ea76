"""Suite files for the tests, built from dicts instead of edited TOML strings.

An experiment is a dict of ``[[experiment]]`` keys (:func:`experiment` makes one);
:func:`suite_toml` renders a suite, :func:`write_suite` writes it. The TOML writer covers what
suites hold: strings, integers, floats, booleans, lists of those and (nested) tables.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def experiment(dataset: str, *, tasks, features, models, **keys) -> dict:
    """One ``[[experiment]]`` block: the four required keys, then any others (``losses``, ...)."""
    return {"dataset": dataset, "tasks": list(tasks), "features": list(features),
            "models": list(models), **keys}


def toml_key(key: str) -> str:
    """A bare key where TOML allows one, else a quoted key."""
    return key if _BARE_KEY.match(key) else toml_value(key)


def toml_value(value) -> str:
    """A TOML value: str, int, float, bool or a list of these.

    Raises
    ------
    TypeError
        Any other type (tables are written by :func:`toml_table`).
    """
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        text = "".join(_ESCAPES.get(c, c if c >= " " and c != "\x7f" else f"\\u{ord(c):04x}")
                       for c in value)
        return f'"{text}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a TOML value")


def toml_table(header: str, table: dict, *, array: bool = False) -> list[str]:
    """Lines of one table (its scalar keys, then its sub-tables ``[header.key]``)."""
    lines = [f"[[{header}]]" if array else f"[{header}]"]
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    for key, sub in table.items():
        if isinstance(sub, dict):
            lines += toml_table(f"{header}.{toml_key(key)}", sub)
    return lines


def suite_toml(*experiments: dict, name: str = "test", seeds: int = 1, description: str | None = None,
               keras: dict | None = None, datasets: dict | None = None) -> str:
    """A suite file's text.

    Parameters
    ----------
    *experiments : dict
        The ``[[experiment]]`` blocks, in order.
    name, seeds, description
        The suite's top-level keys (``description`` left out when None).
    keras : dict, optional
        The ``[keras]`` training settings.
    datasets : dict, optional
        Dataset name to its ``[datasets.<name>]`` options.

    Returns
    -------
    str
        TOML text.
    """
    top = {"name": name, "seeds": seeds}
    if description is not None:
        top["description"] = description
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in top.items()]
    if keras:
        lines += toml_table("keras", keras)
    for dataset, options in (datasets or {}).items():
        lines += toml_table(f"datasets.{toml_key(dataset)}", options)
    for block in experiments:
        lines += toml_table("experiment", block, array=True)
    return "\n".join(lines) + "\n"


def write_suite(path, *experiments: dict, **settings) -> Path:
    """Write :func:`suite_toml` ``(*experiments, **settings)`` to ``path``; returns the path."""
    path = Path(path)
    path.write_text(suite_toml(*experiments, **settings))
    return path
