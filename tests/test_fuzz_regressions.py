"""Deterministic regression tests of the defects the fuzz suite found.

Each test is the minimal input the fuzz suite (``tests/fuzz``) shrank to,
with the behaviour that is right written out.
"""

from __future__ import annotations

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
