"""Derivatives of callables: accuracy, honesty, nfev, options and bad input."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der, rosen_hess, rosen_hess_prod

import numderiv as nd
from numderiv import testing

METHOD_ORDERS = [
    ("central", 2),
    ("central", 4),
    ("central", 6),
    ("central", 8),
    ("forward", 1),
    ("forward", 2),
    ("forward", 4),
    ("backward", 1),
    ("backward", 3),
    ("complex", 2),
    ("complex", 4),
]

# correct digits (relative) expected of default steps, per method and order
MIN_DIGITS_D1 = {
    ("central", 2): 8.5,
    ("central", 4): 10,
    ("central", 6): 10,
    ("central", 8): 10,
    ("forward", 1): 6.5,
    ("forward", 2): 8,
    ("forward", 4): 9.5,
    ("backward", 1): 6.5,
    ("backward", 3): 9,
    ("complex", 2): 13.5,
    ("complex", 4): 13.5,
}


def digits(approx: np.ndarray, exact: np.ndarray) -> float:
    err = np.max(np.abs(np.asarray(approx) - exact))
    scale = np.max(np.abs(exact))
    return float(-np.log10(max(err / scale, 1e-17)))


# ---------------------------------------------------------------------------
# accuracy tables and honest errors


@pytest.mark.parametrize("fun", testing.UNIVARIATE, ids=lambda u: u.name)
@pytest.mark.parametrize(("method", "order"), METHOD_ORDERS)
def test_derivative_accuracy_table(fun, method, order):
    x = np.linspace(*fun.domain, 7)
    d, info = nd.derivative(fun.f, x, method=method, order=order, full_output=True)
    exact = fun.d(x, 1)
    assert digits(d, exact) >= MIN_DIGITS_D1[method, order] - 0.5 * (fun.name == "exp")
    assert np.all(np.abs(d - exact) <= info.error)
    assert info.status == 0


@pytest.mark.parametrize("fun", testing.UNIVARIATE, ids=lambda u: u.name)
@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize(
    ("method", "order", "min_digits"),
    [
        ("central", 2, 3.5),
        ("central", 4, 5),
        ("central", 8, 6),
        ("forward", 2, 2.5),
        ("complex", 2, 4),
    ],
)
def test_higher_derivative_accuracy(fun, n, method, order, min_digits):
    x = np.linspace(*fun.domain, 5)
    d, info = nd.derivative(fun.f, x, n=n, method=method, order=order, full_output=True)
    exact = fun.d(x, n)
    assert digits(d, exact) >= min_digits - (n - 2)
    assert np.all(np.abs(d - exact) <= info.error)


@pytest.mark.parametrize(("method", "order"), METHOD_ORDERS)
def test_scilab_example_jacobian(method, order):
    x = np.array([1.0, 2.0, 3.0])
    J, info = nd.jacobian(
        testing.scilab_example, x, method=method, order=order, full_output=True
    )
    exact = testing.scilab_example_jacobian(x)
    assert J.shape == (2, 3)
    assert digits(J, exact) >= MIN_DIGITS_D1[method, order] - 3
    assert np.all(np.abs(J - exact) <= info.error)


@pytest.mark.parametrize(
    ("method", "order", "min_digits"),
    [
        ("central", 2, 6),
        ("central", 4, 7),
        ("forward", 1, 3.5),
        ("backward", 2, 5),
        ("complex", 2, 7),
    ],
)
def test_scilab_example_hessian(method, order, min_digits):
    x = np.array([1.0, 2.0, 3.0])
    H, info = nd.hessian(
        testing.scilab_example, x, method=method, order=order, full_output=True
    )
    exact = testing.scilab_example_hessian(x)
    assert H.shape == (2, 3, 3)
    assert np.array_equal(H, np.swapaxes(H, 1, 2))
    assert digits(H, exact) >= min_digits
    assert np.all(np.abs(H - exact) <= info.error)


@pytest.fixture(scope="module")
def x100():
    rng = np.random.default_rng(0)
    return rng.uniform(-1.5, 1.5, 100)


@pytest.mark.parametrize(
    ("method", "min_digits"), [("central", 9), ("forward", 6.5), ("complex", 14)]
)
def test_rosen_gradient_n100(x100, method, min_digits):
    g, info = nd.gradient(rosen, x100, method=method, full_output=True)
    exact = rosen_der(x100)
    assert g.shape == (100,)
    assert digits(g, exact) >= min_digits
    assert np.all(np.abs(g - exact) <= info.error)


@pytest.mark.parametrize(
    ("method", "order", "min_digits"),
    [("central", 2, 6.5), ("central", 4, 8), ("complex", 2, 9)],
)
def test_rosen_hessian_n100(x100, method, order, min_digits):
    H, info = nd.hessian(rosen, x100, method=method, order=order, full_output=True)
    exact = rosen_hess(x100)
    assert np.array_equal(H, H.T)
    assert digits(H, exact) >= min_digits
    assert np.all(np.abs(H - exact) <= info.error)


def test_rosen_hvp_and_jvp(x100):
    v = np.cos(np.arange(100.0))
    hv, info = nd.hvp(rosen, x100, v, full_output=True)
    exact = rosen_hess_prod(x100, v)
    assert digits(hv, exact) >= 6
    assert np.all(np.abs(hv - exact) <= info.error)
    # 4n + 3 points, and again at half the step but for the shared f(x)
    assert info.nfev == 2 * (4 * 100 + 3) - 1
    jv, info = nd.jvp(rosen, x100, v, full_output=True)
    assert digits(jv, [rosen_der(x100) @ v]) >= 8
    assert np.all(np.abs(jv - rosen_der(x100) @ v) <= info.error)


def test_jvp_matches_jacobian_times_v():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 2, 3)
    v = rng.normal(size=3)
    exact = testing.scilab_example_jacobian(x) @ v
    assert digits(nd.jvp(testing.scilab_example, x, v), exact) >= 8
    assert digits(nd.jvp(testing.scilab_example, x, v, method="complex"), exact) >= 14
    assert np.array_equal(nd.jvp(testing.scilab_example, x, np.zeros(3)), np.zeros(2))


# ---------------------------------------------------------------------------
# convergence slopes


@pytest.mark.parametrize(
    ("method", "order", "n"),
    [("central", p, 1) for p in (2, 4, 6, 8)]
    + [("central", p, 2) for p in (2, 4, 6)]
    + [("forward", p, 1) for p in (1, 2, 3, 4)]
    + [("backward", p, 2) for p in (1, 2, 3)]
    + [("complex", 2, 2), ("complex", 4, 3), ("complex", 2, 3)],
)
def test_convergence_slope(method, order, n):
    x0 = 0.3
    exact = math.exp(x0)
    # steps where truncation dominates round-off
    top = 0.4 if order >= 4 else 0.1
    if method != "central" and order >= 4:
        top = 0.2
    hs = np.geomspace(top / 8, top, 6)
    errs = [
        abs(
            nd.derivative(np.exp, x0, n=n, method=method, order=order, abs_step=h)
            - exact
        )
        for h in hs
    ]
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    # offsets (+-1 + i) h cancel the h^2 terms of the complex second derivative
    expected = 4 if (method, order, n) == ("complex", 2, 2) else order
    assert abs(slope - expected) <= 0.2


# ---------------------------------------------------------------------------
# exact nfev


def _counter():
    calls = []

    def f(x):
        calls.append(np.array(x, copy=True))
        return testing.scilab_example(x)

    return f, calls


@pytest.mark.parametrize(
    ("method", "order", "points"),
    [
        ("central", 2, 2),
        ("central", 4, 4),
        ("central", 8, 8),
        ("forward", 1, 1),
        ("forward", 3, 3),
        ("backward", 2, 2),
        ("complex", 2, 1),
        ("complex", 6, 3),
    ],
)
def test_jacobian_nfev_exact(method, order, points):
    n = 3
    # forward/backward use f(x); the complex step checks that f(x) is real
    uses_f0 = method in ("forward", "backward", "complex")
    f, calls = _counter()
    _, info = (
        nd.jacobian(f, [1.0, 2.0, 3.0], method=method, order=order, full_output=False),
        None,
    )
    assert len(calls) == points * n + uses_f0
    f, calls = _counter()
    _, info = nd.jacobian(
        f,
        [1.0, 2.0, 3.0],
        method=method,
        order=order,
        f0=testing.scilab_example([1.0, 2, 3]),
        full_output=True,
    )
    # the error estimate adds the stencil at half the step (3/4 of it for the
    # complex step, whose rounding is exactly alike under halving); shared
    # points are reused
    if method == "complex":
        offs = {complex(0, s) for s in range(1, order // 2 + 1)}
        ratio = 0.75
    else:
        offs = {complex(o) for o in nd.Stencil.of_kind(method, 1, order).offsets}
        ratio = 0.5
    half = len({o * ratio for o in offs} - offs - {0j})
    assert info.nfev == len(calls) == (points + half) * n
    assert info.ncalls == info.nfev


@pytest.mark.parametrize(
    ("method", "order"),
    [("central", 2), ("forward", 1), ("complex", 2), ("central", 4)],
)
def test_hessian_nfev_exact(method, order):
    n = 5
    f, calls = _counter()

    def g(x):
        return f(x[:3])[0] + np.sum(x**4)

    H = nd.hessian(g, np.linspace(0.5, 1.5, n), method=method, order=order)
    per_dir = {
        ("central", 2): 2,
        ("forward", 1): 2,
        ("complex", 2): 2,
        ("central", 4): 4,
    }[method, order]
    center = 1  # f(x): used by the real stencils, checked real by the complex step
    assert len(calls) == per_dir * (n + n * (n - 1) // 2) + center
    if order == 2:
        assert len(calls) <= 2 * n**2 + 1
    assert H.shape == (n, n)


def test_derivative_nfev_and_calls():
    x = np.linspace(0, 1, 11)
    _, info = nd.derivative(np.sin, x, full_output=True)
    assert info.ncalls == 4  # two offsets, and again at half the step
    assert info.nfev == 4 * x.size
    _d, info = nd.derivative(np.sin, x, n=2, full_output=False), None
    calls = []

    def f(t):
        calls.append(t)
        return np.sin(t)

    nd.derivative(f, x, n=2)
    assert len(calls) == 3  # offsets -1, 0, 1


def test_vectorized_single_batch_and_chunks():
    n = 50
    x = np.linspace(-1, 1, n)
    calls = []

    def fv(X):
        calls.append(X.shape)
        return testing.broyden_tridiagonal_vectorized(X)

    J, info = nd.jacobian(fv, x, vectorized=True, full_output=True)
    # 2n points and 2n half-step points, in one call but for the first point,
    # alone: the check that f keeps one column per point
    assert calls == [(n, 1), (n, 4 * n - 1)]
    assert info.ncalls == 2 and info.nfev == 4 * n
    assert np.allclose(J, testing.broyden_tridiagonal_jacobian(x), atol=1e-9)
    calls.clear()
    J2 = nd.jacobian(fv, x, vectorized=True, chunk_size=30)
    assert max(c[1] for c in calls) <= 30 and sum(c[1] for c in calls) == 2 * n
    assert np.array_equal(J2, nd.jacobian(testing.broyden_tridiagonal, x))


# ---------------------------------------------------------------------------
# workers: identical to serial


def _scilab_module_level(x):
    return testing.scilab_example(x)


@pytest.mark.parametrize(
    "workers",
    [
        2,
        "threads",
        "map",
    ],
)
def test_workers_equal_serial(workers):
    x = np.array([1.0, 2.0, 3.0])
    serial = nd.jacobian(_scilab_module_level, x, full_output=True)
    if workers == "threads":
        with ThreadPoolExecutor(2) as ex:
            par = nd.jacobian(_scilab_module_level, x, workers=ex, full_output=True)
            hpar = nd.hessian(_scilab_module_level, x, workers=ex)
    elif workers == "map":
        par = nd.jacobian(
            _scilab_module_level,
            x,
            workers=lambda fn, it: list(map(fn, it)),
            full_output=True,
        )
        hpar = nd.hessian(
            _scilab_module_level, x, workers=lambda fn, it: list(map(fn, it))
        )
    else:
        par = nd.jacobian(_scilab_module_level, x, workers=workers, full_output=True)
        hpar = nd.hessian(_scilab_module_level, x, workers=workers)
    assert np.array_equal(serial[0], par[0])
    assert np.array_equal(serial[1].error, par[1].error)
    assert serial[1].nfev == par[1].nfev
    assert np.array_equal(hpar, nd.hessian(_scilab_module_level, x))


# ---------------------------------------------------------------------------
# dtypes


def test_float32_keeps_float32():
    x = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    for res in (
        nd.derivative(np.sin, x),
        nd.gradient(lambda t: np.sum(np.sin(t)), x),
        nd.jacobian(np.sin, x),
        nd.hessian(lambda t: np.sum(np.sin(t)), x),
        nd.jacobian(np.sin, x, method="complex"),
    ):
        assert res.dtype == np.float32
    d, info = nd.derivative(np.sin, x, full_output=True)
    assert np.all(np.abs(d - np.cos(x.astype(float))) <= info.error)
    assert digits(d, np.cos(x.astype(float))) >= 4
    assert info.step.dtype == np.float32


def test_integer_x_becomes_float64():
    assert nd.jacobian(lambda t: t**2, [1, 2]).dtype == np.float64
    assert np.allclose(nd.gradient(lambda t: np.sum(t**2), [1, 2]), [2, 4])


def test_complex_x_holomorphic_derivative():
    z = np.array([1 + 1j, 0.5 - 2j])
    d = nd.derivative(np.exp, z, order=4)
    assert np.allclose(d, np.exp(z), rtol=1e-10)


# ---------------------------------------------------------------------------
# steps, bounds, directions


def test_steps_exact_and_reported():
    x = np.array([0.1, 3.0, 1e5])
    _, info = nd.jacobian(lambda t: t**2, x, rel_step=1e-3, full_output=True)
    assert np.array_equal(info.step, (x + 1e-3 * np.maximum(1, x)) - x)
    _, info = nd.jacobian(lambda t: t**2, x, full_output=True)
    # default steps are powers of two, scaled by max(1, |x|)
    assert np.all(np.log2(info.step) == np.round(np.log2(info.step)))
    ratio = info.step / np.maximum(1, x)
    assert ratio.max() <= 2 * ratio.min() and 1e-7 < ratio.min() < 1e-4
    # a step that vanishes in floating point is replaced by the default
    _, info = nd.jacobian(lambda t: t**2, x, abs_step=1e-20, full_output=True)
    assert np.all(info.step > 0)


def _recording(bounds_lo, bounds_hi, f):
    seen = []

    def g(x):
        seen.append(np.array(x, copy=True))
        return f(x)

    return g, seen


@pytest.mark.parametrize(
    ("method", "order"),
    [("central", 2), ("central", 4), ("forward", 2), ("backward", 1), ("complex", 2)],
)
def test_bounds_never_left_and_accurate(method, order):
    lb, ub = np.array([0.0, -1.0, 1.0]), np.array([1.0, 1.0, 2.0])
    x = np.array([0.0, 1.0, 1.5])  # on the lower, on the upper bound, inside
    g, seen = _recording(lb, ub, testing.scilab_example)
    J, info = nd.jacobian(
        g, x, method=method, order=order, bounds=(lb, ub), full_output=True
    )
    pts = np.array(seen).real
    assert np.all(pts >= lb) and np.all(pts <= ub)
    exact = testing.scilab_example_jacobian(x)
    assert np.all(np.abs(J - exact) <= info.error)
    assert digits(J, exact) >= MIN_DIGITS_D1.get((method, order), 6) - 3


def test_bounds_hessian_and_derivative():
    lb, ub = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.5, 3.5])
    x = lb.copy()
    g, seen = _recording(lb, ub, testing.scilab_example)
    H = nd.hessian(g, x, bounds=(lb, ub))
    pts = np.array(seen)
    assert np.all(pts >= lb) and np.all(pts <= ub)
    assert digits(H, testing.scilab_example_hessian(x)) >= 5
    # derivative elementwise, tight bounds force a shrunken one-sided step
    xs = np.array([0.0, 1.0])
    d = nd.derivative(np.exp, xs, bounds=(xs - 1e-3, xs + 1e-9), order=2)
    assert np.allclose(d, np.exp(xs), rtol=1e-6)


def test_scipy_docstring_left_and_right_derivatives():
    def g(x):
        return x**2 if x >= 1 else x

    left = nd.derivative(g, 1.0, bounds=(-np.inf, 1.0), vectorized=False)
    right = nd.derivative(g, 1.0, bounds=(1.0, np.inf), vectorized=False)
    assert left == pytest.approx(1.0, rel=1e-9)
    assert right == pytest.approx(2.0, rel=1e-9)


def test_one_sided_same_order_near_bound():
    # central order 4 at a bound becomes forward order 4: slope 4
    hs = np.geomspace(0.02, 0.1, 5)
    errs = [
        abs(nd.derivative(np.exp, 0.0, order=4, abs_step=h, bounds=(0, 1)) - 1)
        for h in hs
    ]
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    assert abs(slope - 4) <= 0.2


def test_directions_give_canonical_result():
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    x = np.array([1.0, 2.0, 3.0])
    JQ = nd.jacobian(testing.scilab_example, x, directions=Q)
    assert digits(JQ, testing.scilab_example_jacobian(x)) >= 8
    HQ = nd.hessian(testing.scilab_example, x, directions=Q)
    assert digits(HQ, testing.scilab_example_hessian(x)) >= 5
    assert np.allclose(HQ, np.swapaxes(HQ, 1, 2), rtol=1e-12, atol=1e-9)
    g, info = nd.gradient(
        lambda t: testing.scilab_example(t)[0], x, directions=Q, full_output=True
    )
    assert np.all(np.abs(g - testing.scilab_example_jacobian(x)[0]) <= info.error)


def test_args_kwargs_f0():
    def f(x, a, *, b):
        return a * np.sin(x) + b

    x = np.array([0.2, 0.4])
    J = nd.jacobian(f, x, args=(2.0,), kwargs={"b": 1.0})
    assert np.allclose(J, np.diag(2 * np.cos(x)), atol=1e-9)
    _, info = nd.jacobian(
        f,
        x,
        args=(2.0,),
        kwargs={"b": 1.0},
        method="forward",
        f0=f(x, 2.0, b=1.0),
        full_output=True,
    )
    assert info.nfev == 2 + 2  # n points and n half-step points, no f(x)


# ---------------------------------------------------------------------------
# non-finite values


def _edge(x):
    # smooth, but NaN above 1
    return np.where(x <= 1.0, np.exp(x), np.nan)


def test_domain_edge_falls_back_one_sided():
    x = np.array([0.5, 1.0])
    d, info = nd.derivative(_edge, x, full_output=True)
    assert info.status == 1
    assert np.allclose(d, np.exp(x), rtol=1e-8)
    assert np.all(np.abs(d - np.exp(x)) <= info.error)
    # Jacobian: per component
    J, info = nd.jacobian(
        lambda t: np.array([_edge(t[0]) + t[1] ** 2]), [1.0, 3.0], full_output=True
    )
    assert info.status == 1
    assert np.allclose(J, [[np.e, 6.0]], rtol=1e-8)
    # sin(x)/x at 0 is NaN at x but finite on both sides
    d = nd.derivative(lambda t: np.sin(t) / t, np.array([0.0, 1.0]))
    assert abs(d[0]) < 1e-8 and np.isclose(d[1], np.cos(1) - np.sin(1))


def test_nonfinite_both_sides_is_nan_with_status():
    def f(x):
        return np.where(np.abs(x - 2.0) < 0.5, np.nan, x**2)

    d, info = nd.derivative(f, np.array([1.0, 2.0]), full_output=True)
    assert np.isnan(d[1]) and d[0] == pytest.approx(2.0)
    assert info.status == -3
    J, info = nd.jacobian(lambda t: f(t), [1.0, 2.0], full_output=True)
    assert np.isnan(J[1, 1]) and info.status == -3
    assert not np.isnan(J[0, 0])


@pytest.mark.parametrize("method", ["central", "forward", "backward"])
@pytest.mark.parametrize("x", [[0.2, 1.0 - 2.0**-30, 1.0, 0.9], [0.2, 1.5, 0.7]])
def test_serial_fast_path_falls_back_like_the_full_path(method, x):
    # without full_output a serial Jacobian takes the fast pair loop; where f
    # is NaN on one side it must fall back exactly as the general path does
    def f(t):
        return np.where(t > 1.0, np.nan, t**3)

    x = np.array(x)
    J = nd.jacobian(f, x, method=method)
    Jf, info = nd.jacobian(f, x, method=method, full_output=True)
    assert np.array_equal(np.isnan(J), np.isnan(Jf))
    ok = ~np.isnan(J)
    assert np.allclose(J[ok], Jf[ok], rtol=1e-6, atol=1e-12)
    exact = np.diag(np.where(x > 1.0, np.nan, 3 * x**2))
    assert np.allclose(J[ok], exact[ok], rtol=1e-6, atol=1e-12)
    # NaN exactly where f is NaN at x (row), or on both sides (column)
    assert np.array_equal(np.isnan(J).any(axis=1), x > 1.0)
    fell_back = 0 if method == "backward" else 1  # backward never needs to
    assert info.status == (-3 if (x > 1.0).any() else fell_back)


@pytest.mark.parametrize(
    ("method", "calls_per_n", "extra"),
    [("central", 2, 0), ("forward", 1, 1), ("backward", 1, 1)],
)
def test_serial_fast_path_exact_evaluations(method, calls_per_n, extra):
    calls = []

    def f(t):
        calls.append(t.copy())
        return testing.broyden_tridiagonal(t)

    x = np.linspace(-1, 1, 40)
    J = nd.jacobian(f, x, method=method)
    assert len(calls) == calls_per_n * x.size + extra
    assert np.allclose(J, testing.broyden_tridiagonal_jacobian(x), atol=1e-6)
    if extra:  # f(x) once, first
        assert np.array_equal(calls[0], x)
    # f0 given: no evaluation at x
    calls.clear()
    J0 = nd.jacobian(f, x, method=method, f0=testing.broyden_tridiagonal(x))
    assert len(calls) == calls_per_n * x.size and np.array_equal(J0, J)


# ---------------------------------------------------------------------------
# errors and bad input


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"method": "spline"}, ValueError, "method must be one of"),
        ({"method": "adaptive", "order": 4}, ValueError, "leave order unset"),
        ({"method": "adaptive", "rel_step": 1e-3}, ValueError, "initial_step"),
        ({"maxiter": 5}, ValueError, "maxiter is an option of method='adaptive'"),
        ({"method": "adaptive", "maxiter": 0}, ValueError, "maxiter must be"),
        (
            {"method": "adaptive", "tolerances": {"rtl": 1}},
            ValueError,
            "'atol' and 'rtol'",
        ),
        (
            {"method": "adaptive", "tolerances": [1]},
            TypeError,
            "tolerances must be a dict",
        ),
        ({"method": "adaptive", "tolerances": {"rtol": -1}}, ValueError, "rtol"),
        (
            {"method": "adaptive", "initial_step": 0},
            ValueError,
            "initial_step must be positive",
        ),
        (
            {"method": "adaptive", "step_factor": 1.0},
            ValueError,
            "step_factor must be between",
        ),
        ({"method": "adaptive", "noise": -1.0}, ValueError, "noise must be >= 0"),
        ({"method": "adaptive", "noise": "x"}, ValueError, "noise must be a number"),
        ({"order": 3}, ValueError, "order must be even"),
        ({"order": 0, "method": "forward"}, ValueError, "order must be between"),
        ({"order": 2.5}, TypeError, "order must be an integer"),
        ({"rel_step": -1e-3}, ValueError, "rel_step must be positive"),
        ({"abs_step": [1e-3, 0.0, 1e-3]}, ValueError, "abs_step must be positive"),
        (
            {"abs_step": [1e-3, 1e-3]},
            ValueError,
            "abs_step must be a scalar or have one value",
        ),
        ({"rel_step": 1e-3, "abs_step": 1e-3}, ValueError, "not both"),
        ({"bounds": (1.0, 0.0)}, ValueError, "inverted"),
        ({"bounds": (2.0, 3.0)}, ValueError, "outside the bounds"),
        ({"bounds": (1.0, 1.0)}, ValueError, "no room"),
        ({"bounds": 1.0}, ValueError, "bounds must be a pair"),
        ({"directions": np.ones((3, 3))}, ValueError, "orthogonal"),
        ({"directions": np.eye(2)}, ValueError, "orthogonal"),
        ({"workers": 0}, ValueError, "workers must be -1"),
        ({"chunk_size": 0}, ValueError, "chunk_size"),
        ({"vectorized": "yes"}, TypeError, "vectorized must be True or False"),
        ({"kwargs": [1]}, TypeError, "kwargs must be a dict"),
    ],
)
def test_validation_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        nd.jacobian(testing.scilab_example, [1.0, 2.0, 3.0], **kwargs)


def test_validation_of_x_and_f():
    with pytest.raises(ValueError, match="x must be finite, got nan at index 1"):
        nd.jacobian(np.sin, [1.0, np.nan])
    with pytest.raises(ValueError, match="x must be a scalar or 1-D"):
        nd.jacobian(np.sin, np.ones((2, 2)))
    with pytest.raises(TypeError, match="x must be real"):
        nd.jacobian(np.sin, [1j])
    with pytest.raises(TypeError, match="f must be callable"):
        nd.gradient(3.0, [1.0])
    with pytest.raises(ValueError, match="n must be a positive integer"):
        nd.derivative(np.sin, 1.0, n=0)
    with pytest.raises(ValueError, match="gradient\\(\\) needs a scalar f"):
        nd.gradient(np.sin, [1.0, 2.0])
    with pytest.raises(ValueError, match="v must have shape"):
        nd.jvp(np.sin, [1.0, 2.0], [1.0])


def test_f_changing_shape_is_an_error():
    state = {"k": 0}

    def f(x):
        state["k"] += 1
        return np.ones(2 if state["k"] < 3 else 3) * x[0]

    with pytest.raises(
        ValueError, match=r"f returned shape \(3,\) .* but shape \(2,\) before"
    ):
        nd.jacobian(f, [1.0, 2.0])


def test_f_raising_propagates_with_point():
    def f(x):
        if x[1] > 2.0:
            raise RuntimeError("boom")
        return x

    with pytest.raises(RuntimeError, match="boom") as info:
        nd.jacobian(f, [1.0, 2.0])
    notes = getattr(info.value, "__notes__", None)
    if notes is not None:  # Python >= 3.11
        assert "x = [1" in notes[0]


def test_complex_method_refuses_complex_x_and_needs_complex_f():
    with pytest.raises(TypeError, match="x must be real"):
        nd.derivative(np.exp, 1j, method="complex")
    with pytest.raises(TypeError, match="needs f to accept complex input"):
        nd.derivative(lambda t: np.real(np.exp(t)), 1.0, method="complex")


@pytest.mark.parametrize("method", ["central", "forward", "backward"])
def test_f_reusing_its_output_buffer(method):
    buf = np.empty(3)

    def f(x):
        np.sin(x, out=buf)
        return buf

    x = np.array([0.1, 0.7, 1.3])
    J = nd.jacobian(f, x, method=method)
    assert np.allclose(J, np.diag(np.cos(x)), atol=1e-6)
    H = nd.hessian(lambda t: f(t).sum(), x)
    assert np.allclose(H, np.diag(-np.sin(x)), atol=1e-5)


def test_info_fields():
    J, info = nd.jacobian(
        np.sin, [0.5, 1.0], method="forward", order=2, full_output=True
    )
    assert info.method == "forward"
    assert info.order == 2
    assert info.status == 0
    assert info.message == "success"
    assert info.error.shape == J.shape
    assert info.step.shape == (2,)
    assert "nfev=" in repr(info)


# ---------------------------------------------------------------------------
# exactness on polynomials (property-based)

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(
    method_order=st.sampled_from(
        [
            ("central", 2),
            ("central", 4),
            ("central", 6),
            ("forward", 1),
            ("forward", 3),
            ("backward", 2),
            ("complex", 2),
        ]
    ),
    n=st.integers(1, 3),
    coefs=st.lists(st.floats(-2, 2, allow_subnormal=False), min_size=1, max_size=8),
    x0=st.floats(-2, 2),
    h=st.floats(0.05, 0.5),
)
def test_exact_on_polynomials(method_order, n, coefs, x0, h):
    method, order = method_order
    # a stencil of accuracy order p is exact through degree n + p - 1; the
    # complex second derivative gains two orders (offsets (+-1 + i) h)
    degree = n + order - 1 + (2 if (method, n) == ("complex", 2) else 0)
    coefs = (coefs + [0.0] * degree)[: degree + 1]
    p = np.polynomial.Polynomial(coefs)
    d = nd.derivative(p, x0, n=n, method=method, order=order, abs_step=h)
    exact = p.deriv(n)(x0)
    scale = np.sum(np.abs(coefs)) * (abs(x0) + (order + n) * h + 1) ** degree / h**n
    assert abs(d - exact) <= 1e-12 * scale


def test_progress_bar(capsys):
    pytest.importorskip("tqdm")
    J = nd.jacobian(testing.scilab_example, [1.0, 2.0, 3.0], progress=True)
    assert J.shape == (2, 3)


def test_dask_client_workers():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as client:
        x = np.array([1.0, 2.0, 3.0])
        assert np.array_equal(
            nd.jacobian(_scilab_module_level, x, workers=client),
            nd.jacobian(_scilab_module_level, x),
        )


class _MemoLast:
    """f that remembers its last input by reference (a common cache)."""

    def __init__(self, f):
        self.f, self.last, self.val = f, None, None

    def __call__(self, x):
        if (
            self.last is not None
            and self.last.shape == x.shape
            and np.array_equal(x, self.last)
        ):
            return self.val
        self.last, self.val = x, self.f(x)
        return self.val


@pytest.mark.parametrize("vectorized", [False, True])
def test_f_keeping_a_reference_to_its_input(vectorized):
    x = np.linspace(-1, 1, 40)
    f = (
        testing.broyden_tridiagonal_vectorized
        if vectorized
        else testing.broyden_tridiagonal
    )
    H = nd.hessian(lambda t: np.sum(f(t) ** 2, axis=0), x, vectorized=vectorized)
    Hm = nd.hessian(
        _MemoLast(lambda t: np.sum(f(t) ** 2, axis=0)), x, vectorized=vectorized
    )
    assert np.array_equal(H, Hm)
    J = nd.jacobian(f, x, vectorized=vectorized)
    Jm = nd.jacobian(_MemoLast(f), x, vectorized=vectorized)
    assert np.array_equal(J, Jm)


def test_points_given_to_f_are_never_overwritten():
    # f that records its inputs by reference (e.g. to plot them later)
    seen = []

    def f(t):
        seen.append(t)
        return np.sum(t**2)

    x = np.linspace(-1, 1, 100)
    nd.hessian(f, x)
    pts = np.array(seen)
    assert len(seen) == 100**2 + 100 + 1
    # every point of the central Hessian stencil is distinct
    assert np.unique(pts, axis=0).shape[0] == len(seen)


def _stencil_points(x, h):
    """The 2n points of the central first difference along each axis."""
    pts = []
    for j in range(x.size):
        for s in (-1.0, 1.0):
            p = x.copy()
            p[j] += s * h[j]
            pts.append(p)
    return np.array(pts)


@pytest.mark.parametrize("every", [1, 7, 150])
def test_serial_points_kept_by_f_now_and_then(every):
    # the serial Jacobian hands f one reused array while f keeps no reference
    # to it; an f that keeps some of its inputs must find them unchanged
    calls = []
    kept = []

    def f(t):
        calls.append(t.copy())
        if len(calls) % every == 0:
            kept.append((t, t.copy()))
        return testing.broyden_tridiagonal(t)

    x = np.linspace(-1, 1, 100)
    J = nd.jacobian(f, x)  # without full_output: the fast serial path
    assert np.array_equal(J, nd.jacobian(testing.broyden_tridiagonal, x))
    assert kept and all(np.array_equal(a, b) for a, b in kept)
    # the points are the stencil's (the direction in hand is evaluated again
    # after the reference was seen: at most two more evaluations)
    assert 2 * x.size <= len(calls) <= 2 * x.size + 2
    h = nd.jacobian(f, x, full_output=True)[1].step
    calls = calls[: 2 * x.size + 2]
    pts = _stencil_points(x, h)
    assert np.unique(np.array(calls), axis=0).shape == np.unique(pts, axis=0).shape
    assert np.isin(np.array(calls).view(np.int64), pts.view(np.int64)).all()


def _dense(t):
    # every entry of the Jacobian depends on every coordinate
    return np.sin(t) * np.sum(t)


@pytest.mark.parametrize(
    "when", ["always", "once", "moved entry", "writes, later keeps"]
)
def test_serial_f_that_writes_into_its_input(when):
    # f may overwrite the array it is given: no other point may be affected
    calls = []
    kept = []

    def f(t):
        y = _dense(t)
        calls.append(None)
        if when == "always":
            t[::3] = 7.0
        elif when == "once" and len(calls) == 77:
            t[5] += 1.0
        elif when == "moved entry":
            t[np.flatnonzero(t != x)] = 0.5
        elif when == "writes, later keeps" and len(calls) in (70, 77):
            if len(calls) == 70:
                t[5] += 1.0
            else:
                kept.append(t)
        return y

    x = np.linspace(-1, 1, 100)
    J = nd.jacobian(f, x)
    assert np.array_equal(J, nd.jacobian(_dense, x))
    assert len(calls) >= 2 * x.size
    if when == "moved entry":  # harmless: that entry is set again anyway
        assert len(calls) == 2 * x.size
    # the counts are honest: evaluations made again are counted
    calls.clear()
    info = nd.jacobian(f, x, method="central", full_output=True)[1]
    assert info.nfev == len(calls)


@pytest.mark.parametrize(
    "kw",
    [{"full_output": True}, {"order": 4}, {"method": "forward", "order": 2}],
)
@pytest.mark.parametrize(
    "when", ["keeps every 9th", "writes once", "writes always", "writes, later keeps"]
)
def test_serial_block_fold_with_f_that_keeps_or_writes(kw, when):
    # schemes other than a difference of two values copy each value into a
    # table of the block: the same guarantees as the pair loop
    calls = []
    kept = []

    def f(t):
        y = _dense(t)
        calls.append(None)
        k = len(calls)
        if when == "keeps every 9th" and k % 9 == 0:
            kept.append((t, t.copy()))
        elif (when == "writes once" and k == 77) or (
            when == "writes, later keeps" and k == 70
        ):
            t[5] += 1.0
        elif when == "writes always":
            t[::3] = 7.0
        elif when == "writes, later keeps" and k == 77:
            kept.append((t, t.copy()))
        return y

    x = np.linspace(-1, 1, 100)
    got = nd.jacobian(f, x, **kw)
    clean = nd.jacobian(_dense, x, **kw)
    assert all(np.array_equal(a, b) for a, b in kept)
    if kw.get("full_output"):
        assert np.array_equal(got[0], clean[0])
        assert np.array_equal(got[1].error, clean[1].error)
        assert got[1].nfev == len(calls) >= clean[1].nfev
    else:
        assert np.array_equal(got, clean)


def _scribbling(g):
    """g, but it overwrites its input after use (bad manners, but allowed)."""

    def f(t, *args):
        y = np.array(g(t, *args), copy=True)
        if isinstance(t, np.ndarray) and t.flags.writeable:
            t[...] = 7.0
        return y

    return f


def _sum_sin_dense(t):
    return np.sum(np.sin(t) * np.sum(t, axis=0), axis=0)


@pytest.mark.parametrize(
    ("api", "g", "kw"),
    [
        (nd.jacobian, _dense, {}),
        (nd.jacobian, _dense, {"method": "forward"}),
        (nd.jacobian, _dense, {"method": "complex"}),
        (nd.jacobian, _dense, {"order": 6, "full_output": True}),
        (nd.jacobian, _dense, {"vectorized": True}),
        (nd.jacobian, _dense, {"vectorized": True, "full_output": True}),
        (nd.jacobian, _dense, {"bounds": (-1.0, 1.0)}),
        (nd.jacobian, _dense, {"directions": np.eye(6)[::-1]}),
        (nd.jacobian, _dense, {"sparsity": np.ones((6, 6))}),
        (nd.gradient, _sum_sin_dense, {}),
        (nd.hessian, _sum_sin_dense, {}),
        (nd.hessian, _sum_sin_dense, {"method": "forward", "full_output": True}),
        (nd.hessian, _sum_sin_dense, {"vectorized": True}),
        (nd.jvp, _dense, {"v": np.arange(6.0)}),
        (nd.hvp, _sum_sin_dense, {"v": np.arange(6.0)}),
        (nd.derivative, np.sin, {}),
        (nd.derivative, np.sin, {"vectorized": False, "order": 4}),
    ],
)
def test_f_writing_into_its_input_changes_nothing(api, g, kw):
    x = np.linspace(-1.0, 1.0, 6)
    x_before = x.copy()
    kw = dict(kw)
    v = kw.pop("v", None)
    args = (x,) if v is None else (x, v)
    got = api(_scribbling(g), *args, **kw)
    want = api(g, *args, **kw)
    assert np.array_equal(x, x_before)  # the caller's point is untouched
    if kw.get("full_output"):
        got, ginfo = got
        want, winfo = want
        assert np.array_equal(ginfo.error, winfo.error)
    if hasattr(got, "toarray"):
        got, want = got.toarray(), want.toarray()
    assert np.array_equal(got, want)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"full_output": True},
        {"order": 4},
        {"method": "forward"},
        {"method": "backward", "full_output": True},
        {"vectorized": True, "full_output": True},
    ],
)
def test_complex_valued_f(kw):
    # f: R^n -> C^n, J_ij = exp(i x_i) (1 + i x_i s) / ... written out below
    def f(t):
        return np.exp(1j * t) * np.sum(t, axis=0)

    x = np.linspace(0.1, 1.0, 5)
    s = x.sum()
    exact = np.tile(np.exp(1j * x)[:, None], (1, 5))
    exact[np.arange(5), np.arange(5)] += 1j * np.exp(1j * x) * s
    got = nd.jacobian(f, x, **kw)
    J, info = got if kw.get("full_output") else (got, None)
    assert J.dtype == np.complex128
    tol = 1e-5 if kw.get("method") in ("forward", "backward") else 1e-8
    assert np.allclose(J, exact, rtol=tol, atol=tol)
    if info is not None:
        assert np.all(np.abs(J - exact) <= info.error)


@pytest.mark.parametrize("fold", ["_PairFold", "_BlockFold"])
def test_own_failure_is_not_blamed_on_f(monkeypatch, fold):
    # an error in numderiv's own combining step carries no note naming a
    # point of f; an error raised by f does
    from numderiv import _fold

    def broken(self, s, e):
        raise RuntimeError("combine failed")

    monkeypatch.setattr(getattr(_fold, fold), "_finish", broken)
    kw = {} if fold == "_PairFold" else {"order": 4}
    with pytest.raises(RuntimeError, match="combine failed") as info:
        nd.jacobian(testing.broyden_tridiagonal, np.linspace(-1, 1, 10), **kw)
    assert not getattr(info.value, "__notes__", [])
    # also where f keeping its point ends the reuse (the rows so far are
    # combined then)
    kept = []

    def keeper(t):
        if len(kept) < 9:
            kept.append(t.copy())
        else:
            kept.append(t)
        return testing.broyden_tridiagonal(t)

    with pytest.raises(RuntimeError, match="combine failed") as info:
        nd.jacobian(keeper, np.linspace(-1, 1, 10), **kw)
    assert not getattr(info.value, "__notes__", [])

    def f(t):
        if t[3] != 0.0 and abs(t[3] - 0.0) < 1e-3:
            raise ValueError("f failed")
        return t**2

    with pytest.raises(ValueError, match="f failed") as info:
        nd.jacobian(f, np.zeros(5), **kw)
    notes = getattr(info.value, "__notes__", None)
    if notes is not None:  # Python >= 3.11
        assert "raised while evaluating f at x = [" in notes[0]


def test_serial_f_returning_its_input():
    x = np.linspace(-1, 1, 50)
    calls = []

    def ident(t):
        calls.append(None)
        return t

    J = nd.jacobian(ident, x)
    assert np.array_equal(J, np.eye(50))
    assert len(calls) == 2 * 50 + 1  # the first point once more
    J2 = nd.jacobian(lambda t: t[::-1], x)
    assert np.array_equal(J2, np.eye(50)[::-1])


def test_without_reference_counts(monkeypatch):
    # where Python has no sys.getrefcount, every point is a new array
    from numderiv import _core, _fold

    x = np.linspace(-1, 1, 30)
    J = nd.jacobian(testing.broyden_tridiagonal, x)
    Jv = nd.jacobian(testing.broyden_tridiagonal_vectorized, x, vectorized=True)
    monkeypatch.setattr(_fold, "_getrefcount", None)
    monkeypatch.setattr(_core, "_getrefcount", None)
    seen = []

    def f(t):
        seen.append(t)
        return testing.broyden_tridiagonal(t)

    assert np.array_equal(nd.jacobian(f, x), J)
    assert len(seen) == 2 * x.size
    assert len({p.tobytes() for p in seen}) == 2 * x.size
    assert np.array_equal(
        nd.jacobian(testing.broyden_tridiagonal_vectorized, x, vectorized=True), Jv
    )


def _scalar_kink(t):
    return t**2 if t >= 1 else t


def test_derivative_scalar_f_with_workers():
    x = np.array([0.5, 1.5, 2.0])
    serial = nd.derivative(_scalar_kink, x, vectorized=False)
    with ThreadPoolExecutor(2) as ex:
        par = nd.derivative(_scalar_kink, x, vectorized=False, workers=ex)
    assert np.array_equal(serial, par)
    assert np.allclose(serial, [1.0, 3.0, 4.0])
    assert np.array_equal(
        nd.derivative(_scalar_kink, x, vectorized=False, workers=2), serial
    )


def test_vectorized_points_kept_by_f_are_not_overwritten():
    kept = []

    def fv(X):
        kept.append(X)  # a reference to the batch of points
        return testing.broyden_tridiagonal_vectorized(X)

    x = np.linspace(-1, 1, 30)
    J = nd.jacobian(fv, x, vectorized=True)
    # one batch: its 60 columns already tell a wrong axis from a right one
    assert [k.shape for k in kept] == [(30, 60)]
    X = kept[0]
    # the columns are still x with one coordinate moved
    moved = X - x[:, None]
    assert np.count_nonzero(moved) == 60
    assert np.allclose(J, testing.broyden_tridiagonal_jacobian(x), atol=1e-8)

    def identity(X):  # returns its input: the result must not overwrite it
        return X

    assert np.allclose(nd.jacobian(identity, x, vectorized=True), np.eye(30))


@pytest.mark.parametrize("method", ["central", "forward", "complex"])
def test_hessian_and_hvp_errors_honest_at_random_points(method):
    # includes the exact zeros of rosen's Hessian, where the assembly of
    # H_ij from second differences cancels
    for seed in (11, 87):  # seed 87 cancels at an exact zero of the Hessian
        rng = np.random.default_rng(seed)
        x = rng.uniform(-2, 2, 20)
        H, info = nd.hessian(rosen, x, method=method, full_output=True)
        assert np.all(np.abs(H - rosen_hess(x)) <= info.error)
        v = rng.normal(size=20)
        hv, info = nd.hvp(rosen, x, v, method=method, full_output=True)
        assert np.all(np.abs(hv - rosen_hess_prod(x, v)) <= info.error)


def test_random_honesty_table():
    # the smooth functions of numderiv.testing at random points: the true
    # error is below the estimate everywhere
    rng = np.random.default_rng(1)
    for fun in testing.UNIVARIATE:
        for method, order in [
            ("central", 2),
            ("central", 8),
            ("forward", 1),
            ("backward", 3),
            ("complex", 2),
        ]:
            for n in (1, 2, 3):
                x = rng.uniform(*fun.domain, 50)
                d, info = nd.derivative(
                    fun.f, x, n=n, method=method, order=order, full_output=True
                )
                assert np.all(np.abs(d - fun.d(x, n)) <= info.error), (
                    fun.name,
                    method,
                    order,
                    n,
                )


def test_derivative_of_empty_array():
    d = nd.derivative(np.sin, np.array([]))
    assert d.shape == (0,)
    d, info = nd.derivative(np.sin, np.ones((2, 0)), full_output=True)
    assert d.shape == (2, 0)
    assert info.nfev == 0


@pytest.mark.parametrize("vectorized", [False, True])
def test_domain_edge_costs_only_the_failing_direction(vectorized):
    # NaN above 1 in the first component only: 2n points, the failing
    # direction again (2 points, to learn which side failed), then the
    # backward stencil of order 2 there (f(x) and 2 more points) and its
    # one new point at half the step (the fallback checks its step fits)
    n = 10
    x = np.full(n, 0.5)
    x[0] = 1.0

    def f(t):
        return np.where(t[0] <= 1.0, np.exp(t[0]), np.nan) + np.sum(t**2, axis=0)

    calls = []

    def counted(t):
        calls.append(t.shape[-1] if vectorized and t.ndim == 2 else 1)
        return f(t)

    g = nd.jacobian(counted, x, vectorized=vectorized)
    assert sum(calls) == 2 * n + 2 + 3 + 1
    expected = 2 * x
    expected[0] += np.e
    assert np.allclose(g[0], expected, rtol=1e-7)
