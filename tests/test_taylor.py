"""Tests of numderiv.taylor: Taylor coefficients by Cauchy's integral."""

from __future__ import annotations

import cmath
import math

import numpy as np
import pytest

from numderiv._result import STATUS_MESSAGES
from numderiv._taylor import taylor

EPS = np.finfo(float).eps


def fact(n: int) -> np.ndarray:
    return np.array([float(math.factorial(k)) for k in range(n + 1)])


def exp_coeffs(x: float, n: int) -> np.ndarray:
    return np.exp(x) / fact(n)


def sin_coeffs(x: float, n: int) -> np.ndarray:
    cyc = [np.sin(x), np.cos(x), -np.sin(x), -np.cos(x)]
    return np.array([cyc[k % 4] for k in range(n + 1)]) / fact(n)


def pole_coeffs(x: complex, n: int) -> np.ndarray:
    """Coefficients of 1/(1 - z) at x: 1/(1 - x)**(k + 1)."""
    return 1.0 / (1.0 - x) ** (np.arange(n + 1) + 1)


def log_coeffs_at_1(n: int) -> np.ndarray:
    k = np.arange(n + 1)
    return np.where(k == 0, 0.0, (-1.0) ** (k + 1) / np.maximum(k, 1))


def pole(z):
    return 1.0 / (1.0 - z)


def check_honest(c, info, exact, rtol_digits):
    """|error| <= estimate everywhere, and the relative accuracy asked."""
    err = np.abs(c - exact)
    assert info.status == 0, info.message
    assert np.all(err <= info.error), (err, info.error)
    nz = exact != 0
    assert np.all(err[~nz] < 10.0**-rtol_digits)
    rel = err[nz] / np.abs(exact[nz])
    assert np.max(rel) < 10.0**-rtol_digits, rel


# -- accuracy against exact values -----------------------------------------


@pytest.mark.parametrize("x", [0.0, 1.0, -2.0, 5.0])
@pytest.mark.parametrize("n", [0, 1, 5, 12])
def test_exp(x, n):
    c, info = taylor(np.exp, x, n, full_output=True)
    assert c.shape == (n + 1,) and c.dtype == np.float64
    check_honest(c, info, exp_coeffs(x, n), 14)


@pytest.mark.parametrize("x", [0.0, 0.5, 2.0, -3.0])
def test_sin(x):
    n = 9
    c, info = taylor(np.sin, x, n, full_output=True)
    exact = sin_coeffs(x, n)
    err = np.abs(c - exact)
    assert info.status == 0
    assert np.all(err <= info.error)
    assert np.max(err) < 1e-14 * max(1, abs(x))


@pytest.mark.parametrize(("x", "digits"), [(0.0, 13), (0.5, 13), (-2.0, 13), (0.9, 12)])
def test_pole(x, digits):
    n = 8
    c, info = taylor(pole, x, n, full_output=True)
    check_honest(c, info, pole_coeffs(x, n), digits)


def test_radius_stays_inside_the_disk_near_a_pole():
    c, info = taylor(pole, 0.9, 6, full_output=True)
    assert np.all(info.step < 0.1)  # the pole is 0.1 away
    assert np.all(info.step > 0.01)  # and not needlessly small
    check_honest(c, info, pole_coeffs(0.9, 6), 12)


def test_log_at_1():
    n = 10
    c, info = taylor(np.log, 1.0, n, full_output=True)
    check_honest(c, info, log_coeffs_at_1(n), 12)
    assert np.all(info.step < 1.0)  # the branch point is at 0


@pytest.mark.parametrize("n", [20, 30])
def test_entire_function_high_order(n):
    c, info = taylor(np.exp, 0.0, n, full_output=True)
    exact = 1.0 / fact(n)
    rel = np.abs(c - exact) / exact
    assert np.all(np.abs(c - exact) <= info.error)
    assert np.max(rel) < 1e-13
    # high orders take large circles (the best radius for c_k is about k)
    assert info.step[-1] > 8 * info.step[0]


def test_array_x():
    x = np.array([[0.0, 0.5, -0.5], [1.5, -2.0, 0.25]])
    n = 6
    c, info = taylor(pole, x, n, full_output=True)
    assert c.shape == (n + 1, 2, 3)
    assert info.error.shape == info.step.shape == c.shape
    assert info.extra["circles"].shape == x.shape
    assert info.extra["status"].shape == c.shape
    exact = 1.0 / (1.0 - x[None]) ** (np.arange(n + 1)[:, None, None] + 1)
    assert np.all(np.abs(c - exact) <= info.error)
    # the same as element by element
    for idx in np.ndindex(x.shape):
        ci = taylor(pole, x[idx], n)
        np.testing.assert_allclose(c[(slice(None), *idx)], ci, rtol=1e-12)


def test_complex_x():
    x = 0.3 + 0.4j
    n = 7
    c, info = taylor(pole, x, n, full_output=True)
    assert c.dtype == np.complex128
    check_honest(c, info, pole_coeffs(x, n), 11)
    c2, info2 = taylor(np.exp, x, n, full_output=True)
    check_honest(c2, info2, np.exp(x) / fact(n), 14)


def test_complex_valued_f_on_real_x_stays_complex():
    x, n = 0.7, 5
    c, info = taylor(lambda z: np.exp(1j * z), x, n, full_output=True)
    assert c.dtype == np.complex128
    exact = np.exp(1j * x) * (1j) ** np.arange(n + 1) / fact(n)
    check_honest(c, info, exact, 14)


def test_derivatives_are_coefficients_times_factorial():
    x, n = 0.4, 6
    c, ic = taylor(np.sin, x, n, full_output=True)
    d, idd = taylor(np.sin, x, n, derivatives=True, full_output=True)
    np.testing.assert_array_equal(d, c * fact(n))
    np.testing.assert_array_equal(idd.error, ic.error * fact(n))
    exact = sin_coeffs(x, n) * fact(n)
    assert np.all(np.abs(d - exact) <= idd.error)
    assert idd.nfev == ic.nfev


def test_user_radius():
    n = 5
    c, info = taylor(pole, 0.0, n, radius=0.5, full_output=True)
    assert info.nfev == 32 and info.ncalls == 1  # one circle of 32 points
    assert np.all(info.step == 0.5)
    assert info.extra["circles"] == 1
    err = np.abs(c - 1.0)
    assert np.all(err <= info.error)
    # aliasing (0.5**32 relative) dominates: the estimate is within 1000x
    assert np.all(info.error <= 1000 * err)
    # per element, broadcast to x
    x = np.array([0.0, 0.5])
    c, info = taylor(pole, x, n, radius=[0.25, 0.125], full_output=True)
    assert info.nfev == 64 and info.ncalls == 1
    np.testing.assert_array_equal(info.step[0], [0.25, 0.125])
    exact = 1.0 / (1.0 - x) ** (np.arange(n + 1)[:, None] + 1)
    assert np.all(np.abs(c - exact) <= info.error)


def test_user_radius_too_large_is_flagged():
    # the circle encloses the pole: its positive coefficients are those of
    # the annulus, not the Taylor series; the tail shows it
    _c, info = taylor(pole, 0.0, 3, radius=1.5, full_output=True)
    assert info.status == -1
    assert np.all(np.isnan(taylor(pole, 0.0, 3, radius=1.5)))


# -- honesty and usefulness of the estimate ----------------------------------


@pytest.mark.parametrize(
    ("f", "exact"),
    [
        (
            lambda z: 1.0 / (1.0 + z**2),  # poles at +-i
            lambda x, n: (
                (
                    (
                        (1.0 / (-1j - x[None]) ** (np.arange(n + 1)[:, None] + 1))
                        - (1.0 / (1j - x[None]) ** (np.arange(n + 1)[:, None] + 1))
                    )
                    / 2j
                ).real
            ),
        ),
        (pole, lambda x, n: 1.0 / (1.0 - x[None]) ** (np.arange(n + 1)[:, None] + 1)),
        (
            np.log,
            lambda x, n: np.vstack(
                [np.log(x)[None]]
                + [(-1.0) ** (k + 1) / (k * x[None] ** k) for k in range(1, n + 1)]
            ),
        ),
    ],
)
@pytest.mark.parametrize("n", [3, 10])
def test_error_estimate_honest_and_useful(f, exact, n):
    rng = np.random.default_rng(12345)
    x = rng.uniform(0.05, 0.95, 40)
    c, info = taylor(f, x, n, full_output=True)
    ex = exact(x, n)
    err = np.abs(c - ex)
    assert info.status == 0
    assert np.all(err <= info.error)
    above = err > 4 * EPS * np.abs(ex)  # the error is above round-off
    assert above.sum() > 20
    ratio = info.error[above] / err[above]
    assert np.median(ratio) <= 1000


def test_exact_nfev():
    n = 5
    x = np.array([0.0, 0.25, 0.5])
    _c, info = taylor(np.exp, x, n, full_output=True)
    assert info.extra["points"] == 32
    assert info.nfev == 32 * int(info.extra["circles"].sum())
    # every circle is one call of f on all the elements still searching
    assert info.ncalls == int(info.extra["circles"].max())
    _c1, info1 = taylor(np.exp, 0.0, n, full_output=True)
    assert info1.nfev == 160  # 5 circles of 32 points
    # the points per circle grow with n: a power of 2, at least 4 (n + 1)
    assert taylor(np.exp, 0.0, 8, radius=1.0, full_output=True)[1].nfev == 64
    assert taylor(np.exp, 0.0, 30, radius=1.0, full_output=True)[1].nfev == 128


def test_not_vectorized_gives_the_same():
    calls = []

    def f(z):
        assert isinstance(z, complex)
        calls.append(z)
        return cmath.exp(z)

    c, info = taylor(f, 0.3, 4, vectorized=False, full_output=True)
    cv, infov = taylor(np.exp, 0.3, 4, full_output=True)
    np.testing.assert_allclose(c, cv, rtol=1e-15, atol=1e-17)
    assert info.nfev == infov.nfev == info.ncalls == len(calls)


def test_args_and_kwargs():
    c = taylor(
        lambda z, a, b=1.0: b * np.exp(a * z), 0.0, 4, args=(2.0,), kwargs={"b": 3.0}
    )
    np.testing.assert_allclose(c, 3.0 * 2.0 ** np.arange(5) / fact(4), rtol=1e-13)


# -- failures are said, not hidden -------------------------------------------


def test_nonfinite_on_every_circle_gives_nan():
    def f(z):  # defined on the real axis only
        return np.where(z.imag == 0, np.exp(z.real), np.nan)

    c, info = taylor(f, 0.5, 3, full_output=True)
    assert info.status == -3
    assert "non-finite" in info.message and "non-finite" in STATUS_MESSAGES[-3]
    assert np.all(np.isnan(c)) and np.all(np.isinf(info.error))
    assert np.all(np.isnan(taylor(f, 0.5, 3)))


def test_circle_through_a_pole_gives_nan():
    c, info = taylor(
        pole, np.array([0.0, 0.5]), 3, radius=[1.0, 0.25], full_output=True
    )
    assert info.status == -3
    assert np.all(np.isnan(c[:, 0]))
    np.testing.assert_array_equal(info.extra["status"][:, 0], -3)
    np.testing.assert_array_equal(info.extra["status"][:, 1], 0)
    assert np.all(np.abs(c[:, 1] - pole_coeffs(0.5, 3)) <= info.error[:, 1])


@pytest.mark.parametrize(
    ("f", "x"), [(pole, 1.0), (np.sqrt, 0.0), (lambda z: np.exp(1 / z), 0.0)]
)
def test_singularity_at_x_is_not_settled(f, x):
    _c, info = taylor(f, x, 3, full_output=True)
    assert info.status == -2
    assert np.any(info.extra["status"] == -2)
    bad = info.extra["status"] < 0
    assert np.all(np.isnan(taylor(f, x, 3)[bad]))


def test_noisy_f_is_honest():
    rng = np.random.default_rng(7)

    def f(z):
        return np.exp(z) * (1 + 1e-10 * rng.standard_normal(z.shape))

    for _ in range(5):
        c, info = taylor(f, 0.0, 5, full_output=True)
        err = np.abs(c - 1.0 / fact(5))
        assert np.all(err <= info.error)
        assert np.all(info.error < 1e-8)


def test_polynomial():
    c, info = taylor(lambda z: z**3 - 2 * z + 1, 1.0, 5, full_output=True)
    exact = np.array([0.0, 1.0, 3.0, 1.0, 0.0, 0.0])
    assert info.status == 0
    assert np.all(np.abs(c - exact) <= info.error)
    assert np.all(np.abs(c - exact) < 1e-13)


def test_constant_f_and_empty_x():
    c = taylor(lambda z: 2.0, 1.0, 2)
    np.testing.assert_allclose(c, [2.0, 0.0, 0.0], atol=1e-15)
    c, info = taylor(np.exp, np.zeros((0, 3)), 2, full_output=True)
    assert c.shape == (3, 0, 3) and info.nfev == 0


def test_f_raising_is_noted():
    def f(z):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom") as exc:
        taylor(f, 0.0, 2)
    notes = getattr(exc.value, "__notes__", None)
    if hasattr(exc.value, "add_note"):
        assert notes and "taylor" in notes[0]


def test_f_wrong_shape():
    with pytest.raises(
        ValueError, match=r"f returned shape \(3,\) for points of shape"
    ):
        taylor(lambda z: np.ones(3), 0.0, 2)
    with pytest.raises(ValueError, match="must return a scalar"):
        taylor(lambda z: np.ones(3), 0.0, 2, vectorized=False)
    with pytest.raises(TypeError, match="f must return numbers"):
        taylor(lambda z: "a", 0.0, 2)


# -- input validation -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "exc", "match"),
    [
        ({"n": -1}, ValueError, "n must be between 0 and 100.*n=-1"),
        ({"n": 101}, ValueError, "n=101"),
        ({"n": True}, TypeError, "n must be an integer, got n=True"),
        ({"n": 2.0}, TypeError, "n must be an integer, got n=2.0"),
        ({"x": "a"}, TypeError, "x must be array_like of real or complex numbers"),
        ({"x": [0.0, np.nan]}, ValueError, "x must be finite, got nan"),
        ({"f": 3}, TypeError, "f must be callable, got 3"),
        (
            {"radius": 0.0},
            ValueError,
            "radius must be positive and finite, got radius=0.0",
        ),
        ({"radius": -1}, ValueError, "radius=-1"),
        (
            {"radius": [1.0, 2.0, 3.0]},
            ValueError,
            r"broadcast to the shape of x \(2,\)",
        ),
        ({"radius": "big"}, TypeError, "radius must be None or a positive number"),
        ({"derivatives": 1}, TypeError, "derivatives must be True or False, got 1"),
        ({"vectorized": None}, TypeError, "vectorized must be True or False"),
        ({"full_output": "yes"}, TypeError, "full_output must be True or False"),
        ({"args": [1]}, TypeError, r"args must be a tuple, got \[1\]"),
        ({"kwargs": 1}, TypeError, "kwargs must be a dict or None, got 1"),
    ],
)
def test_validation(kw, exc, match):
    call = {"f": np.exp, "x": [0.0, 1.0], "n": 2, **kw}
    f, x, n = call.pop("f"), call.pop("x"), call.pop("n")
    with pytest.raises(exc, match=match):
        taylor(f, x, n, **call)
