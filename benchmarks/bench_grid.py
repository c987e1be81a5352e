"""Benchmarks of :mod:`numderiv.grid` against NumPy and findiff (SPEC section 4).

Rows, each timed in the same process as its peer:

- ``grid.gradient`` on 4096² float64 (both axes) against ``numpy.gradient``:
  target at least 2x NumPy's throughput (``ours/peer <= 0.5``); also
  single-threaded, and against findiff for reference.
- ``grid.laplacian`` on 2048², accuracy 2, against a hand-written NumPy
  5-point stencil: target ``ours/peer <= 1.2``; and against findiff.
- non-uniform weights for N = 10**6 points at accuracy 4: setup (coordinate
  checks and Fornberg weights) at most 0.1 s; and the whole derivative
  against findiff's.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row, best_time

import numderiv as nd
from numderiv.grid._engine import make_plan
from numderiv.grid._validate import spacing_for_axis

try:
    import findiff
except ImportError:  # pragma: no cover - optional peer
    findiff = None


def _five_point(u: np.ndarray, h: float) -> np.ndarray:
    """The textbook NumPy Laplacian: interior 5-point stencil, zero boundary."""
    out = np.zeros_like(u)
    out[1:-1, 1:-1] = (
        u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]
    ) / (h * h)
    return out


def _gradient_rows(rng: np.random.Generator) -> list[Row]:
    f = rng.standard_normal((4096, 4096))
    for a, b in zip(nd.grid.gradient(f), np.gradient(f), strict=True):
        assert np.array_equal(a, b)
    # best of many repeats: the machine may be shared, and the threaded
    # version needs the cores to itself to show what it does
    peer = best_time(lambda: np.gradient(f), repeat=15)
    ours = best_time(lambda: nd.grid.gradient(f), repeat=15)
    serial = best_time(lambda: nd.grid.gradient(f, workers=1), repeat=15)
    rows = [
        Row(
            "grid.gradient 4096² float64, both axes",
            ours,
            "numpy.gradient",
            peer,
            "ours/peer <= 0.5 (>= 2x throughput)",
            ours / peer <= 0.5,
            notes="bit-identical results; default threads",
        ),
        Row(
            "grid.gradient 4096² float64, workers=1",
            serial,
            "numpy.gradient",
            peer,
            "ours/peer <= 1 (reference)",
            serial / peer <= 1,
            notes="single thread: blocked, no temporaries",
        ),
    ]
    if findiff is not None:
        d0, d1 = findiff.Diff(0, 1.0, acc=2), findiff.Diff(1, 1.0, acc=2)
        fd = best_time(lambda: (d0(f), d1(f)), repeat=3)
        rows.append(
            Row(
                "grid.gradient 4096² float64, accuracy 2",
                ours,
                "findiff Diff(0), Diff(1)",
                fd,
                "ours/peer <= 1 (reference)",
                ours / fd <= 1,
            )
        )
    return rows


def _laplacian_rows(rng: np.random.Generator) -> list[Row]:
    u = rng.standard_normal((2048, 2048))
    inner = (slice(1, -1), slice(1, -1))
    assert np.allclose(nd.grid.laplacian(u)[inner], _five_point(u, 1.0)[inner])
    peer = best_time(lambda: _five_point(u, 1.0), repeat=15)
    ours = best_time(lambda: nd.grid.laplacian(u), repeat=15)
    serial = best_time(lambda: nd.grid.laplacian(u, workers=1), repeat=15)
    rows = [
        Row(
            "grid.laplacian 2048², accuracy 2",
            ours,
            "hand-written NumPy 5-point",
            peer,
            "ours/peer <= 1.2",
            ours / peer <= 1.2,
            notes="ours also fills the boundary (one-sided, order 2)",
        ),
        Row(
            "grid.laplacian 2048², accuracy 2, workers=1",
            serial,
            "hand-written NumPy 5-point",
            peer,
            "ours/peer <= 1.2",
            serial / peer <= 1.2,
        ),
    ]
    if findiff is not None:
        lap = findiff.Laplacian(h=[1.0, 1.0], acc=2)
        fd = best_time(lambda: lap(u), repeat=3)
        rows.append(
            Row(
                "grid.laplacian 2048², accuracy 2",
                ours,
                "findiff Laplacian",
                fd,
                "ours/peer <= 1 (reference)",
                ours / fd <= 1,
            )
        )
    return rows


def _nonuniform_rows(rng: np.random.Generator) -> list[Row]:
    npts = 10**6
    x = np.sort(rng.uniform(0, 10, npts))
    y = np.sin(x)

    def setup() -> Any:
        info = spacing_for_axis(x, npts, name="x")
        return make_plan(info, npts, 1, 4, 4, periodic=False)

    ours_setup = best_time(setup, repeat=5)
    ours_total = best_time(lambda: nd.grid.derivative(y, x, accuracy=4), repeat=5)
    rows = [
        Row(
            "non-uniform weights N=1e6, accuracy 4 (setup)",
            ours_setup,
            "SPEC budget",
            0.1,
            "ours <= 0.1 s",
            ours_setup <= 0.1,
            notes="coordinate checks + vectorised Fornberg weights",
        )
    ]
    if findiff is not None:

        def fd_run() -> Any:
            return findiff.Diff(0, x, acc=4)(y)

        fd = best_time(fd_run, repeat=2)
        rows.append(
            Row(
                "non-uniform d/dx N=1e6, accuracy 4 (setup + apply)",
                ours_total,
                "findiff Diff(0, x, acc=4)",
                fd,
                "ours/peer <= 1 (reference)",
                ours_total / fd <= 1,
            )
        )
    return rows


def run() -> list[Row]:
    """All grid benchmark rows."""
    rng = np.random.default_rng(0)
    return [*_gradient_rows(rng), *_laplacian_rows(rng), *_nonuniform_rows(rng)]


if __name__ == "__main__":
    for row in run():
        print(
            f"{row.name:55s} {row.ours:9.4f} {row.unit} vs {row.peer_name:30s} "
            f"{row.peer:9.4f} ratio {row.ratio:6.3f}  {row.target:40s} "
            f"{'met' if row.met else 'NOT MET'}"
        )
