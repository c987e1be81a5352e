"""check_derivative: never "agrees" when nothing was compared; no false alarms."""

from __future__ import annotations

import numpy as np
import pytest

import numderiv as nd


def _log_plus(x):
    with np.errstate(invalid="ignore"):
        return np.log(x[0]) + x[1]


@pytest.mark.parametrize("method", ["complex_if_possible", "central", "forward"])
def test_outside_the_domain_is_not_ok(method):
    # log at a negative x: the numerical derivative is NaN (or, by the
    # complex step, garbage that vouches for nothing).
    x = np.array([-1.0, 1.0])
    r = nd.check_derivative(
        _log_plus, lambda t: np.array([1 / t[0], 1.0]), x, method=method
    )
    assert not r.ok
    assert "numerical derivative could not be computed" in r.reason
    assert "outside its domain" in str(r)
    assert np.isnan(r.max_rel_error)


@pytest.mark.parametrize("method", ["complex_if_possible", "central"])
def test_nan_reference_is_not_ok(method):
    x = np.array([1.0, 2.0])

    def f(t):
        return np.sum(t**2)

    r = nd.check_derivative(f, lambda t: np.array([np.nan, 2 * t[1]]), x, method=method)
    assert not r.ok
    assert r.suspects == [(0, 0)]
    assert "analytic derivative is not finite" in r.reason
    # both sides NaN: still nothing compared
    r = nd.check_derivative(
        _log_plus,
        lambda t: np.array([np.nan, 1.0]),
        np.array([-1.0, 1.0]),
        method="central",
    )
    assert not r.ok
    assert (0, 0) in r.suspects
    r = nd.check_derivative(f, lambda t: np.array([np.inf, 2 * t[1]]), x)
    assert not r.ok


@pytest.mark.parametrize("scale", [1e-300, 1e-305, 1e-310, 1e-315, 1e-320])
@pytest.mark.parametrize("method", ["complex_if_possible", "central"])
def test_subnormal_entries_do_not_false_alarm(scale, method):
    x = np.array([0.5, 1.5])

    def f(t):
        return np.array([scale * t[0] ** 2, t[1] ** 2])

    def jac(t):
        return np.array([[2 * scale * t[0], 0.0], [0.0, 2 * t[1]]])

    r = nd.check_derivative(f, jac, x, method=method)
    assert r.ok, str(r)
    assert r.reason == ""


def test_tiny_floor_still_catches_wrong_tiny_entries():
    # the floor is tiny / h, not a blanket pass for small numbers
    x = np.array([0.5])
    r = nd.check_derivative(
        lambda t: 1e-280 * t**2, lambda t: np.array([3e-280 * t[0]]), x
    )
    assert not r.ok
    assert "differ by more than the tolerance" in r.reason
    assert "DISAGREES" in str(r)
