"""Stencils and Fornberg weights: published tables, exactness, convergence, bad input."""

from __future__ import annotations

import dataclasses
import math
import re
import signal
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial import Polynomial

import numderiv as nd
from numderiv._stencil import _exact_weights, _fornberg_batch

EPS = np.finfo(float).eps
HYP = settings(max_examples=50, deadline=None)


def _fracs(text: str) -> list[Fraction]:
    return [Fraction(t) for t in text.split()]


# Fornberg (1988), Table 1: central weights on the grid -n..n (zeros included).
CENTRAL_TABLE = {
    (1, 2): "-1/2 0 1/2",
    (1, 4): "1/12 -2/3 0 2/3 -1/12",
    (1, 6): "-1/60 3/20 -3/4 0 3/4 -3/20 1/60",
    (1, 8): "1/280 -4/105 1/5 -4/5 0 4/5 -1/5 4/105 -1/280",
    (2, 2): "1 -2 1",
    (2, 4): "-1/12 4/3 -5/2 4/3 -1/12",
    (2, 6): "1/90 -3/20 3/2 -49/18 3/2 -3/20 1/90",
    (2, 8): "-1/560 8/315 -1/5 8/5 -205/72 8/5 -1/5 8/315 -1/560",
    (3, 2): "-1/2 1 0 -1 1/2",
    (3, 4): "1/8 -1 13/8 0 -13/8 1 -1/8",
    (3, 6): "-7/240 3/10 -169/120 61/30 0 -61/30 169/120 -3/10 7/240",
    (4, 2): "1 -4 6 -4 1",
    (4, 4): "-1/6 2 -13/2 28/3 -13/2 2 -1/6",
    (4, 6): "7/240 -2/5 169/60 -122/15 91/8 -122/15 169/60 -2/5 7/240",
}

# Fornberg (1988), Table 3: forward one-sided weights on the grid 0..n-1.
FORWARD_TABLE = {
    (1, 1): "-1 1",
    (1, 2): "-3/2 2 -1/2",
    (1, 3): "-11/6 3 -3/2 1/3",
    (1, 4): "-25/12 4 -3 4/3 -1/4",
    (1, 5): "-137/60 5 -5 10/3 -5/4 1/5",
    (1, 6): "-49/20 6 -15/2 20/3 -15/4 6/5 -1/6",
    (1, 7): "-363/140 7 -21/2 35/3 -35/4 21/5 -7/6 1/7",
    (1, 8): "-761/280 8 -14 56/3 -35/2 56/5 -14/3 8/7 -1/8",
    (2, 1): "1 -2 1",
    (2, 2): "2 -5 4 -1",
    (2, 3): "35/12 -26/3 19/2 -14/3 11/12",
    (2, 4): "15/4 -77/6 107/6 -13 61/12 -5/6",
    (2, 5): "203/45 -87/5 117/4 -254/9 33/2 -27/5 137/180",
    (2, 6): "469/90 -223/10 879/20 -949/18 41 -201/10 1019/180 -7/10",
    (3, 1): "-1 3 -3 1",
    (3, 2): "-5/2 9 -12 7 -3/2",
    (3, 3): "-17/4 71/4 -59/2 49/2 -41/4 7/4",
    (3, 4): "-49/8 29 -461/8 62 -307/8 13 -15/8",
    (3, 5): "-967/120 638/15 -3929/40 389/3 -2545/24 268/5 -1849/120 29/15",
    (3, 6): "-801/80 349/6 -18353/120 2391/10 -1457/6 4891/30 -561/8 527/30 -469/240",
    (4, 1): "1 -4 6 -4 1",
    (4, 2): "3 -14 26 -24 11 -2",
    (4, 3): "35/6 -31 137/2 -242/3 107/2 -19 17/6",
    (4, 4): "28/3 -111/2 142 -1219/6 176 -185/2 82/3 -7/2",
    (
        4,
        5,
    ): "1069/80 -1316/15 15289/60 -2144/5 10993/24 -4772/15 2803/20 -536/15 967/240",
}

# Leading truncation-error constants C (error = C h^p f^(d+p)), textbook values.
KNOWN_ERROR_CONSTANTS = [
    ("central", 1, 2, "1/6"),
    ("central", 1, 4, "-1/30"),
    ("central", 1, 6, "1/140"),
    ("central", 1, 8, "-1/630"),
    ("central", 2, 2, "1/12"),
    ("central", 2, 4, "-1/90"),
    ("central", 2, 6, "1/560"),
    ("central", 2, 8, "-1/3150"),
    ("central", 3, 2, "1/4"),
    ("central", 4, 2, "1/6"),
    ("forward", 1, 1, "1/2"),
    ("forward", 1, 2, "-1/3"),
    ("forward", 1, 3, "1/4"),
    ("forward", 1, 4, "-1/5"),
    ("forward", 2, 1, "1"),
    ("backward", 1, 1, "-1/2"),
    ("backward", 1, 2, "-1/3"),
    ("backward", 2, 1, "-1"),
]

ALL_SPECS = (
    [("central", d, p) for d in (1, 2, 3, 4) for p in (2, 4, 6, 8)]
    + [("forward", d, p) for d in (1, 2, 3, 4) for p in range(1, 7)]
    + [("backward", d, p) for d in (1, 2, 3, 4) for p in range(1, 7)]
)
# In float64 the asymptotic regime of a one-sided stencil is visible only when
# d + p is small: beyond that, by the time truncation beats round-off
# (eps * sum|w| / h^d) the step is too large for the h^(p+1) term to be
# negligible.  These are checked in float64; all are checked in Decimal.
FLOAT_SPECS = [(k, d, p) for k, d, p in ALL_SPECS if k == "central" or d + p <= 6]


def _ids(spec: tuple[str, int, int]) -> str:
    return "{}-d{}-p{}".format(*spec)


def _drop_zeros(offsets, weights):
    keep = [(Fraction(o), w) for o, w in zip(offsets, weights, strict=True) if w != 0]
    return tuple(o for o, _ in keep), tuple(w for _, w in keep)


def _solve_exact(a: list[list[Fraction]], b: list[Fraction]) -> list[Fraction]:
    """Gauss-Jordan elimination in exact rational arithmetic."""
    n = len(b)
    m = [[*row, rhs] for row, rhs in zip(a, b, strict=True)]
    for col in range(n):
        piv = next(r for r in range(col, n) if m[r][col] != 0)
        m[col], m[piv] = m[piv], m[col]
        inv = 1 / m[col][col]
        m[col] = [v * inv for v in m[col]]
        for r in range(n):
            if r != col and m[r][col] != 0:
                fac = m[r][col]
                m[r] = [vr - fac * vc for vr, vc in zip(m[r], m[col], strict=True)]
    return [row[n] for row in m]


def _vandermonde_weights(x0, nodes, d: int) -> list[Fraction]:
    """Exact weights of the d-th derivative at x0 from the moment equations.

    sum_k w_k (x_k - x0)^j = d! [j == d] for j = 0..N-1; independent of
    Fornberg's recursion.
    """
    z = [Fraction(x) - Fraction(x0) for x in nodes]
    n = len(z)
    a = [[zk**j for zk in z] for j in range(n)]
    b = [Fraction(math.factorial(d)) if j == d else Fraction(0) for j in range(n)]
    return _solve_exact(a, b)


def _abs_poly(coef, t):
    """Bound on |P| near t: sum_j |c_j| |t|^j (the size round-off scales with)."""
    return Polynomial(np.abs(coef))(np.abs(t))


# --------------------------------------------------------------------------
# 1. Exact weights against published tables
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("deriv", "order"), sorted(CENTRAL_TABLE))
def test_central_weights_match_fornberg_table_1(deriv, order):
    table = _fracs(CENTRAL_TABLE[(deriv, order)])
    half = len(table) // 2
    offsets = range(-half, half + 1)
    s = nd.Stencil.central(deriv, order)
    want_offsets, want_weights = _drop_zeros(offsets, table)
    assert s.offsets == want_offsets
    assert s.weights == want_weights
    assert all(isinstance(w, Fraction) for w in s.weights)
    assert s.deriv == deriv
    assert s.order == order
    assert s.kind == "central"
    assert s.uses_center == (deriv % 2 == 0)


@pytest.mark.parametrize(("deriv", "order"), sorted(FORWARD_TABLE))
def test_forward_weights_match_fornberg_table_3(deriv, order):
    table = _fracs(FORWARD_TABLE[(deriv, order)])
    s = nd.Stencil.forward(deriv, order)
    assert s.offsets == tuple(Fraction(k) for k in range(len(table)))
    assert s.weights == tuple(table)
    assert (s.deriv, s.order, s.kind) == (deriv, order, "forward")
    assert s.span == (0, len(table) - 1)


@pytest.mark.parametrize(("deriv", "order"), sorted(FORWARD_TABLE))
def test_backward_weights_are_mirrored_forward_table(deriv, order):
    # f(x - kh) mirrors f(x + kh): weights pick up (-1)^deriv
    table = _fracs(FORWARD_TABLE[(deriv, order)])
    s = nd.Stencil.backward(deriv, order)
    assert s.offsets == tuple(Fraction(-k) for k in range(len(table)))
    assert s.weights == tuple((-1) ** deriv * w for w in table)
    assert (s.deriv, s.order, s.kind) == (deriv, order, "backward")
    assert s.span == (1 - len(table), 0)


@pytest.mark.parametrize(("deriv", "order"), sorted(CENTRAL_TABLE))
def test_fornberg_weights_rows_match_table_1(deriv, order):
    table = _fracs(CENTRAL_TABLE[(deriv, order)])
    half = len(table) // 2
    grid = list(range(-half, half + 1))
    w = nd.fornberg_weights(0, grid, deriv)
    assert w.shape == (deriv + 1, len(grid))
    assert w.dtype == np.float64
    # integer nodes go through exact rationals: correctly rounded
    np.testing.assert_array_equal(w[deriv], [float(q) for q in table])
    # row 0 on a grid containing x0 is interpolation at a node: the unit vector
    np.testing.assert_array_equal(w[0], np.eye(len(grid))[half])
    # the float recursion (non-integer x0 and nodes) agrees closely
    wf = nd.fornberg_weights(0.5, [g + 0.5 for g in grid], deriv)
    scale = max(abs(float(q)) for q in table)
    np.testing.assert_allclose(
        wf[deriv], [float(q) for q in table], rtol=0, atol=1e-13 * scale
    )


@pytest.mark.parametrize(("deriv", "order"), sorted(FORWARD_TABLE))
def test_fornberg_weights_rows_match_table_3(deriv, order):
    table = _fracs(FORWARD_TABLE[(deriv, order)])
    n = len(table)
    w = nd.fornberg_weights(0, range(n), deriv)
    np.testing.assert_array_equal(w[deriv], [float(q) for q in table])
    wb = nd.fornberg_weights(3, [3 - k for k in range(n)], deriv)
    np.testing.assert_array_equal(wb[deriv], [(-1) ** deriv * float(q) for q in table])
    wf = nd.fornberg_weights(-0.25, [k - 0.25 for k in range(n)], deriv)
    scale = max(abs(float(q)) for q in table)
    np.testing.assert_allclose(
        wf[deriv], [float(q) for q in table], rtol=0, atol=1e-12 * scale
    )


def test_fornberg_weights_nested_grid_all_rows():
    # Fornberg's Table 1 reads all derivatives off one nine-point grid: row d
    # is the most accurate central formula for d that fits on -4..4.
    w = nd.fornberg_weights(0, range(-4, 5), 4)
    np.testing.assert_array_equal(w[0], np.eye(9)[4])
    for d, p in [(1, 8), (2, 8), (3, 6), (4, 6)]:
        np.testing.assert_array_equal(
            w[d], [float(q) for q in _fracs(CENTRAL_TABLE[(d, p)])]
        )


@pytest.mark.parametrize("scale", [1e300, 1e-300, 2.0**600, 2.0**-600])
def test_fornberg_weights_huge_and_tiny_spreads_scaled(scale):
    # the k-th row scales as spread**-k: computed on scaled nodes, no
    # overflow, no division by an underflowed product
    nodes = np.array([0.1, 0.35, 0.8, 1.3])
    x0 = 0.5
    ref = nd.fornberg_weights(x0, nodes, 1)
    w = nd.fornberg_weights(x0 * scale, nodes * scale, 1)
    np.testing.assert_allclose(w[0], ref[0], rtol=1e-13)
    np.testing.assert_allclose(w[1] * scale, ref[1], rtol=1e-13)
    # around a huge x0, nodes of a huge spread
    if scale > 1:
        w2 = nd.fornberg_weights(1e300 + 0.5e288, 1e300 + nodes * 1e288, 1)
        np.testing.assert_allclose(w2[1] * 1e288, ref[1], rtol=1e-2)


def test_fornberg_weights_unchanged_near_one():
    nodes = [0.1, 0.35, 0.8, 1.3, 2.0]
    from numderiv._stencil import _fornberg

    ref = np.array(_fornberg(0.5, nodes, 3, 0.0, 1.0))
    assert np.array_equal(nd.fornberg_weights(0.5, nodes, 3), ref)


@pytest.mark.parametrize(
    ("x0", "nodes", "m"),
    [
        (1e300, [0, 1, 2], 1),  # exact path: weights about 1e600
        (1e300, [0.5, 1.5, 2.5], 1),  # float path
        (0.5e-300, [1e-300, 2e-300, 3e-300], 2),  # 1/spread**2 = 1e600
        (0.5, [-1.5e308, 1.5e308], 1),  # the spread itself overflows
    ],
)
def test_fornberg_weights_overflow_named(x0, nodes, m):
    with pytest.raises(ValueError, match=r"overflows? float64.*x0="):
        nd.fornberg_weights(x0, nodes, m)


def test_fornberg_weights_docstring_example():
    np.testing.assert_array_equal(
        nd.fornberg_weights(0, [-1, 0, 1], 2),
        [[0.0, 1.0, 0.0], [-0.5, 0.0, 0.5], [1.0, -2.0, 1.0]],
    )


@pytest.mark.parametrize(("kind", "deriv", "order", "const"), KNOWN_ERROR_CONSTANTS)
def test_error_constant_textbook_values(kind, deriv, order, const):
    s = nd.Stencil.of_kind(kind, deriv, order)
    assert s.error_constant == Fraction(const)
    assert isinstance(s.error_constant, Fraction)


def test_from_offsets_known_values():
    s = nd.Stencil.from_offsets((0, 1, 2), 1)
    assert s.weights == (Fraction(-3, 2), 2, Fraction(-1, 2))
    assert (s.order, s.error_constant, s.kind) == (2, Fraction(-1, 3), "custom")
    # symmetric stencils report the order gained by symmetry
    s = nd.Stencil.from_offsets((-1, 0, 1), 2)
    assert (s.weights, s.order, s.error_constant) == ((1, -2, 1), 2, Fraction(1, 12))
    s = nd.Stencil.from_offsets((-1, 1), 1)
    assert (s.weights, s.order) == ((Fraction(-1, 2), Fraction(1, 2)), 2)
    # deriv 0 off the nodes is extrapolation: 2 f(h) - f(2h) = f - h^2 f''
    s = nd.Stencil.from_offsets((1, 2), 0)
    assert (s.weights, s.order, s.error_constant) == ((2, -1), 2, -1)
    # half steps: (f(h/2) - f(-h/2)) / h
    s = nd.Stencil.from_offsets((Fraction(-1, 2), Fraction(1, 2)), 1)
    assert s.weights == (-1, 1)
    assert (s.order, s.error_constant) == (2, Fraction(1, 24))


def test_from_offsets_keeps_the_given_order_of_offsets():
    s = nd.Stencil.from_offsets((2, 0, 1), 1)
    assert s.offsets == (2, 0, 1)
    assert s.weights == (Fraction(-1, 2), Fraction(-3, 2), 2)
    assert s.span == (0, 2)


@pytest.mark.parametrize(
    "build",
    [
        lambda: nd.Stencil.central(0, 2),
        lambda: nd.Stencil.forward(0, 1),
        lambda: nd.Stencil.from_offsets((-1, 0, 1), 0),
    ],
    ids=["central(0,2)", "forward(0,1)", "from_offsets((-1,0,1),0)"],
)
def test_zeroth_derivative_terminates(build):
    # Table 1 row "0th derivative" is the unit weight at the centre.  Either
    # that stencil or a clear ValueError is acceptable; hanging is not.
    if not hasattr(signal, "setitimer"):
        pytest.skip("needs signal.setitimer")

    def _alarm(signum, frame):
        raise TimeoutError("Stencil construction did not finish in 1 s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        s = build()
    except ValueError:
        return
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert s.offsets == (0,)
    assert s.weights == (1,)


# --------------------------------------------------------------------------
# 2. Exactness on polynomials
# --------------------------------------------------------------------------

coef_floats = st.floats(-1, 1, allow_nan=False, allow_subnormal=False)


def _stencil_tolerance(s, coef, x, h):
    nodes = x + s.nodes * h
    deg = len(coef) - 1
    roundoff = np.sum(np.abs(s.coefficients) * _abs_poly(coef, nodes)) / h**s.deriv
    return 8 * (deg + 2) * EPS * roundoff


@HYP
@given(
    spec=st.sampled_from(ALL_SPECS),
    data=st.data(),
    x=st.floats(-1, 1, allow_subnormal=False),
    h=st.floats(0.05, 1),
)
def test_stencil_exact_on_polynomials(spec, data, x, h):
    kind, d, p = spec
    s = nd.Stencil.of_kind(kind, d, p)
    deg = data.draw(st.integers(0, d + p - 1), label="degree")
    coef = data.draw(
        st.lists(coef_floats, min_size=deg + 1, max_size=deg + 1), label="coef"
    )
    poly = Polynomial(coef)
    got = s(poly, x, h)
    want = poly.deriv(d)(x)
    tol = (
        _stencil_tolerance(s, coef, x, h)
        + 8 * (deg + 2) * EPS * _abs_poly(coef, x) * 10**d
    )
    assert abs(got - want) <= tol, (got, want, tol)


@HYP
@given(
    spec=st.sampled_from(ALL_SPECS),
    data=st.data(),
    x=st.floats(-1, 1, allow_subnormal=False),
    h=st.floats(0.05, 1),
)
def test_stencil_error_is_leading_term_on_next_degree(spec, data, x, h):
    # On a polynomial of degree d+p the truncation error is exactly
    # C h^p P^(d+p)(x); central stencils have no h^(p+1) term (odd moments of
    # symmetric weights vanish), so the same holds at degree d+p+1.
    kind, d, p = spec
    s = nd.Stencil.of_kind(kind, d, p)
    deg = d + p + (kind == "central")
    coef = data.draw(
        st.lists(coef_floats, min_size=deg + 1, max_size=deg + 1), label="coef"
    )
    poly = Polynomial(coef)
    got = s(poly, x, h)
    lead = float(s.error_constant) * h**p * poly.deriv(d + p)(x)
    want = poly.deriv(d)(x) + lead
    tol = _stencil_tolerance(s, coef, x, h) + 8 * (deg + 2) * EPS * (
        _abs_poly(coef, x) * 10**d + abs(lead)
    )
    assert abs(got - want) <= tol, (got, want, tol)


def test_stencil_is_not_exact_beyond_its_degree():
    # the monomial t^(d+p) is the first one a stencil of order p gets wrong
    for kind, d, p in ALL_SPECS:
        s = nd.Stencil.of_kind(kind, d, p)
        q = d + p
        moment = sum(w * o**q for o, w in zip(s.offsets, s.weights, strict=True))
        assert moment != 0
        assert all(
            sum(w * o**j for o, w in zip(s.offsets, s.weights, strict=True))
            == (math.factorial(d) if j == d else 0)
            for j in range(q)
        )


@HYP
@given(
    x0=st.floats(-2, 2, allow_subnormal=False),
    shift=st.floats(-1, 1, allow_subnormal=False),
    ticks=st.lists(st.integers(-24, 24), min_size=2, max_size=8, unique=True),
    data=st.data(),
)
def test_fornberg_weights_exact_on_polynomials(x0, shift, ticks, data):
    nodes = x0 + shift + np.array(ticks) / 8
    n = len(nodes)
    coef = data.draw(st.lists(coef_floats, min_size=n, max_size=n), label="coef")
    poly = Polynomial(coef)
    w = nd.fornberg_weights(x0, nodes, n - 1)
    assert w.shape == (n, n)
    fvals = poly(nodes)
    for k in range(n):
        got = w[k] @ fvals
        want = poly.deriv(k)(x0)
        tol = (
            32
            * n**2
            * EPS
            * (np.abs(w[k]) @ _abs_poly(coef, nodes) + _abs_poly(coef, x0) * 8**k)
        )
        assert abs(got - want) <= tol, (k, got, want, tol)


# --------------------------------------------------------------------------
# 3. Convergence slopes and 4. error constants
# --------------------------------------------------------------------------


def _float_step_window(s):
    # smallest h where truncation |C| h^p beats round-off eps*sum|w|/h^d by 1e3
    ratio = 1e3 * EPS * s.abs_weight_sum / abs(float(s.error_constant))
    return ratio ** (1 / (s.order + s.deriv))


@pytest.mark.parametrize("spec", FLOAT_SPECS, ids=_ids)
def test_convergence_slope_float64(spec):
    kind, d, p = spec
    s = nd.Stencil.of_kind(kind, d, p)
    hs = _float_step_window(s) * np.geomspace(1, 4, 9)
    x = 0.3
    err = np.abs(s(np.exp, x, hs) - np.exp(x))
    slope = np.polyfit(np.log10(hs), np.log10(err), 1)[0]
    assert abs(slope - p) <= 0.2, slope


def _apply_decimal(s, x: Decimal, h: Decimal) -> Decimal:
    """Apply the exact weights to exp in 80-digit decimal arithmetic."""

    def dec(q: Fraction) -> Decimal:
        return Decimal(q.numerator) / Decimal(q.denominator)

    total = sum(
        (
            dec(w) * (x + dec(o) * h).exp()
            for o, w in zip(s.offsets, s.weights, strict=True)
        ),
        Decimal(0),
    )
    return total / h**s.deriv


@pytest.mark.parametrize("spec", ALL_SPECS, ids=_ids)
def test_convergence_slope_exact_weights(spec):
    # 80 digits push round-off far below truncation, so even the order-6
    # one-sided fourth derivative shows its asymptotic slope at tiny h
    kind, d, p = spec
    s = nd.Stencil.of_kind(kind, d, p)
    with localcontext() as ctx:
        ctx.prec = 80
        x = Decimal(3) / 10
        fx = x.exp()
        hs = [Decimal(2) ** -k for k in range(10, 15)]
        logerr = [float(abs(_apply_decimal(s, x, h) - fx).log10()) for h in hs]
        logh = [float(h.log10()) for h in hs]
    slope = np.polyfit(logh, logerr, 1)[0]
    assert abs(slope - p) <= 0.2, slope


@pytest.mark.parametrize(
    "spec",
    [*ALL_SPECS, ("custom", 1, (-1, 0, 2)), ("custom", 2, (0, Fraction(1, 2), 2, 3))],
    ids=str,
)
def test_error_constant_matches_truncation_exact_weights(spec):
    kind, d, p = spec
    if kind == "custom":
        s = nd.Stencil.from_offsets(p, d)
    else:
        s = nd.Stencil.of_kind(kind, d, p)
    with localcontext() as ctx:
        ctx.prec = 80
        x = Decimal(-7) / 10
        fx = x.exp()
        h = Decimal(2) ** -16
        ratio = (_apply_decimal(s, x, h) - fx) / (h**s.order * fx)
    assert float(ratio) == pytest.approx(float(s.error_constant), rel=1e-2)


# float64 steps large enough for round-off to be 1e-4 of truncation leave the
# next term (relative h for one-sided, h^2 for central) below 1e-2 only here
FLOAT_CONSTANT_SPECS = [
    (k, d, p) for k, d, p in ALL_SPECS if d + p <= (7 if k == "central" else 3)
]


@pytest.mark.parametrize("spec", FLOAT_CONSTANT_SPECS, ids=_ids)
def test_error_constant_matches_truncation_float64(spec):
    kind, d, p = spec
    s = nd.Stencil.of_kind(kind, d, p)
    h = 2 * _float_step_window(s) * 10 ** (1 / (p + d))
    x = 0.3
    ratio = (s(np.exp, x, h) - np.exp(x)) / (h**p * np.exp(x))
    assert ratio == pytest.approx(float(s.error_constant), rel=1e-2)


# --------------------------------------------------------------------------
# 5. High order against independent exact rationals; float batch
# --------------------------------------------------------------------------


def test_central_first_derivative_accuracy_30_closed_form():
    m = 15
    s = nd.Stencil.central(1, 2 * m)
    fm = math.factorial(m)
    want = {}
    for k in range(1, m + 1):
        wk = Fraction(
            (-1) ** (k + 1) * fm**2, k * math.factorial(m - k) * math.factorial(m + k)
        )
        want[k], want[-k] = wk, -wk
    assert s.offsets == tuple(Fraction(k) for k in range(-m, m + 1) if k)
    assert s.weights == tuple(want[int(o)] for o in s.offsets)
    assert s.order == 2 * m
    assert s.error_constant == Fraction(
        (-1) ** (m + 1) * fm**2, math.factorial(2 * m + 1)
    )
    np.testing.assert_array_equal(
        s.coefficients, [float(want[int(o)]) for o in s.offsets]
    )


def test_central_second_derivative_accuracy_30_closed_form():
    m = 15
    s = nd.Stencil.central(2, 2 * m)
    fm = math.factorial(m)
    want = {}
    for k in range(1, m + 1):
        wk = Fraction(
            2 * (-1) ** (k + 1) * fm**2,
            k**2 * math.factorial(m - k) * math.factorial(m + k),
        )
        want[k] = want[-k] = wk
    want[0] = -2 * sum(want[k] for k in range(1, m + 1))
    assert s.offsets == tuple(Fraction(k) for k in range(-m, m + 1))
    assert s.weights == tuple(want[int(o)] for o in s.offsets)
    assert s.order == 2 * m


@pytest.mark.parametrize(
    ("kind", "deriv", "order"),
    [
        ("central", 3, 8),
        ("central", 4, 8),
        ("central", 5, 4),
        ("central", 6, 10),
        ("forward", 4, 6),
        ("forward", 6, 3),
        ("backward", 5, 5),
    ],
)
def test_stencil_weights_match_vandermonde_solve(kind, deriv, order):
    s = nd.Stencil.of_kind(kind, deriv, order)
    if kind == "central":
        half = (2 * ((deriv + 1) // 2) - 1 + order) // 2
        grid = list(range(-half, half + 1))
    else:
        sign = 1 if kind == "forward" else -1
        grid = [sign * k for k in range(deriv + order)]
    want = _drop_zeros(grid, _vandermonde_weights(0, grid, deriv))
    assert (s.offsets, s.weights) == want
    assert s.order == order


@pytest.mark.parametrize(
    "offsets",
    [
        (Fraction(-1, 3), 0, Fraction(1, 2), 2),
        (Fraction(-5, 2), Fraction(-1, 7), Fraction(3, 4), 1, Fraction(9, 5)),
        (0.5, 0.25, -0.125, 3.0),
    ],
)
def test_from_offsets_rational_nodes_match_vandermonde_solve(offsets):
    # deriv 0 with a node at 0 is refused (see test_zeroth_derivative_terminates)
    for deriv in range(1 if 0 in offsets else 0, len(offsets)):
        s = nd.Stencil.from_offsets(offsets, deriv)
        want = _drop_zeros(offsets, _vandermonde_weights(0, offsets, deriv))
        assert (s.offsets, s.weights) == want
        assert _exact_weights(tuple(Fraction(o) for o in offsets), deriv)[
            deriv
        ] == tuple(_vandermonde_weights(0, offsets, deriv))


@pytest.mark.parametrize(
    ("x0", "nodes", "m"),
    [
        (0, range(-10, 11), 6),
        (3, range(13), 5),
        (2, [-5, -2, 0, 1, 7, 11], 5),
        (-40, [-41, -39, -36, -30, -20], 3),
    ],
)
def test_fornberg_weights_integer_nodes_correctly_rounded(x0, nodes, m):
    nodes = list(nodes)
    w = nd.fornberg_weights(x0, nodes, m)
    want = [
        [float(q) for q in _vandermonde_weights(x0, nodes, k)] for k in range(m + 1)
    ]
    np.testing.assert_array_equal(w, want)


@HYP
@given(
    x0=st.floats(-3, 3, allow_subnormal=False),
    ticks=st.lists(st.integers(-40, 40), min_size=2, max_size=7, unique=True),
    jitter=st.floats(0, 0.05),
)
def test_fornberg_weights_float_path_matches_exact_rationals(x0, ticks, jitter):
    nodes = x0 + jitter + np.array(ticks) / 10
    m = len(ticks) - 1
    w = nd.fornberg_weights(x0, nodes, m)
    for k in range(m + 1):
        exact = np.array(
            [float(q) for q in _vandermonde_weights(x0, nodes.tolist(), k)]
        )
        np.testing.assert_allclose(
            w[k], exact, rtol=0, atol=1e-12 * np.abs(exact).sum()
        )


def test_fornberg_batch_matches_fornberg_weights():
    rng = np.random.default_rng(20240611)
    p, n, m = 25, 6, 4
    base = np.sort(rng.uniform(-2, 2, size=(p, n)), axis=1)
    nodes = base + np.arange(n) * 0.2  # keep nodes apart
    rng.permuted(nodes, axis=1, out=nodes)
    x0 = rng.uniform(-2, 3, size=p)
    got = _fornberg_batch(x0, nodes, m)
    assert got.shape == (p, m + 1, n)
    for i in range(p):
        want = nd.fornberg_weights(x0[i], nodes[i], m)
        np.testing.assert_allclose(
            got[i], want, rtol=1e-12, atol=1e-12 * np.abs(want).max()
        )


def test_fornberg_batch_on_integer_nodes_matches_table():
    nodes = np.tile(np.arange(-4.0, 5.0), (3, 1))
    got = _fornberg_batch(np.zeros(3), nodes, 2)
    want = [float(q) for q in _fracs(CENTRAL_TABLE[(2, 8)])]
    for i in range(3):
        np.testing.assert_allclose(got[i, 2], want, rtol=0, atol=1e-13)


def test_fornberg_weights_result_is_not_the_cache():
    w = nd.fornberg_weights(0, [-1, 0, 1], 1)
    w[:] = 99.0
    np.testing.assert_array_equal(
        nd.fornberg_weights(0, [-1, 0, 1], 1), [[0.0, 1.0, 0.0], [-0.5, 0.0, 0.5]]
    )


# --------------------------------------------------------------------------
# 6. repr, caching, immutability, equality, call
# --------------------------------------------------------------------------


def _parse_repr(text: str) -> dict:
    m = re.fullmatch(
        r"Stencil\(deriv=(\d+), order=(\d+), kind='(\w+)', offsets=\(([^)]*)\), "
        r"weights=\(([^)]*)\), error_constant=(-?\d+(?:/\d+)?)\)",
        text,
    )
    assert m is not None, text

    def tup(body: str) -> tuple[Fraction, ...]:
        return tuple(Fraction(t) for t in body.split(",") if t.strip())

    return {
        "deriv": int(m[1]),
        "order": int(m[2]),
        "kind": m[3],
        "offsets": tup(m[4]),
        "weights": tup(m[5]),
        "error_constant": Fraction(m[6]),
    }


@pytest.mark.parametrize(
    "stencil",
    [
        nd.Stencil.central(1, 4),
        nd.Stencil.central(4, 6),
        nd.Stencil.forward(3, 5),
        nd.Stencil.backward(2, 3),
        nd.Stencil.from_offsets((Fraction(-1, 3), Fraction(1, 2), 2), 1),
        nd.Stencil.from_offsets((5,), 0),
    ],
    ids=repr,
)
def test_repr_round_trips(stencil):
    text = repr(stencil)
    assert "\n" not in text
    fields = _parse_repr(text)
    rebuilt = nd.Stencil(**fields)
    assert rebuilt == stencil
    assert hash(rebuilt) == hash(stencil)


def test_repr_exact_text():
    assert repr(nd.Stencil.central(1, 4)) == (
        "Stencil(deriv=1, order=4, kind='central', offsets=(-2, -1, 1, 2), "
        "weights=(1/12, -2/3, 2/3, -1/12), error_constant=-1/30)"
    )
    assert repr(nd.Stencil.from_offsets((5,), 0)) == (
        "Stencil(deriv=0, order=1, kind='custom', offsets=(5,), weights=(1,), "
        "error_constant=5)"
    )


def test_stencils_are_cached():
    assert nd.Stencil.central(1, 4) is nd.Stencil.central(1, 4)
    assert nd.Stencil.forward(2, 3) is nd.Stencil.forward(2, 3)
    assert nd.Stencil.backward(3, 2) is nd.Stencil.backward(3, 2)
    assert nd.Stencil.of_kind("central", 2, 6) is nd.Stencil.central(2, 6)
    assert nd.Stencil.of_kind("forward", 1, 3) is nd.Stencil.forward(1, 3)
    assert nd.Stencil.of_kind("backward", 4, 1) is nd.Stencil.backward(4, 1)
    offs = (0, Fraction(1, 2), 3)
    assert nd.Stencil.from_offsets(offs, 1) is nd.Stencil.from_offsets(offs, 1)


def test_stencil_is_frozen():
    s = nd.Stencil.central(2, 4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.order = 6
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.weights = (1, -2, 1)
    with pytest.raises(ValueError, match="read-only"):
        s.coefficients[0] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        s.nodes[0] = 0.0
    assert s.weights == _drop_zeros(range(-2, 3), _fracs(CENTRAL_TABLE[(2, 4)]))[1]


def test_stencil_hashable_and_equal():
    a = nd.Stencil.central(1, 4)
    # same stencil built another way (zero weight at 0 not listed): equal, not identical
    b = nd.Stencil.from_offsets((-2, -1, 1, 2), 1, "central")
    assert a is not b
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, nd.Stencil.central(1, 2), nd.Stencil.central(1, 2)}) == 2
    assert a != nd.Stencil.central(1, 6)
    assert nd.Stencil.central(2, 2) != nd.Stencil.forward(2, 1)
    table = {a: "x"}
    assert table[b] == "x"


@pytest.mark.parametrize("spec", ALL_SPECS, ids=_ids)
def test_float_views_and_properties(spec):
    s = nd.Stencil.of_kind(*spec)
    assert s.coefficients.dtype == np.float64
    assert s.nodes.dtype == np.float64
    np.testing.assert_array_equal(s.coefficients, [float(w) for w in s.weights])
    np.testing.assert_array_equal(s.nodes, [float(o) for o in s.offsets])
    assert s.abs_weight_sum == pytest.approx(
        float(sum(abs(w) for w in s.weights)), rel=1e-15
    )
    assert s.span == (min(s.offsets), max(s.offsets))
    assert s.uses_center == (0 in s.offsets)
    assert all(w != 0 for w in s.weights)
    assert len(s.offsets) == len(s.weights)


def test_properties_known_values():
    assert nd.Stencil.central(2, 2).abs_weight_sum == 4.0
    assert nd.Stencil.forward(1, 4).abs_weight_sum == pytest.approx(32 / 3, rel=1e-15)
    assert nd.Stencil.central(1, 4).span == (-2, 2)
    assert nd.Stencil.backward(1, 2).span == (-2, 0)
    assert not nd.Stencil.central(1, 2).uses_center
    assert nd.Stencil.central(2, 2).uses_center
    assert nd.Stencil.forward(1, 1).uses_center


def test_call_broadcasts_and_forwards_args():
    s = nd.Stencil.central(1, 6)
    x = np.array([-0.4, 0.1, 1.3])
    h = np.array([[1e-2], [2e-2]])
    calls = []

    def f(t, a):
        calls.append(np.shape(t))
        return np.sin(a * t)

    got = s(f, x, h, 2.0)
    assert got.shape == (2, 3)
    assert len(calls) == len(s.offsets)  # one call per offset, on the whole array
    np.testing.assert_allclose(
        got, np.broadcast_to(2 * np.cos(2 * x), (2, 3)), rtol=1e-9
    )
    scalar = s(np.sin, 0.5, 0.01)
    assert np.ndim(scalar) == 0
    assert float(scalar) == pytest.approx(math.cos(0.5), rel=1e-12)


def test_call_divides_by_h_to_the_derivative_order():
    s = nd.Stencil.forward(3, 1)
    # third difference of t^3 is exactly 6 h^3
    for h in (0.5, 0.25, 2.0):
        assert s(lambda t: t**3, 1.0, h) == 6.0


# --------------------------------------------------------------------------
# 7. Validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (
            lambda: nd.Stencil.central(1, 3),
            r"order must be even for central differences, got order=3",
        ),
        (lambda: nd.Stencil.of_kind("central", 2, 5), r"order must be even .*order=5"),
        (lambda: nd.Stencil.central(1, 0), r"order must be a positive integer, got 0"),
        (lambda: nd.Stencil.forward(1, 0), r"order must be a positive integer, got 0"),
        (
            lambda: nd.Stencil.backward(2, -1),
            r"order must be a positive integer, got -1",
        ),
        (
            lambda: nd.Stencil.forward(1, 2.0),
            r"order must be a positive integer, got 2\.0",
        ),
        (
            lambda: nd.Stencil.forward(1, True),
            r"order must be a positive integer, got True",
        ),
        (
            lambda: nd.Stencil.central(-1, 2),
            r"derivative order must be a non-negative integer, got -1",
        ),
        (
            lambda: nd.Stencil.forward(-2, 1),
            r"derivative order must be a non-negative integer, got -2",
        ),
        (
            lambda: nd.Stencil.central(1.0, 2),
            r"derivative order must be a non-negative integer, got 1\.0",
        ),
        (
            lambda: nd.Stencil.from_offsets((0, 1), -1),
            r"deriv must be a non-negative integer, got -1",
        ),
        (
            lambda: nd.Stencil.from_offsets((0, 1), 2),
            r"deriv=2 needs at least 3 offsets, got 2",
        ),
        (
            lambda: nd.Stencil.from_offsets((), 0),
            r"deriv=0 needs at least 1 offsets, got 0",
        ),
        (
            lambda: nd.Stencil.from_offsets((0, 1, 1), 1),
            r"offsets must be distinct, got \(0, 1, 1\)",
        ),
        (
            lambda: nd.Stencil.from_offsets((0, 0.5, Fraction(1, 2)), 1),
            r"offsets must be distinct",
        ),
        (
            lambda: nd.Stencil.of_kind("centered", 1, 2),
            r"kind must be 'central', 'forward' or 'backward', got 'centered'",
        ),
        (lambda: nd.Stencil.of_kind("custom", 1, 2), r"kind must be .* got 'custom'"),
    ],
)
def test_stencil_validation(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, [0, 1, 2], 3), r"m=3 needs at least 4 nodes, got 3"),
        ((0, [0.5], 1), r"m=1 needs at least 2 nodes, got 1"),
        ((0, [], 0), r"m=0 needs at least 1 nodes, got 0"),
        ((0, [0, 1], -1), r"m must be a non-negative integer, got -1"),
        ((0, [0, 1], 1.0), r"m must be a non-negative integer, got 1\.0"),
        ((0, [0, 1], True), r"m must be a non-negative integer, got True"),
        ((0, [0, 1, 1], 1), r"nodes must be distinct, got \[0\.0, 1\.0, 1\.0\]"),
        ((0.1, [0.3, -0.2, 0.3], 1), r"nodes must be distinct"),
        (
            (0, [0, np.nan, 1], 1),
            r"x0 and nodes must be finite, got x0=0, nodes=\[0\.0, nan, 1\.0\]",
        ),
        ((0, [0, np.inf, 1], 1), r"x0 and nodes must be finite"),
        ((np.nan, [0, 1, 2], 1), r"x0 and nodes must be finite, got x0=nan"),
        ((-np.inf, [0, 1, 2], 1), r"x0 and nodes must be finite"),
        (
            (0, [[0, 1], [2, 3]], 1),
            r"nodes must be one-dimensional, got shape \(2, 2\)",
        ),
        ((0, 1.0, 0), r"nodes must be one-dimensional, got shape \(\)"),
    ],
)
def test_fornberg_weights_validation(args, match):
    with pytest.raises(ValueError, match=match):
        nd.fornberg_weights(*args)
