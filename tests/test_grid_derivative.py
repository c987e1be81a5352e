"""numderiv.grid.derivative: orders, boundaries, exact weights, errors."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numderiv._stencil import _exact_weights
from numderiv.grid import derivative
from numderiv.grid._engine import fornberg_rows, plan_uniform


def _grid(kind: str, npts: int) -> np.ndarray:
    """[0, 1] uniformly, or with a period-3 pattern of unequal steps."""
    i = np.arange(npts, dtype=float)
    if kind == "uniform":
        return i / (npts - 1)
    x = i + np.array([0.0, 0.3, -0.2])[np.arange(npts) % 3]
    return (x - x[0]) / (x[-1] - x[0])


def _slope(ns: list[int], errs: list[float], length: float = 1.0) -> float:
    h = length / (np.array(ns, dtype=float) - 1)
    return float(np.polyfit(np.log(h), np.log(errs), 1)[0])


def _spacing(kind: str, x: np.ndarray) -> Any:
    return x[1] - x[0] if kind == "uniform" else x


def f(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * x + 1)


def fprime(x: np.ndarray, n: int) -> np.ndarray:
    return 2.0**n * np.sin(2 * x + 1 + n * np.pi / 2)


# ns with npts = 1 (mod 3) so that the non-uniform pattern meets the ends
# the same way at every resolution; ranges stay clear of round-off
CASES = [
    (1, 2, [40, 79, 160, 319]),
    (1, 4, [31, 61, 121, 241]),
    (1, 6, [31, 46, 61, 91]),
    (1, 8, [25, 28, 31, 34]),
    (2, 2, [40, 79, 160, 319]),
    (2, 4, [31, 61, 121, 241]),
    (2, 6, [22, 31, 46, 61]),
    (3, 2, [40, 79, 160, 319]),
    (3, 4, [40, 61, 79, 100]),
]


@pytest.mark.parametrize("kind", ["uniform", "nonuniform"])
@pytest.mark.parametrize(("n", "accuracy", "ns"), CASES)
def test_convergence_slope(kind: str, n: int, accuracy: int, ns: list[int]) -> None:
    errs = []
    for npts in ns:
        x = _grid(kind, npts)
        d = derivative(f(x), _spacing(kind, x), n=n, accuracy=accuracy)
        errs.append(float(np.max(np.abs(d - fprime(x, n)))))
    assert abs(_slope(ns, errs) - accuracy) < 0.2, errs


def test_second_derivative_nonuniform_interior_is_second_order() -> None:
    # the three-point formula drops to first order on a rough grid; the
    # five-point window keeps (at least) second order in the interior
    ns = [40, 79, 160, 319]
    errs, errs3 = [], []
    for npts in ns:
        x = _grid("nonuniform", npts)
        y = f(x)
        inner = slice(5, -5)
        d = derivative(y, x, n=2, accuracy=2)
        errs.append(float(np.max(np.abs(d - fprime(x, 2))[inner])))
        # the classic three-point non-uniform second difference, for contrast
        h1, h2 = np.diff(x)[:-1], np.diff(x)[1:]
        d3 = (
            2 * (h1 * y[2:] - (h1 + h2) * y[1:-1] + h2 * y[:-2]) / (h1 * h2 * (h1 + h2))
        )
        errs3.append(float(np.max(np.abs(d3 - fprime(x[1:-1], 2))[inner])))
    assert _slope(ns, errs) > 1.8
    assert abs(_slope(ns, errs3) - 1) < 0.2  # the contrast shows the test can fail


@pytest.mark.parametrize("kind", ["uniform", "nonuniform"])
@pytest.mark.parametrize(("n", "accuracy"), [(1, 2), (2, 2), (2, 4), (3, 2), (4, 4)])
def test_exact_on_polynomials(kind: str, n: int, accuracy: int) -> None:
    npts = 3 * (n + accuracy) + 4
    x = _grid(kind, npts) * 2 - 0.5
    c = np.random.default_rng(n * 10 + accuracy).standard_normal(n + accuracy)
    P = np.polynomial.polynomial
    y = P.polyval(x, c)
    exact = P.polyval(x, P.polyder(c, n))
    d = derivative(y, _spacing(kind, x), n=n, accuracy=accuracy)
    scale = np.max(np.abs(y)) / (np.min(np.diff(x)) ** n)
    np.testing.assert_allclose(d, exact, rtol=0, atol=1e-11 * scale)


def _symbol(n: int, accuracy: int, theta: np.ndarray) -> np.ndarray:
    """Fourier symbol of the centred stencil: what it does to exp(i k x)."""
    s = plan_uniform(64, n, accuracy, accuracy, 1.0, periodic=True)
    # rebuild the weights the plan applies (integer numerators / denominator)
    total = np.full(theta.shape, complex(s.center))
    for k, c in s.pairs:
        sign = -1 if s.odd else 1
        total = total + c * (np.exp(1j * k * theta) + sign * np.exp(-1j * k * theta))
    return total / s.den


@pytest.mark.parametrize(
    ("n", "accuracy"), [(1, 2), (1, 4), (1, 10), (2, 2), (2, 6), (3, 4)]
)
def test_periodic_exact_on_trig_polynomials(n: int, accuracy: int) -> None:
    # a finite-difference stencil maps exp(i k x) to symbol(k h) exp(i k x)
    # exactly; with periodic wrap-around this holds at every point
    npts = 24
    h = 2 * np.pi / npts
    x = h * np.arange(npts)
    rng = np.random.default_rng(accuracy)
    ks = np.arange(0, npts // 2)
    a, b = rng.standard_normal((2, ks.size))
    y = (
        a[:, None] * np.cos(ks[:, None] * x) + b[:, None] * np.sin(ks[:, None] * x)
    ).sum(0)
    coef = (a - 1j * b)[:, None] * np.exp(1j * ks[:, None] * x)  # y = Re sum coef
    sym = _symbol(n, accuracy, ks * h)[:, None] / h**n
    expected = np.real(sym * coef).sum(0)
    d = derivative(y, h, n=n, accuracy=accuracy, boundary="periodic")
    np.testing.assert_allclose(d, expected, rtol=0, atol=1e-10 / h**n)
    # a trig polynomial of low degree and a high order: nearly the exact derivative
    d1 = derivative(np.sin(x), h, accuracy=16, boundary="periodic")
    assert np.max(np.abs(d1 - np.cos(x))) < 1e-9


@pytest.mark.parametrize("accuracy", [2, 4, 8])
def test_periodic_nonuniform(accuracy: int) -> None:
    errs = []
    ns = [31, 61, 121]
    for npts in ns:
        t = np.arange(npts + 1) / npts
        x = 2 * np.pi * (t + 0.05 * np.sin(2 * np.pi * t))  # x[-1] = x[0] + 2 pi
        d = derivative(np.sin(x[:-1]), x, accuracy=accuracy, boundary="periodic")
        errs.append(float(np.max(np.abs(d - np.cos(x[:-1])))))
    assert abs(_slope(ns, errs, 2 * np.pi) - accuracy) < 0.3, errs


def test_periodic_uniform_coordinates_equal_spacing() -> None:
    x = np.arange(17) * 0.25  # the period end point included
    y = np.cos(x[:-1] * 2 * np.pi / 4)
    a = derivative(y, x, accuracy=4, boundary="periodic")
    b = derivative(y, 0.25, accuracy=4, boundary="periodic")
    np.testing.assert_array_equal(a, b)
    c = derivative(y, x[:-1], accuracy=4, boundary="periodic")
    np.testing.assert_array_equal(a, c)


def _central_first(r: int, k: int) -> Fraction:
    # published closed form of the centred first-derivative weights
    return Fraction(
        (-1) ** (k + 1) * math.factorial(r) ** 2,
        k * math.factorial(r - k) * math.factorial(r + k),
    )


def _central_second(r: int, k: int) -> Fraction:
    if k == 0:
        return -2 * sum(Fraction(1, j * j) for j in range(1, r + 1))
    return Fraction(
        2 * (-1) ** (k + 1) * math.factorial(r) ** 2,
        k * k * math.factorial(r - k) * math.factorial(r + k),
    )


@pytest.mark.parametrize("accuracy", [30, 40])
def test_weights_at_high_order_are_exact(accuracy: int) -> None:
    # with h = 1 the plan holds either integer numerators over a common
    # denominator (exact) or, when those exceed 2**53, the correctly rounded
    # weights themselves; both must reproduce the published rationals
    r = accuracy // 2
    for n, closed in ((1, _central_first), (2, _central_second)):
        p = plan_uniform(4 * r, n, accuracy, accuracy, 1.0, periodic=False)
        weights = dict(p.pairs)
        weights[0] = p.center
        for k in range(0 if n == 2 else 1, r + 1):
            exact = closed(r, k)
            if p.den == 1.0:
                assert weights[k] == float(exact)
            else:
                assert Fraction(weights[k]) / Fraction(p.den) == exact
    # the one-sided boundary rows: correctly rounded exact rationals
    exact_row = _exact_weights(tuple(range(accuracy + 1)), 1)[1]
    row0 = plan_uniform(4 * r, 1, accuracy, accuracy, 1.0, periodic=False).rows[0]
    assert row0.index == 0
    assert list(row0.coefs) == [float(w) for w in exact_row]


def test_nonuniform_weights_at_order_30_match_exact_rationals() -> None:
    # dyadic nodes are exact in binary: compare the float recursion with
    # exact rational arithmetic (a Vandermonde solve is hopeless here)
    rng = np.random.default_rng(30)
    nodes = np.cumsum(rng.integers(1, 8, 31)) / 8.0
    x0 = nodes[15]
    w = fornberg_rows(np.array([x0]), nodes[None, :], 1)[:, 0]
    exact = _exact_weights(tuple(Fraction(v) - Fraction(x0) for v in nodes), 1)[1]
    exact_f = np.array([float(q) for q in exact])
    np.testing.assert_allclose(
        w, exact_f, rtol=1e-9, atol=1e-12 * np.max(np.abs(exact_f))
    )


def test_accuracy_30_on_periodic_data_and_refused_one_sided() -> None:
    # periodic: central stencils only, whose rounding gain stays below 4
    t = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    d = derivative(np.sin(3 * t), t[1], accuracy=30, boundary="periodic")
    assert np.max(np.abs(d - 3 * np.cos(3 * t))) < 1e-11
    # one-sided: the boundary stencils' gain is 7.4e7 at 30, above 2**21
    with pytest.raises(ValueError, match=r"accuracy=30 is more than float64.*n=1"):
        derivative(np.sin(t), t[1], accuracy=30)


@pytest.mark.parametrize(("n", "top"), [(1, 24), (2, 20), (3, 16), (4, 14), (6, 10)])
def test_one_sided_accuracy_limits(n: int, top: int) -> None:
    from numderiv._stencil import _exact_weights
    from numderiv.grid._validate import ROUNDOFF_GAIN_LIMIT, max_one_sided_accuracy

    assert max_one_sided_accuracy(n) == top

    def gain(p: int) -> float:
        return float(sum(abs(w) for w in _exact_weights(tuple(range(n + p)), n)[n]))

    assert gain(top) <= ROUNDOFF_GAIN_LIMIT < gain(top + 2)
    x = np.linspace(0, 1, 3 * top + 10)
    derivative(np.exp(x), x[1], n=n, accuracy=top)  # the limit itself is allowed
    with pytest.raises(ValueError, match=rf"the most for n={n} is accuracy={top}"):
        derivative(np.exp(x), x[1], n=n, accuracy=top + 2)
    # periodic boundaries have no one-sided stencils, hence no limit
    derivative(np.exp(x), x[1], n=n, accuracy=top + 2, boundary="periodic")


def test_high_derivative_one_sided_refused_without_building_anything() -> None:
    from numderiv.grid._validate import max_one_sided_accuracy

    # n = 17: the forward difference alone (2**17) is within 2**21, but its
    # accuracy-2 stencil is not
    assert max_one_sided_accuracy(17) == 0
    with pytest.raises(ValueError, match=r"no accuracy is within that for n=30"):
        derivative(np.arange(100.0), n=30)
    with pytest.raises(ValueError, match=r"2\*\*1000"):
        derivative(np.arange(10.0), n=1000)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3),
    accuracy=st.sampled_from([2, 4, 6]),
    axis=st.integers(-3, 2),
    boundary=st.sampled_from(["one-sided", "periodic"]),
    seed=st.integers(0, 1000),
)
def test_axis_handling(
    n: int, accuracy: int, axis: int, boundary: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((13, 14, 15))
    d = derivative(y, 0.5, n=n, axis=axis, accuracy=accuracy, boundary=boundary)
    moved = np.moveaxis(y, axis, -1)
    ref = np.stack(
        [
            derivative(row, 0.5, n=n, accuracy=accuracy, boundary=boundary)
            for row in moved.reshape(-1, moved.shape[-1])
        ]
    ).reshape(moved.shape)
    np.testing.assert_allclose(np.moveaxis(d, axis, -1), ref, rtol=1e-13, atol=1e-12)


def test_dtypes() -> None:
    y32 = np.linspace(0, 1, 20, dtype=np.float32) ** 2
    assert derivative(y32, n=2).dtype == np.float32
    assert derivative(np.arange(10), n=2).dtype == np.float64
    z = np.exp(1j * np.linspace(0, 1, 20))
    dz = derivative(z, 1 / 19, accuracy=4)
    assert dz.dtype == np.complex128
    np.testing.assert_allclose(dz, 1j * z, atol=1e-5)


# -- bad input ---------------------------------------------------------------


def test_bad_arguments() -> None:
    y = np.arange(10.0)
    with pytest.raises(ValueError, match="accuracy must be a positive even integer"):
        derivative(y, accuracy=3)
    with pytest.raises(ValueError, match="accuracy must be a positive even integer"):
        derivative(y, accuracy=0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        derivative(y, n=0)
    with pytest.raises(ValueError, match="boundary must be 'one-sided' or 'periodic'"):
        derivative(y, boundary="wrap")
    with pytest.raises(ValueError, match=r"needs at least 5"):
        derivative(np.arange(4.0), n=1, accuracy=4)
    with pytest.raises(ValueError, match=r"periodic boundaries needs at least 5"):
        derivative(np.arange(4.0), n=1, accuracy=4, boundary="periodic")
    with pytest.raises(ValueError, match="strictly increasing"):
        derivative(y, y[::-1])
    with pytest.raises(ValueError, match="strictly increasing"):
        derivative(y, np.r_[0.0, 0.0, np.arange(2.0, 10.0)])
    with pytest.raises(ValueError, match="finite"):
        derivative(y, np.r_[np.nan, np.arange(1.0, 10.0)])
    with pytest.raises(ValueError, match="has 9 coordinates but the axis has 10"):
        derivative(y, np.arange(9.0))
    with pytest.raises(ValueError, match="need 11 coordinates"):
        derivative(y, np.arange(10.0) ** 2, boundary="periodic")
    with pytest.raises(ValueError, match="at least one dimension"):
        derivative(3.0)
    with pytest.raises(np.exceptions.AxisError):
        derivative(y, axis=1)
    with pytest.raises(TypeError, match="axis must be an integer"):
        derivative(y, axis=0.5)
    with pytest.raises(TypeError, match="boolean"):
        derivative(y > 3)
    with pytest.raises(ValueError, match="non-zero"):
        derivative(y, 0.0)
