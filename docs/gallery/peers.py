"""Precision against the peers, drawn from ``benchmarks/RESULTS.md``.

The accuracy table of ``make bench`` is Markdown only: each cell is
``digits / evaluations / seconds`` or ``n/a``.  It is parsed here, when the
documentation is built, so the figure always shows the numbers of the page.
Run by Sphinx's plot directive (working directory: this folder), or by hand:
``python docs/gallery/peers.py out.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

RESULTS = Path(sys.argv[0]).resolve().parent.parent.parent / "benchmarks" / "RESULTS.md"
if not RESULTS.is_file():  # run from an interpreter: look from the working directory
    RESULTS = Path.cwd().resolve().parent.parent / "benchmarks" / "RESULTS.md"

SECTION = "## Accuracy against the peers"
# Columns of the table that are not a library.
NOT_LIBRARIES = ("problem", "adaptive target", "adaptive met")


def parse_accuracy(text: str) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Problems, libraries, digits and evaluations (NaN for n/a) of the table.

    Raises ValueError when the section or its table is missing or a cell is
    neither ``digits / evaluations / seconds`` nor ``n/a``.
    """
    start = text.find(SECTION)
    if start < 0:
        raise ValueError(f"RESULTS.md: no section {SECTION!r}")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    if len(rows) < 3:
        raise ValueError("RESULTS.md: the accuracy table has no rows")
    header, body = rows[0], rows[2:]
    keep = [j for j, name in enumerate(header) if name not in NOT_LIBRARIES]
    libraries = [header[j] for j in keep]
    problems = [row[0] for row in body]
    digits = np.full((len(body), len(keep)), np.nan)
    evals = np.full_like(digits, np.nan)
    for i, row in enumerate(body):
        for k, j in enumerate(keep):
            cell = row[j]
            if cell == "n/a":
                continue
            parts = [p.strip() for p in cell.split("/")]
            if len(parts) != 3:
                raise ValueError(f"RESULTS.md: cell {cell!r} of {problems[i]!r}")
            digits[i, k], evals[i, k] = float(parts[0]), float(parts[1])
    return problems, libraries, digits, evals


def figure(text: str) -> plt.Figure:
    """Digits and evaluations per problem, one marker per library."""
    problems, libraries, digits, evals = parse_accuracy(text)
    fig, (left, right) = plt.subplots(
        1,
        2,
        sharey=True,
        figsize=(9.0, 0.28 * len(problems) + 1.8),
        width_ratios=[3, 2],
        layout="constrained",
    )
    y = np.arange(len(problems))
    markers = "os^DvP*X"
    spread = np.linspace(-0.25, 0.25, len(libraries))
    for k, name in enumerate(libraries):
        style = {
            "marker": markers[k % len(markers)],
            "ls": "none",
            "ms": 5,
            "label": name,
        }
        if name.startswith("numderiv"):
            style.update(mfc="none" if name != "numderiv adaptive" else None)
        left.plot(digits[:, k], y + spread[k], **style)
        right.plot(evals[:, k], y + spread[k], **style)
    left.set_yticks(y, problems, fontsize=8)
    left.set_ylim(len(problems) - 0.5, -0.5)
    left.set_xlim(-0.5, 16.5)
    left.set_xlabel("correct digits (16 = exact)")
    right.set_xscale("log")
    right.set_xlabel("evaluations")
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
        for i in y[::2]:
            ax.axhspan(i - 0.5, i + 0.5, color="0.94", zorder=0)
    fig.legend(
        *left.get_legend_handles_labels(),
        loc="outside upper center",
        ncol=4,
        fontsize=8,
        frameon=False,
    )
    return fig


if __name__ == "__main__":
    fig = figure(RESULTS.read_text(encoding="utf-8"))
    if len(sys.argv) > 1 and sys.argv[1].endswith(".png"):
        fig.savefig(sys.argv[1])
