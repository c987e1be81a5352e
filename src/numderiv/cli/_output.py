"""How the command line writes results: a table, ``--json`` or ``--csv``.

JSON has no NaN or infinity; they are written as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"`` (what Python's ``float()`` and
JavaScript's ``Number()`` read back), so the output is strict JSON that any
parser accepts.  Arrays are nested lists in row-major order.  Without
``--precision`` every float is written with the shortest decimal that reads
back as the same float64; with it, to that many significant digits.
"""

from __future__ import annotations

import json
import math
from typing import IO, Any

import numpy as np

__all__ = ["jsonable", "write_csv", "write_json", "write_table"]

TABLE_PRECISION = 10


def _num(v: Any, precision: int | None) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    f = float(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return f if precision is None else float(f"{f:.{precision}g}")


def jsonable(a: Any, precision: int | None = None) -> Any:
    """Nested lists of JSON numbers (non-finite values as strings)."""
    if isinstance(a, dict):
        return {k: jsonable(v, precision) for k, v in a.items()}
    if isinstance(a, (list, tuple)):
        return [jsonable(v, precision) for v in a]
    if a is None or isinstance(a, str):
        return a
    arr = np.asarray(a)
    if arr.ndim == 0:
        return _num(arr[()], precision)
    return [jsonable(v, precision) for v in arr]


def write_json(out: IO[str], record: dict[str, Any], precision: int | None) -> None:
    out.write(json.dumps(jsonable(record, precision), allow_nan=False) + "\n")


def _fmt(v: Any, precision: int | None) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    f = float(v)
    return repr(f) if precision is None else f"{f:.{precision}g}"


def write_csv(
    out: IO[str],
    header: list[str],
    rows: list[list[Any]],
    precision: int | None,
) -> None:
    out.write(",".join(header) + "\n")
    out.write("".join(",".join(_fmt(v, precision) for v in r) + "\n" for r in rows))


def array_text(a: Any, precision: int | None, indent: str = "  ") -> str:
    """A readable block for an array: one line per row, columns aligned."""
    p = TABLE_PRECISION if precision is None else precision
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 0:
        return indent + f"{float(arr):.{p}g}"
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim > 2:
        blocks = []
        for k, sub in enumerate(arr):
            blocks.append(
                f"{indent}[{k}]\n" + array_text(sub, precision, indent + "  ")
            )
        return "\n".join(blocks)
    cells = [[f"{float(v):.{p}g}" for v in row] for row in arr]
    width = max((len(c) for row in cells for c in row), default=1)
    return "\n".join(indent + "  ".join(c.rjust(width) for c in row) for row in cells)


def write_table(
    out: IO[str],
    title: str,
    sections: list[tuple[str, Any]],
    notes: list[str],
    precision: int | None,
) -> None:
    out.write(title + "\n")
    for name, a in sections:
        out.write(f"{name}:\n{array_text(a, precision)}\n")
    for line in notes:
        out.write(line + "\n")
