"""Succeed or say so: the fixed methods' results are within their error or flagged.

Every number is either within its stated error, or flagged: ``info.status
< 0`` with ``full_output``, NaN without.  The cases: steps outside the
asymptotic range (``sin`` at huge ``x``, the complex step across a branch
cut), domain edges inside the step (``log`` and ``sqrt`` near 0), and the
complex step's own fixes (its step, a user's tiny step, a complex-valued
``f``).  Then honesty both ways on smooth problems: never below the true
error, and not absurdly above it.  Exact derivatives are written out.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der, rosen_hess, rosen_hess_prod

import numderiv as nd
from numderiv import testing
from numderiv._result import STATUS_MESSAGES

EPS = float(np.finfo(np.float64).eps)
OUT_OF_RANGE = STATUS_MESSAGES[-1]


def _counted(f):
    """``f`` that records the number of points of each call."""
    calls: list[int] = []

    def g(t, *args):
        calls.append(int(np.size(t)))
        return f(t, *args)

    return g, calls


# ---------------------------------------------------------------------------
# 1. the consistency check: steps that do not fit f are flagged (status -1)


@pytest.mark.parametrize(
    ("x", "step"),
    [(1e10, 32768.0), (1e8, 512.0)],
)
def test_sin_at_huge_x_is_flagged(x, step):
    # the default step 2^-18 |x| spans thousands of periods: D(h) and D(h/2)
    # are unrelated numbers of the size 1/h, far from cos(x)
    d, info = nd.derivative(np.sin, x, full_output=True)
    assert info.step == step
    assert abs(d - math.cos(x)) > info.error  # the estimate does not cover it...
    assert info.status == -1  # ...and says so
    assert info.message == OUT_OF_RANGE
    assert "asymptotic range" in info.message
    assert info.nfev == 4


def test_log_at_tiny_x_forward_is_flagged():
    # forward steps stay inside the domain: no edge, but h = 1.5e-8 is 15000
    # times the scale of log at 1e-12
    d, info = nd.derivative(np.log, 1e-12, method="forward", full_output=True)
    assert abs(d - 1e12) > 0.3 * 1e12
    assert info.status == -1


@pytest.mark.parametrize(
    ("f", "x"),
    [(np.log, -1.0), (np.sqrt, -1.0), (np.log, 0.0)],
    ids=["log(-1)", "sqrt(-1)", "log(0)"],
)
def test_complex_step_at_branch_cut_is_flagged(f, x):
    # Im log(-1 + ih) / h = (pi - h) / h, Im sqrt(-1 + ih) / h ~ 1 / h,
    # Im log(ih) / h = pi / (2 h): D(h/2) is twice D(h)
    d, info = nd.derivative(f, x, method="complex", full_output=True)
    assert abs(d) > 1e20
    assert info.status == -1 and info.message == OUT_OF_RANGE
    assert info.nfev == 3  # f(x) (checked real: NaN or -inf is real), x + ih, x + ih/2


def test_gradient_jacobian_hessian_with_a_component_out_of_range():
    def f(x):
        return np.sin(x[0]) + x[1] ** 2

    g, info = nd.gradient(f, [1e10, 1.0], full_output=True)
    assert info.status == -1
    assert abs(g[1] - 2.0) <= info.error[1]  # the other entry is fine
    J, info = nd.jacobian(
        lambda x: np.array([np.sin(x[0]), x[1] ** 2]), [1e8, 1.0], full_output=True
    )
    assert info.status == -1
    assert abs(J[1, 1] - 2.0) <= info.error[1, 1]
    H, info = nd.hessian(f, [1e8, 1.0], full_output=True)
    assert info.status == -1
    assert abs(H[1, 1] - 2.0) <= info.error[1, 1]
    _jv, info = nd.jvp(f, [1e10, 1.0], [1.0, 0.0], full_output=True)
    assert info.status == -1
    # the complex step across a branch cut, in a gradient: log(-1 + 0j) = i pi
    # enters every direction's imaginary part
    g, info = nd.gradient(
        lambda x: np.log(x[0]) + x[1] ** 2,
        [-1.0, 1.0],
        method="complex",
        full_output=True,
    )
    assert info.status == -1


def test_flag_needs_full_output_except_at_edges():
    # without full_output the fixed stencils compute no half step: documented
    # (docs/functions.md); nothing is checked and nothing is spent on it
    f, calls = _counted(np.sin)
    d = nd.derivative(f, 1e10)
    assert np.isfinite(d) and sum(calls) == 2


# the check must not fire on smooth problems: every method, order and
# derivative order, at many points of each domain
METHOD_ORDERS = (
    [("central", p) for p in (2, 4, 6, 8)]
    + [("forward", p) for p in (1, 2, 3, 4)]
    + [("backward", p) for p in (1, 2, 3, 4)]
    + [("complex", p) for p in (2, 4, 6)]
)


@pytest.mark.parametrize("fun", testing.UNIVARIATE, ids=lambda u: u.name)
@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize(("method", "order"), METHOD_ORDERS)
def test_smooth_functions_never_flagged_and_honest(fun, n, method, order):
    x = np.linspace(*fun.domain, 41)
    d, info = nd.derivative(fun.f, x, n=n, method=method, order=order, full_output=True)
    exact = fun.d(x, n)
    assert info.status == 0, info.message
    err = np.abs(d - exact)
    assert np.all(err <= info.error)
    # useful: within about 1000 times the true error where that is above
    # round-off (eps |f| / h^n; eps |f'| for the complex step's f')
    if method == "complex" and n == 1:
        roundoff = EPS * np.abs(fun.d(x, 1))
    else:
        roundoff = EPS * np.abs(fun.f(x)) / info.step**n
    above = err > 10 * roundoff
    if np.count_nonzero(above) >= 3:
        ratio = np.median(info.error[above] / err[above])
        assert 1.0 <= ratio <= 1000.0


def test_vanishing_derivatives_are_not_flagged():
    # where f^(m)(x) = 0, D(h) is its own truncation error and
    # D(h/2) = 2^-p D(h): they disagree by half of D, yet the model holds
    d, info = nd.derivative(np.sin, 0.0, n=2, method="forward", full_output=True)
    assert info.status == 0 and abs(d) <= info.error
    d, info = nd.derivative(lambda t: t**5, 0.0, full_output=True)  # D = h^4
    assert info.status == 0 and abs(d) <= info.error
    x = np.ones(4)  # Rosenbrock's minimum: gradient 0
    for method, order in METHOD_ORDERS:
        g, info = nd.gradient(rosen, x, method=method, order=order, full_output=True)
        assert info.status == 0, (method, order)
        assert np.all(np.abs(g) <= info.error)
        jv, info = nd.jvp(
            rosen, x, [1.0, 2.0, 3.0, 4.0], method=method, order=order, full_output=True
        )
        assert info.status == 0, (method, order)
        assert np.all(np.abs(jv) <= info.error)


ROSEN_POINTS = [
    np.array([0.5, 1.5, -0.3, 1.2]),
    np.array([-1.2, 1.0, 0.3, 2.0]),
    np.ones(4),
]


@pytest.mark.parametrize(("method", "order"), METHOD_ORDERS)
def test_rosenbrock_not_flagged_and_honest(method, order):
    v = np.array([1.0, 2.0, 3.0, 4.0])
    for x in ROSEN_POINTS:
        g, i1 = nd.gradient(rosen, x, method=method, order=order, full_output=True)
        H, i2 = nd.hessian(rosen, x, method=method, order=order, full_output=True)
        hv, i3 = nd.hvp(rosen, x, v, method=method, order=order, full_output=True)
        assert (i1.status, i2.status, i3.status) == (0, 0, 0)
        assert np.all(np.abs(g - rosen_der(x)) <= i1.error)
        assert np.all(np.abs(H - rosen_hess(x)) <= i2.error)
        assert np.all(np.abs(hv - rosen_hess_prod(x, v)) <= i3.error)


def test_hvp_rosenbrock_minimum_central_8_honest():
    # the rounding of the points x + t u through the slope along u: f = 0 at
    # the minimum, so only that term bounds the round-off of the pair values
    x, v = np.ones(4), np.array([1.0, 2.0, 3.0, 4.0])
    hv, info = nd.hvp(rosen, x, v, order=8, full_output=True)
    assert np.all(np.abs(hv - rosen_hess_prod(x, v)) <= info.error)


@pytest.mark.parametrize(("method", "order"), METHOD_ORDERS)
def test_scilab_example_not_flagged_and_honest(method, order):
    for x in ([1.0, 2.0, 3.0], [0.3, -0.7, 0.2], [0.0, 0.0, 0.0]):
        x = np.array(x)
        J, i1 = nd.jacobian(
            testing.scilab_example, x, method=method, order=order, full_output=True
        )
        H, i2 = nd.hessian(
            testing.scilab_example, x, method=method, order=order, full_output=True
        )
        assert (i1.status, i2.status) == (0, 0)
        assert np.all(np.abs(J - testing.scilab_example_jacobian(x)) <= i1.error)
        assert np.all(np.abs(H - testing.scilab_example_hessian(x)) <= i2.error)


# ---------------------------------------------------------------------------
# 2. domain edges: the fallback shrinks its step until the stencil fits


def test_log_near_zero_shrinks_the_step():
    # before: forward with h = 3.8e-6 straddling the edge gave 5.4e5 (exact
    # 1e6), estimate 4.4e5, status 1 -- and nothing flagged without info
    f, calls = _counted(np.log)
    d, info = nd.derivative(f, 1e-6, full_output=True)
    assert abs(d - 1e6) <= info.error <= 1e-7 * 1e6
    # f is finite on both sides again at h / 8^5 = 1.2e-10: central, no note
    assert info.status == 0
    assert info.step == 2.0**-18 / 8**5
    # central at h and h/2 (4); forward at h with its half step: f(x), x + h,
    # x + 2h, x + h/2 (4); then central and its half step at h/8, ..., h/8^5
    assert info.nfev == sum(calls) == 4 + 4 + 5 * 4
    f, calls = _counted(np.log)
    d0 = nd.derivative(f, 1e-6)
    assert d0 == d  # the same steps without full_output: the half steps it needs
    assert sum(calls) == 2 + 4 + 5 * 4


def test_sqrt_and_log_at_tiny_x():
    d, info = nd.derivative(np.sqrt, 1e-7, full_output=True)
    exact = 0.5 / math.sqrt(1e-7)
    assert abs(d - exact) <= info.error <= 1e-8 * exact
    assert info.status == 0 and info.nfev == 35
    d, info = nd.derivative(np.log, 1e-12, full_output=True)
    assert abs(d - 1e12) <= info.error <= 1e-8 * 1e12
    assert info.status == 0
    assert nd.derivative(np.log, 1e-12) == d


def test_gradient_at_domain_edges():
    def f(x):
        return np.log(x[0]) + np.sqrt(x[1])

    exact = np.array([1e6, 0.5 / math.sqrt(1e-7)])
    g, info = nd.gradient(f, [1e-6, 1e-7], full_output=True)
    assert np.all(np.abs(g - exact) <= info.error)
    assert np.all(info.error <= 1e-6 * exact)
    assert info.status == 0
    assert np.all(info.step < 1e-9)  # the steps taken, reported
    assert np.array_equal(nd.gradient(f, [1e-6, 1e-7]), g)
    # a vectorized f takes the same path
    gv = nd.gradient(
        lambda X: np.log(X[0]) + np.sqrt(X[1]), [1e-6, 1e-7], vectorized=True
    )
    assert np.allclose(gv, exact, rtol=1e-6)


def test_one_sided_fallback_keeps_its_note():
    # exactly at the edge: no smaller step makes both sides finite
    def edge(t):
        return np.where(t <= 1.0, np.exp(t), np.nan)

    f, calls = _counted(edge)
    d, info = nd.derivative(f, 1.0, full_output=True)
    assert info.status == 1 and "one-sided" in info.message
    assert abs(d - math.e) <= info.error < 1e-7
    # central at h and h/2 (4), then backward order 2 and its half step:
    # f(x), x - h, x - 2h, x - h/2 (4); it fits at once
    assert info.nfev == sum(calls) == 8
    J, info = nd.jacobian(
        lambda t: np.array([edge(t[0]) + t[1] ** 2]), [1.0, 3.0], full_output=True
    )
    assert info.status == 1
    assert np.all(np.abs(J - [[math.e, 6.0]]) <= info.error)


def test_edge_that_never_fits_is_nan_or_flagged():
    # log at 1e-300: sixteen tries shrink the step 3.5e13 times, not enough
    d = nd.derivative(np.log, 1e-300)
    assert np.isnan(d)
    d, info = nd.derivative(np.log, 1e-300, full_output=True)
    assert info.status == -1 and info.message == OUT_OF_RANGE
    assert abs(d - 1e300) > info.error
    g = nd.gradient(lambda x: np.log(x[0]) + x[1], [1e-300, 1.0])
    assert np.isnan(g[0]) and g[1] == pytest.approx(1.0)
    # log at 0: f(x) = -inf, no step helps, and the search stops at once
    f, calls = _counted(np.log)
    d, info = nd.derivative(f, 0.0, full_output=True)
    assert np.isnan(d) and info.status == -3
    assert info.nfev == sum(calls) == 8


def test_one_sided_at_a_bound_keeps_its_step_and_is_checked():
    # a bound at 0 makes the stencil forward with the same step (as SciPy's
    # approx_derivative does); f is finite there, so nothing falls back, and
    # log's scale 1e-6 is below the step: the check flags it
    d, info = nd.derivative(np.log, 1e-6, bounds=(0.0, 2.0), full_output=True)
    assert abs(d - 1e6) > info.error
    assert info.status == -1
    # a step that fits, asked for: forward order 2 at h = 1e-9
    d, info = nd.derivative(
        np.log, 1e-6, bounds=(0.0, 2.0), abs_step=2.0**-30, full_output=True
    )
    assert abs(d - 1e6) <= info.error <= 1e-5 * 1e6 and info.status == 0


# ---------------------------------------------------------------------------
# 4. the complex step


def test_complex_step_does_not_scale_with_x():
    # before: h = 1.5e-8 |x| = 149 at 1e10, sinh(149) off by 1e53
    d, info = nd.derivative(np.sin, 1e10, method="complex", full_output=True)
    assert abs(d - math.cos(1e10)) <= info.error <= 1e-13
    assert info.status == 0
    assert info.step == 2.0**-78  # eps^(3/2), absolute, whatever x
    for f, x, exact in [
        (np.log, 1e-12, 1e12),  # truncation (h/x)^2/3 ~ 4e-24 relative
        (np.exp, 1.0, math.e),
        (np.exp, 0.0, 1.0),
        (np.sin, 0.0, 1.0),
        (np.cos, 0.0, 0.0),
    ]:
        d, info = nd.derivative(f, x, method="complex", full_output=True)
        assert abs(d - exact) <= info.error <= 1e-13 * max(abs(exact), 1.0)
        assert info.status == 0 and info.step == 2.0**-78


def test_complex_step_of_gradient_and_jvp_at_large_x():
    x = np.array([1e10, -3e9, 2.0])

    def f(z):
        return np.sin(z[0]) + np.cos(z[1]) * z[2]

    g, info = nd.gradient(f, x, method="complex", full_output=True)
    exact = np.array([math.cos(1e10), -math.sin(-3e9) * 2.0, math.cos(-3e9)])
    assert np.all(np.abs(g - exact) <= info.error)
    assert np.all(info.error <= 1e-13) and info.status == 0
    v = np.array([1.0, 2.0, -1.0])
    jv, info = nd.jvp(f, x, v, method="complex", full_output=True)
    assert abs(jv[0] - exact @ v) <= info.error[0] <= 1e-13


def test_complex_step_float32():
    x = np.float32(2.0)
    d, info = nd.derivative(np.exp, x, method="complex", full_output=True)
    assert d.dtype == np.float32
    assert info.step == np.float32(2.0**-34)
    assert abs(float(d) - math.exp(2.0)) <= info.error


def test_complex_higher_derivatives_keep_a_balanced_real_step():
    # deriv >= 2: a real stencil beside the imaginary offset; its step
    # balances truncation with round-off and scales with max(1, |x|)
    _, i1 = nd.derivative(np.exp, 1.0, n=2, method="complex", full_output=True)
    _, i2 = nd.derivative(np.exp, 1e3, n=2, method="complex", full_output=True)
    assert i1.step > 1e-6 and i2.step == pytest.approx(1024 * i1.step, rel=0.5)
    d, info = nd.derivative(np.sin, 0.5, n=2, method="complex", full_output=True)
    assert abs(d + math.sin(0.5)) <= info.error < 1e-7 and info.status == 0


def test_complex_step_honours_tiny_user_steps():
    # before: abs_step=1e-20 was replaced by the default, because (x + h) - x
    # is 0 -- a rounding test meant for real offsets
    for kw in ({"abs_step": 1e-20}, {"abs_step": 1e-200}, {"rel_step": 1e-30}):
        d, info = nd.derivative(np.exp, 1.0, method="complex", full_output=True, **kw)
        h = next(iter(kw.values()))
        assert info.step == h
        assert abs(d - math.e) <= info.error <= 1e-13
    J, info = nd.jacobian(
        testing.scilab_example,
        [1.0, 2.0, 3.0],
        method="complex",
        abs_step=1e-20,
        full_output=True,
    )
    assert np.all(info.step == 1e-20)
    exact = testing.scilab_example_jacobian([1.0, 2.0, 3.0])
    assert np.all(np.abs(J - exact) <= info.error)
    # a large user step is honoured too, and its truncation estimated
    d, info = nd.derivative(
        np.exp, 1.0, method="complex", abs_step=0.1, full_output=True
    )
    assert info.step == 0.1
    assert 1e-5 < abs(d - math.e) <= info.error


def test_complex_valued_f_is_refused():
    # before: (i t^2)' at 1.5 came out as 75497472 with status 0
    with pytest.raises(TypeError, match=r"real-valued for real x.*2\.25j"):
        nd.derivative(lambda t: 1j * t**2, 1.5, method="complex")
    with pytest.raises(TypeError, match="method='central'"):
        nd.derivative(lambda t: 1j * t**2, 1.5, method="complex", full_output=True)
    with pytest.raises(TypeError, match="real-valued"):
        nd.gradient(lambda x: x[0] ** 2 + 1j * x[1], [1.0, 2.0], method="complex")
    with pytest.raises(TypeError, match="real-valued"):
        nd.jacobian(lambda x: np.array([x[0], 1j * x[1]]), [1.0, 2.0], method="complex")
    with pytest.raises(TypeError, match="real-valued"):
        nd.hessian(lambda x: (1 + 1j) * x[0] ** 2, [1.0], method="complex")
    # with the user's f0 the check costs nothing: it fails before any call
    f, calls = _counted(lambda t: 1j * t**2)
    with pytest.raises(TypeError, match="real-valued"):
        nd.derivative(f, 1.5, method="complex", f0=2.25j)
    assert calls == []
    # complex values with a zero imaginary part at x are real enough
    d = nd.derivative(lambda t: (t + 0j) ** 2, 1.5, method="complex")
    assert d == pytest.approx(3.0, rel=1e-15)


def test_complex_step_nfev_counts_the_realness_check():
    x = np.linspace(0.0, 1.0, 5)
    f, calls = _counted(np.exp)
    _d, info = nd.derivative(f, x, method="complex", full_output=True)
    # f(x), f(x + ih), f(x + ih/2): one call each on the whole array
    assert calls == [5, 5, 5] and info.nfev == 15 and info.ncalls == 3
    f, calls = _counted(np.exp)
    nd.derivative(f, x, method="complex")
    assert calls == [5, 5]
    f, calls = _counted(np.exp)
    nd.derivative(f, x, method="complex", f0=np.exp(x))  # f0 given: no check call
    assert calls == [5]
    # a Jacobian: n points, and f(x) once
    f, calls = _counted(testing.scilab_example)
    _, info = nd.jacobian(f, [1.0, 2.0, 3.0], method="complex", full_output=True)
    assert info.nfev == len(calls) == 1 + 3 + 3


# ---------------------------------------------------------------------------
# 3. without full_output, what is known to be untrustworthy is NaN


def test_untrustworthy_entries_are_nan_without_info():
    x = np.array([1e-300, 1e-6, 2.0])
    d = nd.derivative(np.log, x)
    assert np.isnan(d[0])
    assert d[1:] == pytest.approx(1 / x[1:], rel=1e-8)
    d, info = nd.derivative(np.log, x, full_output=True)
    assert info.status == -1 and np.all(np.isfinite(d))
    assert np.all(np.abs(d[1:] - 1 / x[1:]) <= info.error[1:])
