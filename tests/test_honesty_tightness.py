"""Honesty both ways: the error estimate covers the true error and is not absurdly loose.

Over the problems of :data:`numderiv.testing.PEER_PROBLEMS` (exact answers
written out by hand) and a few more, and the fixed methods at several
orders:

* coverage: every entry of a call with ``status >= 0`` has ``|value -
  exact| <= error`` (known exceptions listed in ``KNOWN_MISSES``, each
  reported; an xfail test shows them);
* tightness: where the true error is above round-off, the median over the
  problems of the median ratio ``error / |value - exact|`` is at most 1000,
  and no problem's median ratio exceeds 1e5.  Multiplying every estimate by
  1e6 fails this test (the medians measured lie between 25 and 700).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import numderiv as nd
from numderiv import testing

EPS = float(np.finfo(np.float64).eps)

METHODS = [
    ("central", 2),
    ("central", 4),
    ("central", 6),
    ("forward", 1),
    ("forward", 2),
    ("backward", 1),
    ("backward", 2),
    ("complex", 2),
    ("complex", 4),
]

# (method, order) -> problems whose estimate does not cover the error with
# status >= 0 (measured; reported to the lead, not hidden):
# - (sin x/x)' at 1e-3 with the complex step: cancellation inside f's
#   formula that D(h) and D(h/2) cannot see (docs/accuracy.md);
# - forward order 2 at sin'(1e8) (20x) and on sin x + 1e-10 noise (4.5x).
KNOWN_MISSES: dict[tuple[str, int], set[str]] = {
    ("forward", 2): {"sin'(1e8)", "(sin x + 1e-10 noise)' at 1"},
}


def _broyden(x: Any) -> Any:
    return testing.broyden_tridiagonal(x)


_BX = np.linspace(-1.0, 1.0, 20)
_JX = np.array([0.3, -0.7, 1.1])
_JV = np.array([1.0, -2.0, 0.5])


@dataclass
class _Extra:
    name: str
    call: Any  # (method, order) -> (value, info)
    exact: Any
    complex_ok: bool = True


EXTRA = [
    _Extra(
        "Broyden tridiagonal Jacobian n=20",
        lambda m, o: nd.jacobian(_broyden, _BX, method=m, order=o, full_output=True),
        testing.broyden_tridiagonal_jacobian(_BX),
    ),
    _Extra(
        "jvp of the Scilab example",
        lambda m, o: nd.jvp(
            testing.scilab_example, _JX, _JV, method=m, order=o, full_output=True
        ),
        testing.scilab_example_jacobian(_JX) @ _JV,
    ),
    _Extra(
        "log' at 0.5..4",
        lambda m, o: nd.derivative(
            np.log, np.linspace(0.5, 4, 8), method=m, order=o, full_output=True
        ),
        1 / np.linspace(0.5, 4, 8),
    ),
]


def _problem_call(p: testing.Problem, method: str, order: int) -> Any:
    kw: dict[str, Any] = {"method": method, "order": order, "full_output": True}
    if p.kind == "derivative":
        return nd.derivative(p.f, p.x, n=p.n, **kw)
    return getattr(nd, p.kind)(p.f, p.x, **kw)


def _cases() -> list[tuple[str, Any, Any, bool]]:
    out: list[tuple[str, Any, Any, bool]] = [
        (p.name, lambda m, o, p=p: _problem_call(p, m, o), p.exact, p.complex_ok)
        for p in testing.PEER_PROBLEMS
    ]
    out += [(e.name, e.call, e.exact, e.complex_ok) for e in EXTRA]
    return out


@dataclass
class _Result:
    value: Any
    error: Any
    status: int
    exact: Any


_CACHE: dict[tuple[str, int], dict[str, _Result]] = {}


def _results(method: str, order: int) -> dict[str, _Result]:
    """Every problem's value, estimate and status for one method (computed once)."""
    key = (method, order)
    if key not in _CACHE:
        res = {}
        for name, call, exact, complex_ok in _cases():
            if method == "complex" and not complex_ok:
                continue
            try:
                with warnings.catch_warnings():
                    # f's own warnings (log of a negative point of a stencil)
                    warnings.simplefilter("ignore", RuntimeWarning)
                    v, info = call(method, order)
            except ValueError:
                continue  # refused up front by name (an order float64 cannot do)
            v = np.asarray(v)
            res[name] = _Result(
                v,
                np.asarray(info.error, dtype=float),
                int(info.status),
                np.broadcast_to(np.asarray(exact), v.shape),
            )
        _CACHE[key] = res
    return _CACHE[key]


def _misses(method: str, order: int) -> set[str]:
    out = set()
    for name, r in _results(method, order).items():
        if r.status < 0:
            continue  # flagged: honest
        fin = np.isfinite(r.value) & np.isfinite(r.error)
        if np.any(np.abs(r.value - r.exact)[fin] > r.error[fin]):
            out.add(name)
    return out


def _ratios(method: str, order: int) -> dict[str, float]:
    """Per problem, the median of error / true error where that is above round-off."""
    out = {}
    for name, r in _results(method, order).items():
        if r.status < 0:
            continue
        true = np.abs(r.value - r.exact)
        ex = np.abs(r.exact).astype(float)
        scale = float(np.max(ex, initial=0.0))
        fin = np.isfinite(r.value) & np.isfinite(r.error)
        # above round-off: 100 ulps of the entry (or of a thousandth of the
        # largest entry, for entries that are zero or tiny)
        above = fin & (true > 100 * EPS * np.maximum(ex, 1e-3 * scale))
        if above.any():
            out[name] = float(np.median(r.error[above] / true[above]))
    return out


@pytest.mark.parametrize(("method", "order"), METHODS)
def test_estimate_covers_the_error(method, order):
    misses = _misses(method, order)
    assert misses <= KNOWN_MISSES.get((method, order), set()), sorted(misses)
    assert len(_results(method, order)) >= 20  # the problems really ran


@pytest.mark.xfail(reason="known misses (KNOWN_MISSES), reported", strict=False)
@pytest.mark.parametrize(("method", "order"), sorted(KNOWN_MISSES))
def test_known_misses_are_covered(method, order):
    assert not _misses(method, order)


@pytest.mark.parametrize(("method", "order"), METHODS)
def test_estimate_is_not_absurdly_loose(method, order):
    ratios = _ratios(method, order)
    assert len(ratios) >= 10, ratios
    med = float(np.median(list(ratios.values())))
    assert 1.0 <= med <= 1000.0, (med, ratios)
    loose = {k: v for k, v in ratios.items() if v > 1e5}
    assert not loose, loose
