"""``numderiv demo``: the main job on Scilab's and NumPy's examples."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import grid, testing
from .._functions import hessian, jacobian

__all__ = ["NEXT_STEPS", "correct_digits", "run_demo"]


def correct_digits(approx: Any, exact: Any) -> float:
    """Fewest correct decimal digits over the entries (Scilab's ``assert_computedigits``).

    Per entry ``-log10(|a - e| / |e|)`` (absolute where ``e == 0``), capped at
    the 15.95 digits of float64; the minimum over all entries.

    Examples
    --------
    >>> from numderiv.cli import correct_digits
    >>> correct_digits([1.0001, 2.0], [1.0, 2.0])
    4.0
    """
    a = np.asarray(approx, dtype=float)
    e = np.asarray(exact, dtype=float)
    err = np.abs(a - e)
    rel = np.where(e != 0, err / np.where(e != 0, np.abs(e), 1.0), err)
    with np.errstate(divide="ignore"):
        d = np.where(rel > 0, -np.log10(np.where(rel > 0, rel, 1.0)), 15.95)
    return float(np.clip(d, 0.0, 15.95).min())


#: The closing advice of the demo: three command lines and a Python line
#: (the tests run each of them).
NEXT_STEPS = (
    "numderiv gradient 'sum(x**2) + x[0]*x[1]' --at 1,2",
    "numderiv derivative 'sin(x)' --at 0,0.5,1 --n 2 --json",
    "numderiv steps 'sqrt(x)' --at 1 --exact 0.5",
    'python -c "import numderiv as nd; print(nd.gradient(lambda x: x @ x, [1.0, 2.0]))"',
)

_METHODS: list[tuple[str, int | None]] = [
    ("central", 2),
    ("central", 4),
    ("forward", 1),
    ("backward", 1),
    ("complex", 2),
    ("adaptive", None),  # extrapolation chooses its own order
]


def run_demo(out: Any) -> None:
    """Write the demo to `out`, ending with what to try next."""
    x = np.array([1.0, 2.0, 3.0])
    Je = testing.scilab_example_jacobian(x)
    He = testing.scilab_example_hessian(x)
    w = out.write
    w("numderiv demo\n")
    w(
        "Scilab's numderivative example f(x) = [sin(x1 x2) + exp(x2 x3 + x1), sum(x^3)]\n"
    )
    w("at x = [1, 2, 3], each method against the exact derivatives.\n\n")
    w(f"{'':10}{'':7}{'Jacobian (2 x 3)':>26}   {'Hessian (2 x 3 x 3)':>26}\n")
    w(f"{'method':10}{'order':>5}  {'digits':>8}{'nfev':>7}{'est. error':>11}")
    w(f"   {'digits':>8}{'nfev':>7}{'est. error':>11}\n")
    for method, order in _METHODS:
        J = jacobian(testing.scilab_example, x, method=method, order=order)
        _, ji = jacobian(
            testing.scilab_example, x, method=method, order=order, full_output=True
        )
        H = hessian(testing.scilab_example, x, method=method, order=order)
        _, hi = hessian(
            testing.scilab_example, x, method=method, order=order, full_output=True
        )
        # nfev of the plain call: the full_output call also differences at
        # half the step for its error estimate
        jn = _count(jacobian, method, order, x)
        hn = _count(hessian, method, order, x)
        w(
            f"{method:10}{order or '-':>5}  {correct_digits(J, Je):>8.1f}{jn:>7}"
            f"{float(np.max(ji.error)):>11.1e}"
            f"   {correct_digits(H, He):>8.1f}{hn:>7}{float(np.max(hi.error)):>11.1e}\n"
        )
    w("\ndigits: fewest correct decimal digits over the entries; nfev: evaluations\n")
    w("of f; est. error: largest error estimate (full_output=True).  adaptive:\n")
    w("Richardson extrapolation over a searched ladder of steps, its error\n")
    w("estimate from the extrapolation table at no extra cost.\n\n")
    y = np.array([1, 2, 4, 7, 11, 16], dtype=float)
    w("NumPy's gradient example\n")
    w(f"  y                          = {_fmt(y)}\n")
    w(f"  numderiv.grid.gradient(y)  = {_fmt(grid.gradient(y))}\n")
    w(f"  numpy.gradient(y)          = {_fmt(np.gradient(y))}\n")
    w("\nWhat to try next (each line runs as shown):\n")
    for line in NEXT_STEPS:
        w(f"  {line}\n")
    w("More: numderiv --help, numderiv COMMAND --help, and docs/cli.md.\n")


def _count(fn: Any, method: str, order: int | None, x: Any) -> int:
    calls = [0]

    def f(t: Any) -> Any:
        calls[0] += 1
        return testing.scilab_example(t)

    fn(f, x, method=method, order=order)
    return calls[0]


def _fmt(a: Any) -> str:
    return "[" + ", ".join(f"{v:g}" for v in np.asarray(a)) + "]"
