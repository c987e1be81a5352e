"""Derivatives of callables: overhead against bare f calls, and against SciPy.

Rows (SPEC section 4):

* serial dense Jacobian, n = m = 1000, cheap f: total time / time of the bare
  f calls at the same points (target <= 1.25; SciPy is shown beside it);
* the same with ``vectorized=True``: total time / one call of f on the whole
  batch of 2n points (target <= 1.5), and total time / the same work
  written plainly in NumPy (build the batch, call f once, take the
  differences), which no implementation can skip;
* ``vectorized=True`` against ``scipy.optimize.approx_derivative`` at
  n = m = 100 (target: at least 10 times faster).

f is Broyden's tridiagonal function (a few vector operations, m = n); the
vectorized Jacobian is also timed with an f that has transcendentals.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize._numdiff import approx_derivative

import numderiv as nd
from numderiv import testing

try:
    from ._common import Row, best_time, paired_times
except ImportError:  # run as a script
    from _common import Row, best_time, paired_times  # type: ignore[no-redef]


def _points(x: np.ndarray, h: np.ndarray) -> list[np.ndarray]:
    pts = []
    for j in range(x.size):
        for s in (-1.0, 1.0):
            p = x.copy()
            p[j] = x[j] + s * h[j]
            pts.append(p)
    return pts


def _exp_sin(X: np.ndarray) -> np.ndarray:
    """A cheap f with transcendentals, vectorized: ``exp(sin x_i) (1 + x_(n+1-i))``."""
    return np.exp(np.sin(X)) * (1.0 + X[::-1])


def run() -> list[Row]:
    rows = []
    f = testing.broyden_tridiagonal
    fv = testing.broyden_tridiagonal_vectorized
    n = 1000
    x = np.linspace(-1.0, 1.0, n)
    _, info = nd.jacobian(f, x, full_output=True)
    h = info.step
    pts = _points(x, h)

    def bare() -> None:
        for p in pts:
            f(p)

    def bare_building_points() -> None:
        # the least a caller's own loop does: make each point, call f
        for j in range(x.size):
            for s in (-1.0, 1.0):
                p = x.copy()
                p[j] = x[j] + s * h[j]
                f(p)

    t_ours, t_bare = paired_times(lambda: nd.jacobian(f, x), bare, rounds=21)
    _, t_loop = paired_times(lambda: nd.jacobian(f, x), bare_building_points, rounds=11)
    t_scipy = best_time(lambda: approx_derivative(f, x), repeat=7)
    ok = np.allclose(
        nd.jacobian(f, x), testing.broyden_tridiagonal_jacobian(x), atol=1e-8
    )
    rows.append(
        Row(
            "dense Jacobian n=m=1000, serial: numderiv / bare f calls",
            t_ours,
            "2n bare f calls",
            t_bare,
            "<= 1.25",
            t_ours / t_bare <= 1.25 and ok,
            notes=(
                f"SciPy approx_derivative / bare f calls = {t_scipy / t_bare:.2f}; "
                f"numderiv / a loop that builds each point and calls f = "
                f"{t_ours / t_loop:.2f}"
            ),
        )
    )
    X = np.empty((n, 2 * n))
    X[...] = x[:, None]
    ar = np.arange(n)
    X[ar, ar] -= h
    X[ar, n + ar] += h
    t_vec, t_batch = paired_times(
        lambda: nd.jacobian(fv, x, vectorized=True), lambda: fv(X), rounds=31
    )

    def by_hand() -> np.ndarray:
        # what any code must do, written plainly: build the batch, call f
        # once, take the differences
        B = np.empty((n, 2 * n))
        B[...] = x[:, None]
        B[ar, ar] -= h
        B[ar, n + ar] += h
        Y = fv(B)
        return (Y[:, n:] - Y[:, :n]) * (0.5 / h)

    ok = np.array_equal(by_hand(), nd.jacobian(fv, x, vectorized=True))
    t_vec2, t_hand = paired_times(
        lambda: nd.jacobian(fv, x, vectorized=True), by_hand, rounds=31
    )
    _, t_batch2 = paired_times(by_hand, lambda: fv(X), rounds=31)
    rows.append(
        Row(
            "dense Jacobian n=m=1000, vectorized: numderiv / one batched f call",
            t_vec,
            "f on the (n, 2n) batch",
            t_batch,
            "<= 1.5",
            t_vec / t_batch <= 1.5,
            notes=(
                "the same work written plainly in NumPy (build the batch, one "
                f"f call, difference) / one batched f call = {t_hand / t_batch2:.2f}"
            ),
        )
    )
    rows.append(
        Row(
            "dense Jacobian n=m=1000, vectorized: numderiv / the same written plainly in NumPy",
            t_vec2,
            "build the batch, one f call, difference",
            t_hand,
            "<= 1.1 (reference)",
            t_vec2 / t_hand <= 1.1 and ok,
            notes="same values bit for bit",
        )
    )
    # the same with an f that computes more per entry: the fixed cost of the
    # batch and of the differences weighs less
    t_vec, t_batch = paired_times(
        lambda: nd.jacobian(_exp_sin, x, vectorized=True),
        lambda: _exp_sin(X),
        rounds=15,
    )
    rows.append(
        Row(
            "dense Jacobian n=m=1000, vectorized, f = exp(sin x_i) (1 + x_(n+1-i)): "
            "numderiv / one batched f call",
            t_vec,
            "f on the (n, 2n) batch",
            t_batch,
            "<= 1.5",
            t_vec / t_batch <= 1.5,
        )
    )
    n = 100
    x = np.linspace(-1.0, 1.0, n)
    t_vec, t_scipy = paired_times(
        lambda: nd.jacobian(fv, x, vectorized=True),
        lambda: approx_derivative(f, x),
        rounds=21,
        number=5,
    )
    rows.append(
        Row(
            "dense Jacobian n=m=100, vectorized: numderiv / SciPy",
            t_vec,
            "scipy.optimize.approx_derivative",
            t_scipy,
            "<= 0.1 (10x faster)",
            t_vec / t_scipy <= 0.1,
        )
    )
    return rows


if __name__ == "__main__":
    for r in run():
        print(
            f"{r.name}: ratio {r.ratio:.3f} ({r.target}) {'met' if r.met else 'NOT met'} {r.notes}"
        )
