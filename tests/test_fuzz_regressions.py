"""Deterministic regression tests of the defects the fuzz suite found.

Each test is the minimal input the fuzz suite (``tests/fuzz``) shrank to,
with the behaviour that is right written out.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import numderiv as nd


def _quadratic(x):
    """``sum sin x + (sum x)^2 / 2``: Hessian ``diag(-sin x) + 1``."""
    x = np.asarray(x)
    return np.sum(np.sin(x), axis=0) + 0.5 * np.sum(x, axis=0) ** 2


def test_hessian_with_directions_is_exactly_symmetric():
    # Q H_Q Q^T is symmetric only up to rounding; the fuzz suite found
    # H != H.T at x = 0 with a rotation in the last two coordinates
    c, s = 0.9486832980505138, 0.31622776601683794
    Q = np.array([[1.0, 0.0, 0.0], [0.0, -c, -s], [0.0, -s, c]])
    x = np.zeros(3)
    H, info = nd.hessian(_quadratic, x, directions=Q, full_output=True)
    assert np.array_equal(H, H.T)
    assert np.array_equal(info.error, info.error.T)
    exact = np.diag(-np.sin(x)) + 1.0
    assert np.all(np.abs(H - exact) <= info.error + 1e-12)


@pytest.mark.parametrize("fn", [nd.jvp, nd.hvp])
def test_v_beyond_the_range_of_float32_x_is_refused(fn):
    # J v in float32 for v = 1e200 overflowed with a RuntimeWarning
    x = np.zeros(2, dtype=np.float32)
    with pytest.raises(
        ValueError, match=r"v must be within the range of float32.*1e\+200"
    ):
        fn(_quadratic, x, np.array([0.0, 1e200]))


def test_large_v_within_range_keeps_float32():
    x = np.zeros(2, dtype=np.float32)
    v = np.array([0.0, 1e30])
    jv = nd.jvp(_quadratic, x, v)
    assert jv.dtype == np.float32
    # the gradient at 0 is cos(0) + 0 = 1 per component: J v = 1e30
    assert np.allclose(jv, [1e30], rtol=1e-3)


def test_huge_v_with_float64_x_still_works():
    x = np.zeros(2)
    jv = nd.jvp(_quadratic, x, np.array([0.0, 1e200]))
    assert np.allclose(jv, [1e200], rtol=1e-6)


def test_derivative_of_empty_complex_x_has_a_real_error():
    x = np.array([], dtype=complex)
    d, info = nd.derivative(np.exp, x, full_output=True)
    assert d.dtype == np.complex128 and d.shape == (0,)
    # as for a non-empty complex x: the error and the step are real
    assert info.error.dtype == np.float64 and info.step.dtype == np.float64
    _, info1 = nd.derivative(np.exp, np.array([1.0 + 1.0j]), full_output=True)
    assert info1.error.dtype == info.error.dtype


def test_taylor_refuses_a_bad_radius_for_an_empty_x_too():
    # the radius was checked on its broadcast to x's shape: empty for an
    # empty x, so radius=-1 went through
    with pytest.raises(ValueError, match=r"radius must be positive and finite.*-1\.0"):
        nd.taylor(np.exp, np.empty(0), 0, radius=-1.0)
    with pytest.raises(ValueError, match=r"radius must be positive and finite.*nan"):
        nd.taylor(np.exp, np.empty((2, 0)), 3, radius=np.nan)
    c = nd.taylor(np.exp, np.empty(0), 2, radius=0.5)
    assert c.shape == (3, 0)


def test_value_whose_check_step_failed_is_flagged():
    # f is NaN only at the points of the check step (h/2): the value is
    # right, its error unknown: status -1, not 0 with a NaN error
    def f(v):
        return np.nan if 0 < abs(v[0]) < 3e-6 else float(v[0] ** 2 + v[0])

    g, info = nd.gradient(f, [0.0], full_output=True)
    assert g[0] == pytest.approx(1.0)
    assert info.status == -1


def test_tiny_direction_component_with_bounds_warns_nothing():
    # room / u_i overflowed for a component far below the largest
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hv = nd.hvp(
            lambda v: float(np.sum(v**2)),
            np.zeros(3),
            [0.0, 1.0, 2.2e-308],
            bounds=(np.zeros(3), np.full(3, 0.1)),
        )
    np.testing.assert_allclose(hv, [0.0, 2.0, 0.0], atol=1e-6)


@pytest.mark.parametrize("method", ["savgol", "spectral"])
def test_smooth_derivative_one_coordinate_is_named(method):
    with pytest.raises(ValueError, match="needs at least 2 coordinates in x"):
        nd.grid.smooth_derivative(np.zeros(1), np.zeros(1), method=method)


@pytest.mark.parametrize("method", ["2-point", "3-point", "cs"])
def test_compat_scipy_empty_x0_and_subnormal_step_as_scipy(method):
    from scipy.optimize._numdiff import approx_derivative as scipy_ad

    from numderiv.compat.scipy import approx_derivative

    for f in (lambda x: x, lambda x: np.sum(x), lambda x: np.array([1.0, 2.0])):
        ours = approx_derivative(f, np.array([]), method=method)
        theirs = scipy_ad(f, np.array([]), method=method)
        assert ours.shape == theirs.shape
    # a subnormal x0 with rel_step: the step has no finite reciprocal
    x0 = np.array([2.2e-311])
    ours = approx_derivative(lambda x: 0.5 * x, x0, method=method, rel_step=3e-4)
    theirs = scipy_ad(lambda x: 0.5 * x, x0, method=method, rel_step=3e-4)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_compat_scipy_f0_of_the_wrong_size_is_named():
    from numderiv.compat.scipy import approx_derivative

    def fv(x):
        return np.array([np.sum(x**2), np.sum(np.sin(x))])

    x0 = np.array([0.0, 1.0])
    with pytest.raises(
        ValueError, match=r"f0 has shape \(5,\), but f returned shape \(2,\)"
    ):
        approx_derivative(fv, x0, f0=np.ones(5))
    op = approx_derivative(fv, x0, f0=np.ones(3), as_linear_operator=True)
    with pytest.raises(ValueError, match=r"f0 has shape \(3,\)"):
        op.matvec(np.ones(2))
    # the right f0 is taken as given
    J = approx_derivative(fv, x0, f0=fv(x0))
    np.testing.assert_allclose(J, [[0.0, 2.0], [1.0, np.cos(1.0)]], atol=1e-7)


@pytest.mark.parametrize("rel_step", [2.0**-23, 1.19e-7, None])
def test_complex_step_hvp_estimate_covers_at_power_of_two_steps(rel_step):
    # with a step of 2^-23 the check at h/2 rounded exactly as at h (the
    # complex step's values are homogeneous in h), and the estimate (6e-11)
    # missed the error (4e-10); the check step is 3h/4 for the complex step
    def f(x):
        x = np.asarray(x)
        return np.sum(np.sin(x), axis=0) + 0.5 * np.sum(x, axis=0) ** 2

    x = np.array([0.0, -1.0, 0.0])
    v = np.array([0.0, 0.0, 1.0])
    H = np.ones((3, 3)) - np.diag(np.sin(x))
    hv, info = nd.hvp(f, x, v, method="complex", rel_step=rel_step, full_output=True)
    assert info.status >= 0
    assert np.all(np.abs(hv - H @ v) <= info.error)
