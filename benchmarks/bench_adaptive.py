"""Speed of ``method="adaptive"``: time per evaluation against the fixed stencils.

Issue 9 asks that the adaptive path spend no more time per evaluation of
``f`` than the fixed stencils do.  Each row times ``method="adaptive"`` and
``method="central"`` (both with ``full_output=True``: each gives an error
estimate) in alternation in the same run and divides each time by its own
count of evaluations.  The extrapolation adds a fixed cost per level of the
ladder (a few dozen small array operations, whatever the number of
directions), so the ratio is highest for a cheap ``f`` with few directions
and falls to 1 as ``f`` costs more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import rosen

import numderiv as nd

try:
    from ._common import Row, paired_times
except ImportError:  # run as a script
    from _common import Row, paired_times  # type: ignore[no-redef]

_A = np.random.default_rng(0).normal(size=(150, 150)) + 150 * np.eye(150)
_B = np.random.default_rng(1).normal(size=(400, 400)) + 400 * np.eye(400)


def _costly(x: Any) -> Any:
    """A scalar f costing about a linear solve of order 150 per call."""
    y = np.linalg.solve(_A, np.resize(x, 150))
    return float(np.sum(np.sin(y)) + np.sum(x**2))


def _expensive(x: Any) -> Any:
    """A scalar f costing about a linear solve of order 400 (a few ms) per call."""
    y = np.linalg.solve(_B, np.resize(x, 400))
    return float(np.sum(np.sin(y)) + np.sum(x**2))


def _cases() -> list[tuple[str, Callable[[str], Any]]]:
    x1000 = np.linspace(-3, 3, 1000)
    x100 = np.linspace(-1.2, 1.2, 100)
    x10 = np.linspace(0.1, 1.0, 10)
    return [
        (
            "derivative of sin at 1000 points (elementwise, cheap f)",
            lambda m: nd.derivative(np.sin, x1000, method=m, full_output=True),
        ),
        (
            "gradient of Rosenbrock n=100, serial",
            lambda m: nd.gradient(rosen, x100, method=m, full_output=True),
        ),
        (
            "dense Hessian of Rosenbrock n=100, vectorized",
            lambda m: nd.hessian(
                rosen, x100, method=m, vectorized=True, full_output=True
            ),
        ),
        (
            "gradient n=10 of an f costing a 150x150 solve",
            lambda m: nd.gradient(_costly, x10, method=m, full_output=True),
        ),
        (
            "gradient n=10 of an f costing a 400x400 solve",
            lambda m: nd.gradient(_expensive, x10, method=m, full_output=True),
        ),
    ]


def run() -> list[Row]:
    rows = []
    for name, call in _cases():
        na = call("adaptive")[1].nfev
        nc = call("central")[1].nfev
        ta, tc = paired_times(
            lambda call=call: call("adaptive"),
            lambda call=call: call("central"),
            rounds=5,
        )
        ratio = (ta / na) / (tc / nc)
        rows.append(
            Row(
                name=f"time per evaluation, adaptive / central (full_output): {name}",
                ours=ta / na * 1e6,
                peer_name="central, full_output=True",
                peer=tc / nc * 1e6,
                target="<= 1 (Issue 9)",
                met=ratio <= 1.0,
                unit="us",
                notes=f"nfev {na} vs {nc}",
            )
        )
    return rows


if __name__ == "__main__":
    for r in run():
        print(
            f"{r.name}: {r.ratio:.2f} ({r.ours:.3g} vs {r.peer:.3g} us/eval; {r.notes})"
        )
