"""Sparse Jacobians and Hessians, colouring, linear operators, check_derivative."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import rosen, rosen_der, rosen_hess
from scipy.optimize._numdiff import group_columns
from scipy.sparse.linalg import LinearOperator

import numderiv as nd
from numderiv import testing

# ---------------------------------------------------------------------------
# colouring


def _random_pattern(seed: int, m: int, n: int, density: float) -> sp.csc_array:
    rng = np.random.default_rng(seed)
    S = sp.random_array((m, n), density=density, rng=rng, format="csc")
    return sp.csc_array(S != 0)


def _assert_valid(S, groups):
    S = sp.csc_array(S)
    for g in np.unique(groups):
        cols = np.flatnonzero(groups == g)
        rows_hit = S[:, cols].sum(axis=1)
        assert rows_hit.max(initial=0) <= 1


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    m=st.integers(1, 60),
    n=st.integers(1, 60),
    density=st.floats(0.01, 0.4),
)
def test_colouring_is_valid_and_beats_scipy(seed, m, n, density):
    S = _random_pattern(seed, m, n, density)
    groups = nd.color_columns(S)
    _assert_valid(S, groups)
    nd.check_groups(S, groups)
    ours = groups.max() + 1
    assert ours <= group_columns(S).max() + 1
    lower = max(1, np.diff(S.tocsr().indptr).max(initial=0))
    assert ours >= lower


@pytest.mark.parametrize(
    ("n", "lower", "upper"), [(50, 1, 1), (200, 2, 3), (1000, 5, 5), (10_000, 0, 2)]
)
def test_banded_reaches_lower_bound(n, lower, upper):
    S = sp.diags_array(
        [np.ones(n - abs(k)) for k in range(-lower, upper + 1)],
        offsets=list(range(-lower, upper + 1)),
    )
    groups = nd.color_columns(S)
    _assert_valid(S, groups)
    assert groups.max() + 1 == lower + upper + 1


def test_block_diagonal_reaches_lower_bound():
    rng = np.random.default_rng(2)
    blocks = [np.ones((k, k)) for k in rng.integers(1, 7, 30)]
    S = sp.block_diag(blocks, format="csc")
    groups = nd.color_columns(S)
    _assert_valid(S, groups)
    assert groups.max() + 1 == max(b.shape[0] for b in blocks)


@pytest.mark.parametrize(
    "ordering",
    ["natural", "largest_first", "smallest_last", "incidence_degree", "random"],
)
def test_each_ordering_valid(ordering):
    S = _random_pattern(7, 80, 60, 0.08)
    groups = nd.color_columns(S, orderings=[ordering])
    _assert_valid(S, groups)


def test_check_groups_names_conflicting_columns():
    S = np.array([[1, 0, 1], [0, 1, 0]])
    assert np.array_equal(nd.check_groups(S, [0, 0, 1]), [0, 0, 1])
    with pytest.raises(
        ValueError, match="columns 0 and 2 are both in group 0 but share row 0"
    ):
        nd.check_groups(S, [0, 1, 0])
    with pytest.raises(ValueError, match="groups must be 3 non-negative integers"):
        nd.check_groups(S, [0, 1])
    with pytest.raises(ValueError, match="unknown ordering"):
        nd.color_columns(S, orderings=["zigzag"])


@pytest.mark.parametrize("orderings", [(), []])
def test_color_columns_empty_orderings_named(orderings):
    S = np.array([[1, 0, 1], [0, 1, 0]])
    with pytest.raises(ValueError, match=r"orderings must name at least one.*got"):
        nd.color_columns(S, orderings=orderings)
    with pytest.raises(ValueError, match="orderings must name"):
        nd.color_columns(np.zeros((2, 0)), orderings=orderings)
    # a single name as a string is one ordering, not its letters
    assert np.array_equal(nd.color_columns(S, orderings="natural"), [0, 0, 1])


# ---------------------------------------------------------------------------
# sparse Jacobians


def _tridiag(n):
    return sp.diags_array(
        [np.ones(n - 1), np.ones(n), np.ones(n - 1)], offsets=[-1, 0, 1]
    )


@pytest.mark.parametrize(
    ("method", "order"),
    [
        ("central", 2),
        ("central", 4),
        ("forward", 1),
        ("forward", 2),
        ("backward", 1),
        ("complex", 2),
    ],
)
@pytest.mark.parametrize("vectorized", [False, True])
def test_sparse_equals_dense(method, order, vectorized):
    n = 40
    x = np.linspace(-1, 1, n)
    f = (
        testing.broyden_tridiagonal_vectorized
        if vectorized
        else testing.broyden_tridiagonal
    )
    Js, info = nd.jacobian(
        f,
        x,
        sparsity=_tridiag(n),
        method=method,
        order=order,
        vectorized=vectorized,
        full_output=True,
    )
    Jd = nd.jacobian(f, x, method=method, order=order, vectorized=vectorized)
    assert isinstance(Js, sp.csr_array)
    assert Js.nnz == 3 * n - 2
    exact = testing.broyden_tridiagonal_jacobian(x)
    assert np.allclose(Js.toarray(), Jd, rtol=1e-6, atol=1e-6)
    assert np.all(np.abs(Js.toarray() - exact) <= info.error.toarray() + (exact == 0))
    assert info.extra["ngroups"] == 3


@pytest.mark.parametrize(
    ("method", "order", "points", "center"),
    [
        ("central", 2, 2, 0),
        ("central", 4, 4, 0),
        ("forward", 1, 1, 1),
        ("backward", 2, 2, 1),
        ("complex", 2, 1, 1),  # f(x), checked to be real
    ],
)
def test_sparse_nfev_exact(method, order, points, center):
    n = 30
    x = np.linspace(-1, 1, n)
    calls = []

    def f(t):
        calls.append(1)
        return testing.broyden_tridiagonal(t)

    nd.jacobian(f, x, sparsity=_tridiag(n), method=method, order=order)
    assert len(calls) == 3 * points + center  # colours x points, plus f(x) if used


def test_sparse_with_groups_bounds_workers_and_f0():
    n = 24
    x = np.linspace(0, 1, n)
    S = _tridiag(n)
    groups = np.arange(n) % 3
    lb, ub = np.zeros(n), np.ones(n)
    seen = []

    def f(t):
        seen.append(t.copy())
        return testing.broyden_tridiagonal(t)

    J = nd.jacobian(f, x, sparsity=(S, groups), bounds=(lb, ub))
    pts = np.array(seen)
    assert np.all(pts >= lb)
    assert np.all(pts <= ub)
    assert np.allclose(J.toarray(), testing.broyden_tridiagonal_jacobian(x), atol=1e-8)
    with ThreadPoolExecutor(2) as ex:
        Jw = nd.jacobian(testing.broyden_tridiagonal, x, sparsity=S, workers=ex)
    assert np.array_equal(
        Jw.toarray(), nd.jacobian(testing.broyden_tridiagonal, x, sparsity=S).toarray()
    )
    _, info = nd.jacobian(
        testing.broyden_tridiagonal,
        x,
        sparsity=S,
        method="forward",
        f0=testing.broyden_tridiagonal(x),
        full_output=True,
    )
    assert info.nfev == 3 + 3  # the error estimate: half steps, no f(x)


def test_sparse_large_banded_no_dense():
    n = 100_000
    x = np.linspace(-1, 1, n)
    S = _tridiag(n)
    J, info = nd.jacobian(
        testing.broyden_tridiagonal_vectorized,
        x,
        sparsity=S,
        vectorized=True,
        full_output=True,
    )
    assert info.extra["ngroups"] == 3
    d = J.diagonal()
    assert np.allclose(d, 3 - 4 * x, atol=1e-7)
    assert J.nnz == 3 * n - 2


def test_sparse_bad_structure():
    x = np.ones(4)
    with pytest.raises(
        ValueError, match="sparsity has 3 columns, but x has 4 components"
    ):
        nd.jacobian(np.sin, x, sparsity=np.ones((4, 3)))
    with pytest.raises(
        ValueError, match=r"sparsity has shape \(3, 4\), but f returns 4 values"
    ):
        nd.jacobian(np.sin, x, sparsity=np.ones((3, 4)))
    with pytest.raises(ValueError, match="share row"):
        nd.jacobian(np.sin, x, sparsity=(np.ones((4, 4)), [0, 0, 1, 1]))
    with pytest.raises(ValueError, match="pair"):
        nd.jacobian(np.sin, x, sparsity=(np.eye(4), [0, 0, 0, 0], 1))
    with pytest.raises(ValueError, match="cannot be combined"):
        nd.jacobian(np.sin, x, sparsity=np.eye(4), directions=np.eye(4))


# ---------------------------------------------------------------------------
# sparse Hessians


@pytest.mark.parametrize("method", ["central", "forward", "complex"])
def test_sparse_hessian_equals_dense_with_fewer_evaluations(method):
    n = 30
    x = np.linspace(-1.2, 1.2, n)
    calls = []

    def f(t):
        calls.append(1)
        return rosen(t)

    Hs, info = nd.hessian(f, x, sparsity=_tridiag(n), method=method, full_output=True)
    sparse_calls = len(calls)
    calls.clear()
    Hd = nd.hessian(f, x, method=method)
    dense_calls = len(calls)
    assert isinstance(Hs, sp.csr_array)
    tol = 1e-3 if method == "forward" else 1e-5  # forward differences: order 1
    assert np.allclose(Hs.toarray(), Hd, atol=tol * np.abs(Hd).max())
    exact = rosen_hess(x)
    assert np.all(np.abs(Hs.toarray() - exact) <= info.error.toarray() + (exact == 0))
    calls.clear()
    nd.hessian(f, x, sparsity=_tridiag(n), method=method)
    assert len(calls) < dense_calls / 5
    per = 2
    assert len(calls) == per * (n + n - 1) + 1  # f(x) (the complex step: real?)
    assert sparse_calls > 0


def test_sparse_hessian_vector_f_and_errors():
    n = 6
    x = np.linspace(0.2, 1.0, n)

    def f(t):
        return np.array([np.sum(t**3), np.sum(np.sin(t))])

    Hs = nd.hessian(f, x, sparsity=sp.eye_array(n))
    assert len(Hs) == 2
    assert np.allclose(Hs[0].toarray(), np.diag(6 * x), atol=1e-5)
    assert np.allclose(Hs[1].toarray(), np.diag(-np.sin(x)), atol=1e-6)
    S = np.eye(n)
    S[0, 1] = 1
    with pytest.raises(ValueError, match="must be symmetric"):
        nd.hessian(rosen, x, sparsity=S)
    with pytest.raises(ValueError, match=r"must have shape \(6, 6\)"):
        nd.hessian(rosen, x, sparsity=np.eye(5))


# ---------------------------------------------------------------------------
# linear operators


def test_jacobian_linear_operator():
    rng = np.random.default_rng(5)
    x = np.array([1.0, 2.0, 3.0])
    op = nd.jacobian(testing.scilab_example, x, as_linear_operator=True)
    assert isinstance(op, LinearOperator)
    assert op.shape == (2, 3)
    assert op.nfev == 1  # f(x), for the shape
    J = testing.scilab_example_jacobian(x)
    for _ in range(3):
        v = rng.normal(size=3)
        assert np.allclose(op @ v, J @ v, rtol=1e-7)
    assert op.nfev == 1 + 3 * 2
    M = op @ np.eye(3)
    assert np.allclose(M, J, rtol=1e-7)
    # J^T v: the Jacobian formed once, by the columns of jacobian(), and kept
    w = rng.normal(size=2)
    assert np.allclose(op.rmatvec(w), J.T @ w, rtol=1e-7)
    assert op.nfev == 1 + 3 * 2 + 3 * 2 + 3 * 2  # f(x), 3 jvps, op @ eye(3), J
    assert np.allclose(op.T @ w, J.T @ w, rtol=1e-7)
    assert np.allclose(op.H @ np.eye(2), J.T, rtol=1e-7)
    assert op.nfev == 1 + 3 * 2 * 3  # cached: no more evaluations
    with pytest.raises(ValueError, match="dimension mismatch"):  # SciPy checks it
        op.rmatvec(np.ones(3))
    opc = nd.jacobian(
        testing.scilab_example, x, as_linear_operator=True, method="complex"
    )
    v = rng.normal(size=3)
    assert np.allclose(opc @ v, J @ v, rtol=1e-13)


@pytest.mark.parametrize("method", ["central", "forward", "complex"])
def test_jacobian_operator_rmatvec_equals_jacobian(method):
    x = np.array([1.0, 2.0, 3.0])
    op = nd.jacobian(testing.scilab_example, x, as_linear_operator=True, method=method)
    J = nd.jacobian(testing.scilab_example, x, method=method)
    w = np.array([0.5, -2.0])
    assert np.array_equal(op.rmatvec(w), J.T @ w)
    per_column = {"central": 2, "forward": 1, "complex": 1}[method]
    assert op.nfev == 1 + 3 * per_column
    # a complex v: the conjugate transpose
    assert np.allclose(op.rmatvec(w + 1j * w), J.T @ (w + 1j * w))


def _linear_residuals(x):
    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0], [-1.0, 0.5]])
    return A @ x - np.array([1.0, 0.0, 2.0, 1.0])


def test_jacobian_operator_with_lsqr():
    from scipy.sparse.linalg import lsqr

    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0], [-1.0, 0.5]])
    b = np.array([1.0, 0.0, 2.0, 1.0])
    op = nd.jacobian(_linear_residuals, np.zeros(2), as_linear_operator=True)
    sol = lsqr(op, b, atol=1e-14, btol=1e-14)[0]
    exact = np.linalg.lstsq(A, b, rcond=None)[0]
    np.testing.assert_allclose(sol, exact, rtol=1e-8)


@pytest.mark.parametrize("x0", [[-1.2, 1.0], [2.0, -0.5]])
def test_jacobian_operator_with_least_squares(x0):
    from scipy.optimize import least_squares

    def res(x):  # Rosenbrock's residuals: the minimum is at (1, 1)
        return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])

    def jac(x):
        return nd.jacobian(res, x, as_linear_operator=True)

    r = least_squares(res, x0, jac=jac, tr_solver="lsmr", xtol=1e-14, ftol=1e-14)
    np.testing.assert_allclose(r.x, [1.0, 1.0], rtol=1e-6)
    # and a linear problem against the exact solution
    r = least_squares(
        _linear_residuals,
        np.zeros(2),
        jac=lambda x: nd.jacobian(_linear_residuals, x, as_linear_operator=True),
        tr_solver="lsmr",
    )
    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0], [-1.0, 0.5]])
    exact = np.linalg.lstsq(A, np.array([1.0, 0.0, 2.0, 1.0]), rcond=None)[0]
    np.testing.assert_allclose(r.x, exact, rtol=1e-7)


def test_hessian_linear_operator_and_hvp_share_code():
    x = np.linspace(-1, 1, 8)
    v = np.cos(np.arange(8.0))
    op = nd.hessian(rosen, x, as_linear_operator=True)
    assert np.allclose(op @ v, rosen_hess(x) @ v, rtol=1e-5)
    assert np.array_equal(op @ v, nd.hvp(rosen, x, v, f0=rosen(x)))
    assert np.allclose(op.rmatvec(v), op @ v)
    assert np.allclose(op.T @ v, op @ v)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sparsity": np.eye(3)}, "sparsity"),
        ({"directions": np.eye(3)}, "directions"),
        ({"full_output": True}, "full_output"),
        ({"rel_step": [1e-3, 1e-3, 1e-3]}, "scalar rel_step"),
    ],
)
def test_linear_operator_refuses(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nd.jacobian(
            testing.scilab_example, [1.0, 2.0, 3.0], as_linear_operator=True, **kwargs
        )


# ---------------------------------------------------------------------------
# check_derivative


def test_check_derivative_correct_and_planted_error():
    x = np.linspace(-1, 1, 10)
    r = nd.check_derivative(
        testing.broyden_tridiagonal, testing.broyden_tridiagonal_jacobian, x
    )
    assert r.ok
    assert r.max_rel_error < 1e-10
    assert r.abs_error.shape == (10, 10)

    def wrong(t):
        J = testing.broyden_tridiagonal_jacobian(t)
        J[4, 5] += 1e-5
        return J

    r = nd.check_derivative(testing.broyden_tridiagonal, wrong, x)
    assert not r.ok
    assert r.worst == (4, 5)
    assert r.suspects[0] == (4, 5)
    assert len(r.suspects) == 1
    assert "entry (4, 5)" in str(r)


def test_check_derivative_sparse_array_gradient_and_real_only_f():
    x = np.array([0.3, -0.7, 1.1])
    r = nd.check_derivative(rosen, rosen_der(x), x)
    assert r.ok
    Js = sp.csr_array(testing.broyden_tridiagonal_jacobian(x))
    assert nd.check_derivative(testing.broyden_tridiagonal, Js, x).ok

    def f_real_only(t):  # math functions refuse complex input: central differences
        return np.array([float(np.exp(t[0])) * t[1]])

    r = nd.check_derivative(
        f_real_only, lambda t: np.array([[np.exp(t[0]) * t[1], np.exp(t[0])]]), x[:2]
    )
    assert r.ok
    with pytest.raises(
        ValueError,
        match=r"jac has shape \(2,\), but the Jacobian of f at x has shape \(1, 3\)",
    ):
        nd.check_derivative(rosen, np.ones(2), x)
