"""numderiv.compat.scipy against SciPy itself, and SciPy's documented examples."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.pool import ThreadPool
from typing import Any

import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import rosen, rosen_der
from scipy.optimize._numdiff import approx_derivative as scipy_approx_derivative
from scipy.optimize._numdiff import group_columns as scipy_group_columns
from scipy.sparse.linalg import LinearOperator

import numderiv as nd
from numderiv.compat.scipy import (
    approx_derivative,
    approx_fprime,
    check_grad,
    group_columns,
)


def _quiet(fn: Any, *a: Any, **kw: Any) -> Any:
    """SciPy warns on 0/0 where we stay quiet: compare values, not warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*a, **kw)


def _close(got: Any, want: Any, rtol: float = 1e-9) -> None:
    if sp.issparse(want):
        assert type(got) is type(want)
        assert got.shape == want.shape
        got, want = got.toarray(), want.toarray()
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    finite = np.abs(want[np.isfinite(want)])
    scale = float(np.max(finite, initial=0.0))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, equal_nan=True)


class Model:
    """A random smooth map R^n -> R^m (picklable)."""

    def __init__(self, seed: int, n: int, m: int, scalar: bool = False) -> None:
        rng = np.random.default_rng(seed)
        self.A = rng.normal(size=(m, n))
        self.B = rng.normal(size=(n, n))
        self.c = rng.normal(size=n)
        self.scalar = scalar

    def __call__(self, x: Any, a: float = 1.0, b: float = 0.0) -> Any:
        y = self.A @ np.sin(self.B @ x + self.c) * a + np.sum(x**3) / 10 + b
        return y[0] if self.scalar else y


# -- SciPy's docstring examples --------------------------------------------------------


def f_doc(x: Any, c1: float, c2: float) -> Any:
    return np.array([x[0] * np.sin(c1 * x[1]), x[0] * np.cos(c2 * x[1])])


def test_doc_example_args() -> None:
    x0 = np.array([1.0, 0.5 * np.pi])
    J = approx_derivative(f_doc, x0, args=(1, 2))
    np.testing.assert_allclose(J, [[1.0, 0.0], [-1.0, 0.0]], atol=1e-9)
    _close(J, scipy_approx_derivative(f_doc, x0, args=(1, 2)), rtol=1e-14)


def g_kink(x: Any) -> Any:
    return x**2 if x >= 1 else x


def test_doc_example_left_and_right_derivatives() -> None:
    left = approx_derivative(g_kink, 1.0, bounds=(-np.inf, 1.0))
    right = approx_derivative(g_kink, 1.0, bounds=(1.0, np.inf))
    np.testing.assert_allclose(left, [1.0], rtol=1e-9)
    np.testing.assert_allclose(right, [2.0], rtol=1e-9)
    assert left.shape == right.shape == (1,)
    _close(left, scipy_approx_derivative(g_kink, 1.0, bounds=(-np.inf, 1.0)), 1e-14)
    _close(right, scipy_approx_derivative(g_kink, 1.0, bounds=(1.0, np.inf)), 1e-14)


def rosen_cols(xx: Any) -> Any:
    return rosen(xx)


def vectorized_map(f: Any, x: Any, *args: Any, **kwds: Any) -> Any:
    """The map-like of SciPy's docs: all points to f at once (here rosen)."""
    xx = np.r_[[xs for xs in x]]
    return f(xx.T)


def test_doc_example_workers_pool_and_vectorized_map() -> None:
    x0 = np.random.default_rng(3).uniform(high=10, size=(40,))
    f0 = rosen(x0)
    want = scipy_approx_derivative(rosen, x0, f0=f0)
    serial = approx_derivative(rosen, x0, f0=f0)
    _close(serial, want, rtol=1e-12)
    with ThreadPool(2) as pool:
        par = approx_derivative(rosen, x0, workers=pool.map, f0=f0)
    np.testing.assert_array_equal(par, serial)
    vec = approx_derivative(rosen_cols, x0, workers=vectorized_map, f0=f0)
    np.testing.assert_array_equal(vec, serial)
    np.testing.assert_allclose(vec, rosen_der(x0), rtol=1e-6)


def test_workers_process_pool_int() -> None:
    model = Model(1, 4, 3)
    x0 = np.array([0.1, -0.4, 0.7, 1.2])
    want = approx_derivative(model, x0)
    got, info = approx_derivative(model, x0, workers=2, full_output=True)
    np.testing.assert_array_equal(got, want)
    assert info == {"nfev": 9}
    _, info_s = scipy_approx_derivative(model, x0, workers=2, full_output=True)
    assert info == info_s


def test_workers_executor_map_and_counts() -> None:
    model = Model(2, 3, 2)
    x0 = np.array([0.3, 0.2, -0.5])
    calls: list[int] = []

    def mapper(fn: Any, it: Any) -> Any:
        pts = list(it)
        calls.append(len(pts))
        with ThreadPoolExecutor(2) as ex:
            return list(ex.map(fn, pts))

    for method in ("2-point", "3-point", "cs"):
        calls.clear()
        got = approx_derivative(model, x0, method=method, workers=mapper)
        np.testing.assert_array_equal(got, approx_derivative(model, x0, method=method))
        assert sum(calls) == (6 if method == "3-point" else 3)


def test_bad_workers() -> None:
    with pytest.raises(RuntimeError, match="Number of workers"):
        approx_derivative(rosen, np.ones(3), workers=-3)
    with pytest.raises(TypeError, match="map-like callable must be of the form"):
        approx_derivative(rosen, np.ones(3), workers=lambda f: None)


# -- randomised equality with SciPy ------------------------------------------------------


@st.composite
def _dense_cases(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 5))
    m = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from([1e-3, 0.3, 1.0, 50.0]))
    x0 = rng.normal(size=n) * scale
    if draw(st.booleans()):
        x0[rng.integers(n)] = 0.0
    method = draw(st.sampled_from(["2-point", "3-point", "cs"]))
    kw: dict[str, Any] = {"method": method}
    if method != "cs" and draw(st.booleans()):
        rooms = [0.0, 1e-10, 1e-7, 1e-5, 1e-3, 1.0, np.inf]
        lo = np.array(draw(st.lists(st.sampled_from(rooms), min_size=n, max_size=n)))
        hi = np.array(draw(st.lists(st.sampled_from(rooms), min_size=n, max_size=n)))
        kw["bounds"] = (x0 - lo, x0 + hi)
    step = draw(st.sampled_from(["none", "rel", "abs", "rel-array", "abs-array"]))
    if step == "rel":
        kw["rel_step"] = draw(st.sampled_from([1e-2, 1e-6, 0.0, 1e-30]))
    elif step == "abs":
        kw["abs_step"] = draw(st.sampled_from([1e-3, -1e-4, 1e-8, 0.0]))
    elif step == "rel-array":
        kw["rel_step"] = rng.uniform(1e-8, 1e-3, size=n)
    elif step == "abs-array":
        kw["abs_step"] = rng.uniform(-1e-3, 1e-3, size=n)
    kw["scalar"] = draw(st.booleans()) if m == 1 else False
    kw["f0"] = draw(st.booleans())
    kw["n"], kw["m"], kw["seed"], kw["x0"] = n, m, seed, x0
    kw["args"] = draw(st.sampled_from([(), (2.0,), (0.5, 1.0)]))
    return kw


@settings(max_examples=200, deadline=None)
@given(_dense_cases())
def test_dense_equals_scipy(case: dict[str, Any]) -> None:
    model = Model(case.pop("seed"), case.pop("n"), case.pop("m"), case.pop("scalar"))
    x0 = case.pop("x0")
    if case.pop("f0"):
        case["f0"] = model(x0, *case["args"])
    want = _quiet(scipy_approx_derivative, model, x0, full_output=True, **case)
    got = approx_derivative(model, x0, full_output=True, **case)
    _close(got[0], want[0])
    assert got[1] == want[1]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 10_000),
    st.sampled_from(["2-point", "3-point", "cs"]),
    st.sampled_from([np.float32, np.float64]),
    st.sampled_from([np.float32, np.float64]),
)
def test_float32_steps_and_points_as_scipy(
    seed: int, method: str, xdt: Any, fdt: Any
) -> None:
    model = Model(seed, 3, 2)

    def fun(x: Any) -> Any:
        return model(x).astype(fdt if not np.iscomplexobj(x) else complex)

    x0 = np.random.default_rng(seed).normal(size=3).astype(xdt)
    seen: list[Any] = []

    def spy(x: Any) -> Any:
        seen.append(np.array(x, copy=True))
        return fun(x)

    want = scipy_approx_derivative(spy, x0, method=method)
    theirs, seen = seen, []
    got = approx_derivative(spy, x0, method=method)
    # the same points, in the same dtype, as SciPy evaluates
    key = sorted((p.dtype.str, p.tobytes()) for p in theirs)
    assert sorted((p.dtype.str, p.tobytes()) for p in seen) == key
    low = xdt == np.float32 or fdt == np.float32
    _close(got, want, rtol=1e-5 if low else 1e-9)


def test_output_shapes() -> None:
    def scalar(x: Any) -> Any:
        return np.sum(np.sin(x))

    def vec(x: Any) -> Any:
        return np.array([np.sin(x[0]), np.cos(x[0]), x[0] ** 2])

    assert approx_derivative(scalar, np.ones(4)).shape == (4,)
    assert approx_derivative(vec, 0.5).shape == (3, 1)
    assert approx_derivative(scalar, 0.5).shape == (1,)
    assert approx_derivative(vec, [0.5], sparsity=np.ones((3, 1))).shape == (3, 1)


# -- sparsity ---------------------------------------------------------------------------


def banded(x: Any) -> Any:
    y = x**3
    y[1:] += np.sin(x[:-1])
    y[:-1] += np.exp(0.1 * x[1:])
    return y


def _band(n: int) -> Any:
    return np.eye(n) + np.eye(n, k=1) + np.eye(n, k=-1)


@pytest.mark.parametrize("method", ["2-point", "3-point", "cs"])
@pytest.mark.parametrize("kind", ["dense", "csr_array", "csr_matrix", "coo_array"])
def test_sparse_equals_scipy(method: str, kind: str) -> None:
    n = 12
    S = _band(n)
    structure: Any = {
        "dense": S,
        "csr_array": sp.csr_array(S),
        "csr_matrix": sp.csr_matrix(S),
        "coo_array": sp.coo_array(S),
    }[kind]
    x0 = np.linspace(-1, 2, n)
    groups = scipy_group_columns(structure)
    for bounds in [(-np.inf, np.inf), (x0 - 1e-9, x0 + 1.0), (x0 - 1.0, x0)]:
        if method == "cs" and np.isfinite(bounds[0]).any():
            continue
        want = scipy_approx_derivative(
            banded,
            x0,
            method=method,
            sparsity=(structure, groups),
            bounds=bounds,
            full_output=True,
        )
        got = approx_derivative(
            banded,
            x0,
            method=method,
            sparsity=(structure, groups),
            bounds=bounds,
            full_output=True,
        )
        _close(got[0], want[0])
        assert got[1] == want[1]
        np.testing.assert_array_equal(got[0].indices, want[0].indices)
        np.testing.assert_array_equal(got[0].indptr, want[0].indptr)
    # a bare structure: our colouring (never more groups), same values
    want = scipy_approx_derivative(banded, x0, method=method, sparsity=structure)
    got, info = approx_derivative(
        banded, x0, method=method, sparsity=structure, full_output=True
    )
    _close(got, want)
    assert info["nfev"] == 1 + 3 * (2 if method == "3-point" else 1)


def test_sparse_mixed_schemes_in_one_group() -> None:
    # bounds make some columns one-sided and others central inside one group
    n = 9
    x0 = np.linspace(0.2, 1.8, n)
    lb = np.where(np.arange(n) % 2 == 0, x0 - 1e-9, -np.inf)
    groups = np.arange(n) % 3
    args = dict(method="3-point", sparsity=(_band(n), groups), bounds=(lb, np.inf))
    _close(
        approx_derivative(banded, x0, **args),
        scipy_approx_derivative(banded, x0, **args),
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 30), st.integers(1, 30))
def test_group_columns_valid_and_no_worse(seed: int, m: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    A = (rng.random((m, n)) < 0.2).astype(int)
    for arg in (A, sp.csr_array(A)):
        g = group_columns(arg)
        theirs = scipy_group_columns(arg)
        assert g.shape == (n,) and g.dtype == theirs.dtype
        assert g.max() <= theirs.max()
        assert set(g.tolist()) == set(range(g.max() + 1))
        nd.check_groups(A, g)  # no two columns of a group share a row


def test_group_columns_scipy_own_test() -> None:
    # scipy/optimize/tests/test__numdiff.py::test_group_columns, ported
    structure = [
        [1, 1, 0, 0, 0, 0],
        [1, 1, 1, 0, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 0, 1, 1, 1, 0],
        [0, 0, 0, 1, 1, 1],
        [0, 0, 0, 0, 1, 1],
        [0, 0, 0, 0, 0, 0],
    ]
    for transform in [np.asarray, sp.csr_array, sp.csc_array, sp.lil_array]:
        A = transform(structure)
        order = np.arange(6)
        assert np.array_equal(group_columns(A, order), [0, 1, 2, 0, 1, 2])
        order = [1, 2, 4, 3, 5, 0]
        assert np.array_equal(group_columns(A, order), [2, 0, 1, 2, 0, 1])
    # repeatability
    assert np.array_equal(group_columns(A), group_columns(A))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 20), st.integers(1, 20))
def test_group_columns_explicit_order_equals_scipy(seed: int, m: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    A = (rng.random((m, n)) < 0.3).astype(int)
    order = rng.permutation(n)
    for arg in (A, sp.csr_array(A)):
        for o in (order, order.tolist()):
            g = group_columns(arg, o)
            assert np.array_equal(g, scipy_group_columns(arg, o))


def test_group_columns_order_argument() -> None:
    A = _band(7)
    perm = np.arange(7)[::-1]
    assert np.array_equal(group_columns(A, perm), scipy_group_columns(A, perm))
    assert group_columns(A, None).max() == 2
    with pytest.raises(ValueError, match="`order` has incorrect shape"):
        group_columns(A, np.arange(3))


# -- linear operator --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["2-point", "3-point", "cs"])
def test_linear_operator_equals_scipy(method: str) -> None:
    model = Model(7, 4, 3)
    x0 = np.array([0.3, -1.2, 2.0, 0.5])
    ours = approx_derivative(model, x0, method=method, as_linear_operator=True)
    theirs = scipy_approx_derivative(model, x0, method=method, as_linear_operator=True)
    assert isinstance(ours, LinearOperator) and ours.shape == (3, 4)
    assert ours.dtype == theirs.dtype
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = rng.normal(size=4)
        _close(ours @ p, theirs @ p)
    np.testing.assert_array_equal(ours @ np.zeros(4), np.zeros(3))
    for rel in (1e-4, -1e-6):
        a = approx_derivative(
            model, x0, method=method, rel_step=rel, as_linear_operator=True
        )
        b = scipy_approx_derivative(
            model, x0, method=method, rel_step=rel, as_linear_operator=True
        )
        _close(a @ np.ones(4), b @ np.ones(4))
    _, info = approx_derivative(
        model, x0, method=method, as_linear_operator=True, full_output=True
    )
    assert info == {"nfev": 1}


# -- errors, as SciPy's --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "exc", "match"),
    [
        ({"method": "5-point"}, ValueError, "Unknown method '5-point'"),
        ({"x0": np.ones((2, 2))}, ValueError, "`x0` must have at most 1 dimension"),
        ({"bounds": ([0, 0], [1, 1, 1])}, ValueError, "Inconsistent shapes"),
        ({"bounds": (2.0, 3.0)}, ValueError, "`x0` violates bound constraints"),
        (
            {"bounds": (0.0, 3.0), "as_linear_operator": True},
            ValueError,
            "Bounds not supported",
        ),
        ({"f0": np.ones((2, 2))}, ValueError, "`f0` passed has more than 1 dimension"),
        (
            {"fun": lambda x: np.ones((2, 2))},
            RuntimeError,
            "more than 1 dimension",
        ),
    ],
)
def test_errors_as_scipy(kw: dict[str, Any], exc: Any, match: str) -> None:
    fun = kw.pop("fun", lambda x: np.sum(x**2))
    x0 = kw.pop("x0", np.array([0.5, 1.0, 1.5]))
    with pytest.raises(exc, match=match):
        approx_derivative(fun, x0, **kw)
    with pytest.raises(exc, match=match):
        scipy_approx_derivative(fun, x0, **kw)


@pytest.mark.parametrize(
    ("sparsity", "match"),
    [
        (np.ones((4, 3)), r"sparsity has shape \(4, 3\), but the Jacobian .* \(3, 3\)"),
        (np.ones((3, 2)), r"sparsity has shape \(3, 2\)"),
        (sp.csr_array(np.ones((5, 3))), r"sparsity has shape \(5, 3\)"),
        (np.ones((2, 3)), r"structure of sparsity \(given as a pair\) has shape"),
        ((np.ones((3, 3)), np.array([0, 1])), r"groups of sparsity must have shape"),
        ((np.ones((3, 3)), [0, 1, 2, 0]), r"shape \(3,\).*got shape \(4,\)"),
        ((np.eye(3), [0, -1, 1]), r"non-negative integers, got"),
    ],
)
def test_sparsity_of_the_wrong_shape_named(sparsity: Any, match: str) -> None:
    def fun(x: Any) -> Any:
        return np.array([x[0] ** 2, x[1] * x[0], x[2]])

    with pytest.raises(ValueError, match=match):
        approx_derivative(fun, np.array([1.0, 2.0, 3.0]), sparsity=sparsity)


def test_float_groups_accepted_as_scipy() -> None:
    x0 = np.array([1.0, 2.0, 3.0])
    J = approx_derivative(np.sin, x0, sparsity=(np.eye(3), [0.0, 0.0, 0.0]))
    np.testing.assert_allclose(J.toarray(), np.diag(np.cos(x0)), rtol=1e-8)


@pytest.mark.parametrize("eps", [[1e-8, 1e-8], [1e-8] * 4, np.full((3, 1), 1e-8)])
def test_approx_fprime_epsilon_of_another_length_named(eps: Any) -> None:
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"epsilon must be a scalar or have the shape"):
        approx_fprime(x, lambda t: np.sum(t**2), eps)
    # the same step as SciPy's where it broadcasts
    assert np.allclose(approx_fprime(x, lambda t: np.sum(t**2), [1e-8]), 2 * x)


@pytest.mark.parametrize("name", ["rel_step", "abs_step"])
def test_steps_of_another_length_named(name: str) -> None:
    with pytest.raises(ValueError, match=rf"{name} must be a scalar or have the shape"):
        approx_derivative(np.sin, np.array([1.0, 2.0, 3.0]), **{name: [1e-8, 1e-8]})


def test_x0_outside_bounds_evaluates_f_first_like_scipy() -> None:
    calls: list[Any] = []

    def fun(x: Any) -> Any:
        calls.append(x)
        return x

    with pytest.raises(ValueError, match="violates"):
        approx_derivative(fun, [5.0], bounds=(0, 1))
    assert len(calls) == 1


# -- approx_fprime and check_grad ---------------------------------------------------------


def func_c(x: Any, c0: float, c1: float) -> Any:
    return c0 * x[0] ** 2 + c1 * x[1] ** 2


def test_approx_fprime_doc_example() -> None:
    eps = np.sqrt(np.finfo(float).eps)
    got = approx_fprime(np.ones(2), func_c, [eps, np.sqrt(200) * eps], 1, 200)
    np.testing.assert_allclose(got, [2.0, 400.00004208], rtol=1e-9)
    want = so.approx_fprime(np.ones(2), func_c, [eps, np.sqrt(200) * eps], 1, 200)
    _close(got, want, rtol=1e-15)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([1e-8, 1e-6, 1e-3]), st.booleans())
def test_approx_fprime_equals_scipy(seed: int, eps: float, vector: bool) -> None:
    model = Model(seed, 3, 2 if vector else 1, scalar=not vector)
    x = np.random.default_rng(seed).normal(size=3)
    _close(approx_fprime(x, model, eps, 1.5), so.approx_fprime(x, model, eps, 1.5))


def fcg(x: Any) -> Any:
    return x[0] ** 2 - 0.5 * x[1] ** 3


def gcg(x: Any) -> Any:
    return [2 * x[0], -1.5 * x[1] ** 2]


def test_check_grad_doc_example() -> None:
    err = check_grad(fcg, gcg, [1.5, -1.5])
    assert err < 1e-6
    _close(np.float64(err), np.float64(so.check_grad(fcg, gcg, [1.5, -1.5])), 1e-6)
    a = check_grad(fcg, gcg, [1.5, -1.5], direction="random", rng=42)
    b = so.check_grad(fcg, gcg, [1.5, -1.5], direction="random", rng=42)
    assert a == pytest.approx(b, rel=1e-6, abs=1e-15)
    a = check_grad(fcg, gcg, [1.5, -1.5], direction="random", seed=3)
    b = so.check_grad(fcg, gcg, [1.5, -1.5], direction="random", seed=3)
    assert a == pytest.approx(b, rel=1e-6, abs=1e-15)


def test_check_grad_detects_a_wrong_gradient_and_errors() -> None:
    def bad(x: Any) -> Any:
        return [2 * x[0], 1.5 * x[1] ** 2]

    err = check_grad(fcg, bad, [1.5, -1.5])
    assert err == pytest.approx(so.check_grad(fcg, bad, [1.5, -1.5]), rel=1e-9)
    assert err > 1
    with pytest.raises(ValueError, match="is not a valid string"):
        check_grad(fcg, gcg, [1.5, -1.5], direction="some")
    with pytest.raises(ValueError, match="'random' can only be used with scalar"):
        check_grad(fcg, lambda x: np.ones((2, 2)), [1.5, -1.5], direction="random")
    with pytest.raises(TypeError, match="multiple values"):
        check_grad(fcg, gcg, [1.5, -1.5], rng=1, seed=1)


# -- Hock-Schittkowski 40 with SLSQP (the Q&A's optimisation example) ------------------------


def hs40_objective(x: Any) -> Any:
    return -np.prod(x)


def hs40_constraints(x: Any) -> Any:
    return np.array(
        [x[0] ** 3 + x[1] ** 2 - 1, x[0] ** 2 * x[3] - x[2], x[3] ** 2 - x[1]]
    )


HS40_X = np.array([0.79370053, 0.70710678, 0.52973155, 0.84089641])


@pytest.mark.parametrize("layer", ["numderiv", "compat"])
def test_hs40_slsqp(layer: str) -> None:
    if layer == "numderiv":

        def jac(x: Any) -> Any:
            return nd.gradient(hs40_objective, x)

        def cjac(x: Any) -> Any:
            return nd.jacobian(hs40_constraints, x)
    else:
        # as the Q&A: approx_fprime with a fixed step of 1e-8

        def jac(x: Any) -> Any:
            return approx_fprime(x, hs40_objective, 1e-8)

        def cjac(x: Any) -> Any:
            return approx_fprime(x, hs40_constraints, 1e-8)

    res = so.minimize(
        hs40_objective,
        np.full(4, 0.8),
        jac=jac,
        method="SLSQP",
        constraints=[{"type": "eq", "fun": hs40_constraints, "jac": cjac}],
        options={"ftol": 1e-12, "maxiter": 200},
    )
    assert res.success
    np.testing.assert_allclose(res.x, HS40_X, atol=1e-7)
    assert res.fun == pytest.approx(-0.25, abs=1e-9)
    np.testing.assert_allclose(hs40_constraints(res.x), 0, atol=1e-9)
