"""Sparse Jacobians: time, nfev and colours against SciPy in the same run.

* banded (tridiagonal) Jacobian, n = 10^5, cheap f: numderiv with
  ``vectorized=True`` and serial, against ``scipy.optimize.approx_derivative``
  with the same sparsity;
* colours of ``nd.color_columns`` against SciPy's ``group_columns`` and the
  lower bound (largest number of non-zeros in a row) on several patterns.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize._numdiff import approx_derivative, group_columns

import numderiv as nd
from numderiv import testing

try:
    from ._common import Row, best_time
except ImportError:  # run as a script
    from _common import Row, best_time  # type: ignore[no-redef]


def _banded(n: int, lo: int, hi: int) -> sp.csc_array:
    return sp.csc_array(
        sp.diags_array(
            [np.ones(n - abs(k)) for k in range(-lo, hi + 1)],
            offsets=list(range(-lo, hi + 1)),
            dtype=bool,
        )
    )


def _patterns() -> dict[str, sp.csc_array]:
    rng = np.random.default_rng(0)
    blocks = [np.ones((k, k)) for k in rng.integers(1, 9, 400)]
    return {
        "tridiagonal n=1e5": _banded(100_000, 1, 1),
        "banded (2, 5) n=1e4": _banded(10_000, 2, 5),
        "block diagonal (blocks <= 8)": sp.csc_array(sp.block_diag(blocks) != 0),
        "random 2000x1000, 0.5%": sp.csc_array(
            sp.random_array((2000, 1000), density=0.005, rng=rng) != 0
        ),
        "random 500x500, 2%": sp.csc_array(
            sp.random_array((500, 500), density=0.02, rng=rng) != 0
        ),
    }


def run() -> list[Row]:
    rows = []
    n = 100_000
    x = np.linspace(-1.0, 1.0, n)
    S = _banded(n, 1, 1)
    f, fv = testing.broyden_tridiagonal, testing.broyden_tridiagonal_vectorized
    exact_diag = 3.0 - 4.0 * x
    counts = {"points": 0, "calls": 0}

    def fv_counted(X: np.ndarray) -> np.ndarray:
        counts["points"] += X.shape[1]
        counts["calls"] += 1
        return fv(X)

    J, info = nd.jacobian(fv, x, sparsity=S, vectorized=True, full_output=True)
    nd.jacobian(fv_counted, x, sparsity=S, vectorized=True)
    ok = np.allclose(J.diagonal(), exact_diag, atol=1e-7)
    t_vec = best_time(lambda: nd.jacobian(fv, x, sparsity=S, vectorized=True))
    t_ser = best_time(lambda: nd.jacobian(f, x, sparsity=S))
    t_scipy = best_time(lambda: approx_derivative(f, x, sparsity=S))
    _, sinfo = approx_derivative(f, x, sparsity=S, full_output=True)
    groups_sp = group_columns(S).max() + 1
    rows.append(
        Row(
            "sparse tridiagonal Jacobian n=1e5, vectorized: numderiv / SciPy",
            t_vec,
            "approx_derivative(sparsity=S)",
            t_scipy,
            "well under 1 s; faster than SciPy",
            t_vec < 0.5 and t_vec < t_scipy and ok,
            notes=(
                f"nfev {counts['points']} in {counts['calls']} call(s) vs SciPy "
                f"{sinfo['nfev']}; colours {info.extra['ngroups']} vs SciPy {groups_sp}"
            ),
        )
    )
    rows.append(
        Row(
            "sparse tridiagonal Jacobian n=1e5, serial: numderiv / SciPy",
            t_ser,
            "approx_derivative(sparsity=S)",
            t_scipy,
            "<= 1",
            t_ser <= t_scipy,
        )
    )
    for name, P in _patterns().items():
        ours = int(nd.color_columns(P).max()) + 1
        theirs = int(group_columns(P).max()) + 1
        lower = int(np.diff(P.tocsr().indptr).max())
        t_ours = best_time(lambda P=P: nd.color_columns(P), repeat=3)
        t_theirs = best_time(lambda P=P: group_columns(P), repeat=3)
        rows.append(
            Row(
                f"colours, {name}",
                ours,
                "SciPy group_columns",
                theirs,
                "<= SciPy; = lower bound on banded/block",
                ours <= theirs and (ours == lower or "random" in name),
                unit="colours",
                notes=f"lower bound {lower}; time {t_ours:.3g} s vs {t_theirs:.3g} s",
            )
        )
    return rows


if __name__ == "__main__":
    for r in run():
        print(
            f"{r.name}: {r.ours:g} vs {r.peer:g} ratio {r.ratio:.3f} {'met' if r.met else 'NOT met'} {r.notes}"
        )
