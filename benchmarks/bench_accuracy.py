"""Accuracy against the peers: correct digits, evaluations and time per problem.

Every problem of :data:`numderiv.testing.PEER_PROBLEMS` (exact answers
written out by hand) is solved in the same run by

* numderiv with its default (``method="central"``), with
  ``method="complex"`` where ``f`` takes complex input, and with
  ``method="adaptive"`` ("n/a" while that method is not in the checkout);
* numdifftools with its defaults (``Derivative(f, n=k)``, ``Gradient``,
  ``Hessian``, ``Jacobian``);
* ``scipy.differentiate`` with its defaults (``derivative``; ``hessian`` of a
  one-dimensional function for a second derivative; ``jacobian``,
  ``hessian``);
* jacobi with its defaults (first derivatives and Jacobians only;
  ``diagonal=True`` for an elementwise problem on many points).

Digits are those of :func:`numderiv.testing.digits`.  Evaluations are
counted by wrapping ``f``: a call on ``k`` points counts ``k`` (for an
elementwise ``f`` every element is a point; for ``f: R^d -> R^m`` an array
of shape ``(d, ...)`` holds ``size / d`` points), and are given per point of
``x`` for the elementwise problems.  Time is the best of a few calls.  A
vector Hessian is taken one output at a time by the peers that want a
scalar ``f`` (the evaluations add up).

The module contributes two rows to the main table (SPEC section 4: the
adaptive method against numdifftools' evaluations, and the dense Rosenbrock
Hessian at n = 100) and its own section through :func:`markdown`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import numderiv as nd
from numderiv import testing
from numderiv.testing import Problem

try:
    import numdifftools as ndt
except ImportError:  # the bench extra is not installed
    ndt = None
try:
    import scipy.differentiate as sdiff
except ImportError:  # SciPy < 1.15
    sdiff = None
try:
    import jacobi as jacobi_pkg
except ImportError:
    jacobi_pkg = None

try:
    from ._common import Row
except ImportError:  # run as a script
    from _common import Row  # type: ignore[no-redef]


LIBRARIES = (
    "numderiv central",
    "numderiv complex",
    "numderiv adaptive",
    "numdifftools",
    "scipy.differentiate",
    "jacobi",
)

# a call slower than this is timed once; faster ones up to `_REPEAT` times
# within about this much time in all
_TIME_BUDGET = 0.3
_REPEAT = 5


@dataclass
class Result:
    """One library on one problem: digits, evaluations per point, seconds per call."""

    digits: float | None = None  # None: not applicable (see `note`)
    nfev: float | None = None
    time: float | None = None
    note: str = ""


class _Counter:
    """``f`` that counts the points it is evaluated at."""

    def __init__(self, f: Callable[..., Any], dim: int) -> None:
        self.f = f
        self.dim = dim
        self.count = 0

    def __call__(self, x: Any, *args: Any) -> Any:
        self.count += max(1, int(np.size(x)) // self.dim)
        return self.f(x, *args)


class _NotApplicable(Exception):
    pass


def _output(f: Callable[..., Any], i: int) -> Callable[..., Any]:
    return lambda x: f(x)[i]


def _numderiv(method: str) -> Callable[[Problem, Callable[..., Any]], Any]:
    def solve(p: Problem, f: Callable[..., Any]) -> Any:
        if method == "complex" and not p.complex_ok:
            raise _NotApplicable("f takes no complex input")
        if p.kind == "derivative":
            return nd.derivative(f, p.x, n=p.n, method=method)
        if p.kind == "gradient":
            return nd.gradient(f, p.x, method=method)
        if p.kind == "hessian":
            return nd.hessian(f, p.x, method=method)
        return nd.jacobian(f, p.x, method=method)

    return solve


def _numdifftools(p: Problem, f: Callable[..., Any]) -> Any:
    if p.kind == "derivative":
        return ndt.Derivative(f, n=p.n)(p.x)
    if p.kind == "gradient":
        return ndt.Gradient(f)(p.x)
    if p.kind == "jacobian":
        return ndt.Jacobian(f)(p.x)
    if np.ndim(p.exact) == 3:  # one scalar Hessian per output
        return np.stack(
            [ndt.Hessian(_output(f, i))(p.x) for i in range(np.shape(p.exact)[0])]
        )
    return ndt.Hessian(f)(p.x)


def _scipy(p: Problem, f: Callable[..., Any]) -> Any:
    if p.kind == "derivative":
        if p.n == 1:
            return sdiff.derivative(f, p.x).df
        if p.n == 2:  # the Hessian of a function of one variable
            x = np.asarray(p.x, dtype=float)
            H = sdiff.hessian(lambda X: f(X[0]), x.reshape(1, *x.shape)).ddf
            return H.reshape(x.shape)
        raise _NotApplicable("first and second derivatives only")
    if p.kind in ("gradient", "jacobian"):
        return sdiff.jacobian(f, p.x).df
    if np.ndim(p.exact) == 3:
        return np.stack(
            [sdiff.hessian(_output(f, i), p.x).ddf for i in range(np.shape(p.exact)[0])]
        )
    return sdiff.hessian(f, p.x).ddf


def _jacobi(p: Problem, f: Callable[..., Any]) -> Any:
    if p.kind == "hessian" or p.n != 1:
        raise _NotApplicable("first derivatives only")
    if p.kind == "derivative" and np.ndim(p.x) > 0:
        return jacobi_pkg.jacobi(f, p.x, diagonal=True)[0]
    return jacobi_pkg.jacobi(f, p.x)[0]


def _solvers() -> dict[str, Callable[[Problem, Callable[..., Any]], Any] | None]:
    return {
        "numderiv central": _numderiv("central"),
        "numderiv complex": _numderiv("complex"),
        "numderiv adaptive": _numderiv("adaptive"),
        "numdifftools": _numdifftools if ndt is not None else None,
        "scipy.differentiate": _scipy if sdiff is not None else None,
        "jacobi": _jacobi if jacobi_pkg is not None else None,
    }


def _measure(
    p: Problem, solve: Callable[[Problem, Callable[..., Any]], Any] | None
) -> Result:
    if solve is None:
        return Result(note="not installed")
    dim = 1 if p.kind == "derivative" else int(np.size(p.x))
    f = _Counter(p.f, dim)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # 0/0 at the NaN point, overflow in a peer's trial steps: the
        # digits say what came of it
        warnings.simplefilter("ignore")
        try:
            t0 = time.perf_counter()
            value = solve(p, f)
            best = time.perf_counter() - t0
        except _NotApplicable as e:
            return Result(note=str(e))
        except ValueError as e:
            if "adaptive" in str(e):
                return Result(note="not in this checkout")
            return Result(digits=0.0, note=f"ValueError: {e}")
        except Exception as e:  # a peer failing on a problem is a result too
            return Result(digits=0.0, note=f"{type(e).__name__}: {e}")
        nfev = f.count / p.npoints
        spent = best
        for _ in range(_REPEAT - 1):
            if spent > _TIME_BUDGET:
                break
            t0 = time.perf_counter()
            solve(p, p.f)
            t = time.perf_counter() - t0
            best = min(best, t)
            spent += t
    v = np.asarray(value)
    if v.shape != np.shape(p.exact) and v.size == np.size(p.exact):
        v = v.reshape(np.shape(p.exact))  # e.g. (1,) for a scalar
    d = testing.digits(v, p.exact, componentwise=p.componentwise)
    return Result(digits=d, nfev=nfev, time=best)


def met(p: Problem, r: Result) -> bool | None:
    """Whether `r` meets the problem's targets (None when it has none)."""
    if p.target_digits is None and p.target_nfev is None:
        return None
    if r.digits is None or r.nfev is None:
        return False
    ok = p.target_digits is None or r.digits >= p.target_digits
    return ok and (p.target_nfev is None or r.nfev <= p.target_nfev)


_RESULTS: list[tuple[Problem, dict[str, Result]]] = []


def measure_all(
    problems: tuple[Problem, ...] = testing.PEER_PROBLEMS,
    *,
    progress: bool = False,
) -> list[tuple[Problem, dict[str, Result]]]:
    """Every library on every problem."""
    solvers = _solvers()
    out = []
    for p in problems:
        if progress:
            print(f"  {p.name} ...", flush=True)
        out.append((p, {lib: _measure(p, s) for lib, s in solvers.items()}))
    return out


# the problems on which method="adaptive" is to reach 13 digits with at most
# half numdifftools' evaluations (SPEC section 4)
_SMOOTH_DIGITS = 13.0


def _rows(results: list[tuple[Problem, dict[str, Result]]]) -> list[Row]:
    rows = []
    smooth = [
        (p, r)
        for p, r in results
        if p.target_digits is not None and p.target_digits >= _SMOOTH_DIGITS
    ]
    worst: tuple[float, float, float, str] | None = None  # ratio, ours, peer, name
    ok = True
    for p, r in smooth:
        a, b = r["numderiv adaptive"], r["numdifftools"]
        if a.nfev is None or a.digits is None or b.nfev is None:
            ok = False
            continue
        ratio = a.nfev / b.nfev
        ok = ok and ratio <= 0.5 and a.digits >= _SMOOTH_DIGITS
        if worst is None or ratio > worst[0]:
            worst = (ratio, a.nfev, b.nfev, p.name)
    rows.append(
        Row(
            "method='adaptive': evaluations against numdifftools defaults "
            "(worst over the smooth problems)",
            worst[1] if worst else float("nan"),
            "numdifftools defaults",
            worst[2] if worst else float("nan"),
            "<= 0.5 with >= 13 digits on every one",
            ok and worst is not None,
            unit="evals",
            notes=(
                f"worst: {worst[3]}; {len(smooth)} problems"
                if worst
                else "method='adaptive' not in this checkout"
            ),
        )
    )
    for p, r in results:
        if p.name != "Rosenbrock n=100 dense Hessian":
            continue
        peer = r["numdifftools"]
        best: tuple[float, str, float] | None = None
        for lib in ("numderiv central", "numderiv complex", "numderiv adaptive"):
            x = r[lib]
            if (
                x.digits is not None
                and x.digits >= 12
                and x.nfev is not None
                and (best is None or x.nfev < best[0])
            ):
                best = (x.nfev, lib, x.digits)
        ok = best is not None and peer.nfev is not None and best[0] <= 0.2 * peer.nfev
        rows.append(
            Row(
                "dense Hessian of Rosenbrock n=100, no sparsity: evaluations",
                best[0] if best else float("nan"),
                "numdifftools.Hessian",
                peer.nfev if peer.nfev is not None else float("nan"),
                "<= 0.2 with >= 12 digits",
                ok,
                unit="evals",
                notes=(
                    f"{best[1]}, {best[2]:.1f} digits"
                    if best
                    else "no numderiv method reaches 12 digits"
                ),
            )
        )
    return rows


def run() -> list[Row]:
    _RESULTS[:] = measure_all(progress=True)
    return _rows(_RESULTS)


def _fmt(r: Result) -> tuple[str, str, str]:
    if r.digits is None:
        return "n/a", "", ""
    d = f"{r.digits:.1f}"
    n = "" if r.nfev is None else f"{r.nfev:.4g}"
    t = "" if r.time is None else f"{r.time:.2g}"
    return d, n, t


def table(results: list[tuple[Problem, dict[str, Result]]]) -> str:
    """The markdown table: digits / evaluations / seconds per library and problem."""
    head = ["problem", "adaptive target", *LIBRARIES, "adaptive met"]
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    notes: list[str] = []
    for p, res in results:
        tgt = []
        if p.target_digits is not None:
            tgt.append(f"≥ {p.target_digits:g} d")
        if p.target_nfev is not None:
            tgt.append(f"≤ {p.target_nfev} ev")
        cells = [p.name, ", ".join(tgt) or "—"]
        for lib in LIBRARIES:
            r = res[lib]
            d, n, t = _fmt(r)
            cells.append(d if r.digits is None else f"{d} / {n} / {t}")
            if r.note and r.digits is not None:
                notes.append(f"{p.name}, {lib}: {r.note}")
        m = met(p, res["numderiv adaptive"])
        if res["numderiv adaptive"].digits is None:
            cells.append("n/a")
        else:
            cells.append("—" if m is None else ("yes" if m else "**no**"))
        lines.append("| " + " | ".join(cells) + " |")
    na = sorted(
        {
            f"{lib}: {r.note}"
            for _, res in results
            for lib, r in res.items()
            if r.digits is None and r.note
        }
    )
    out = "\n".join(lines)
    if na:
        out += "\n\nn/a: " + "; ".join(na) + "."
    if notes:
        out += "\n\nFailures:\n\n" + "\n".join(f"- {n}" for n in notes)
    return out


def markdown() -> str:
    """The section of RESULTS.md (after :func:`run`)."""
    if not _RESULTS:
        _RESULTS[:] = measure_all()
    versions = [f"numderiv {nd.__version__}"]
    for name, mod in (
        ("numdifftools", ndt),
        ("jacobi", jacobi_pkg),
    ):
        if mod is not None:
            versions.append(f"{name} {getattr(mod, '__version__', '?')}")
    import scipy

    versions.append(f"SciPy {scipy.__version__}")
    parts = [
        "## Accuracy against the peers",
        "",
        "Each cell: correct digits / evaluations (per point of x for the "
        "elementwise problems) / seconds per call (best of a few), for the "
        "problems of `numderiv.testing.PEER_PROBLEMS` (exact answers written "
        "by hand; digits = -log10(max|err| / max|exact|), absolute where the "
        "exact value is 0, per component where noted, 16 for exact, 0 for "
        "NaN).  Every library with its defaults; the adaptive target is "
        'numderiv\'s for `method="adaptive"`.  Versions: ' + ", ".join(versions) + ".",
        "",
        table(_RESULTS),
    ]
    notes = [f"- {p.name}: {p.notes}" for p, _ in _RESULTS if p.notes]
    if notes:
        parts += ["", "Problems:", "", *notes]
    return "\n".join(parts)


if __name__ == "__main__":
    _RESULTS[:] = measure_all(progress=True)
    print(table(_RESULTS))
    for r in _rows(_RESULTS):
        print(f"{r.name}: {r.ours} vs {r.peer} ({r.target}) {r.met} {r.notes}")
