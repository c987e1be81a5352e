"""Polarisation of pair second derivatives into Hessian entries (_hessian.py)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import numderiv as nd
from numderiv._hessian import dense_hessian, polarise, sparse_hessians

EPS = float(np.finfo(float).eps)


def _quadratic_form(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    return (B + B.T) / 2


def _pair_data(A: np.ndarray, a_i: np.ndarray, a_j: np.ndarray):
    """Exact second derivatives of ``x^T A x / 2`` along axes and pair directions.

    Along ``d`` the second derivative of the quadratic form is ``d^T A d``
    whatever the point; written out for ``d = a_i e_i + a_j e_j``.
    """
    n = A.shape[0]
    iu, ju = np.triu_indices(n, 1)
    diag = np.diag(A)[None, :]
    pair = np.empty((1, iu.size))
    for p, (i, j) in enumerate(zip(iu, ju, strict=True)):
        d = np.zeros(n)
        d[i], d[j] = a_i[p], a_j[p]
        pair[0, p] = d @ A @ d
    return iu, ju, diag, pair


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e3])
def test_polarise_recovers_quadratic_form(seed, scale):
    n = 5
    A = _quadratic_form(n, seed)
    rng = np.random.default_rng(100 + seed)
    P = n * (n - 1) // 2
    # arbitrary positive coefficients, not tied to any step rule
    a_i = scale * rng.uniform(0.1, 10.0, P)
    a_j = scale * rng.uniform(0.1, 10.0, P)
    iu, ju, diag, pair = _pair_data(A, a_i, a_j)
    zero = np.zeros_like(pair)
    off, err = polarise(
        pair,
        diag[:, iu],
        diag[:, ju],
        a_i,
        a_j,
        errors=(zero, zero, zero),
        eps=EPS,
    )
    assert err is not None
    np.testing.assert_allclose(off[0], A[iu, ju], rtol=1e-10, atol=1e-12)
    # with exact inputs all that is left is the rounding, which err bounds
    assert np.all(np.abs(off[0] - A[iu, ju]) <= err[0])
    H = dense_hessian(diag, off, iu, ju, float)
    np.testing.assert_allclose(H[0], A, rtol=1e-10, atol=1e-12)
    assert np.array_equal(H[0], H[0].T)


def test_polarise_without_errors_returns_none():
    off, err = polarise(np.array([[8.0]]), 4.0, 1.0, 0.5, 2.0, eps=EPS)
    assert err is None
    # (8 - 0.25 * 4 - 4 * 1) / (2 * 0.5 * 2) = 3 / 2
    assert off[0, 0] == 1.5


def test_polarise_error_formula_by_hand():
    a_i, a_j = 0.5, 2.0  # 2 a_i a_j = 2
    pair, d_i, d_j = np.array([-8.0]), np.array([4.0]), np.array([-1.0])
    # propagated: errors add with + signs, each scaled as its term
    off, err = polarise(
        pair,
        d_i,
        d_j,
        a_i,
        a_j,
        errors=(np.array([1.0]), np.array([4.0]), np.array([0.25])),
        eps=0.0,
    )
    assert off[0] == (-8.0 - 1.0 + 4.0) / 2
    assert err is not None
    assert err[0] == (1.0 + 0.25 * 4.0 + 4.0 * 0.25) / 2
    # rounding of the assembly: 2 eps (|pair| + a_i^2 |d_i| + a_j^2 |d_j|) / (2 a_i a_j)
    z = np.zeros(1)
    _, rnd = polarise(pair, d_i, d_j, a_i, a_j, errors=(z, z, z), eps=EPS)
    assert rnd is not None
    assert rnd[0] == 2 * EPS * (8.0 + 0.25 * 4.0 + 4.0 * 1.0) / 2


def test_polarise_error_is_honest_for_perturbed_inputs():
    n = 6
    A = _quadratic_form(n, 7)
    rng = np.random.default_rng(8)
    P = n * (n - 1) // 2
    a_i, a_j = rng.uniform(0.01, 3.0, P), rng.uniform(0.01, 3.0, P)
    iu, ju, diag, pair = _pair_data(A, a_i, a_j)
    e_pair = 1e-6 * rng.uniform(0.0, 1.0, pair.shape)
    e_diag = 1e-6 * rng.uniform(0.0, 1.0, diag.shape)
    for _ in range(20):
        # inputs wrong by up to their error estimate, in either direction
        p = pair + e_pair * rng.uniform(-1, 1, pair.shape)
        d = diag + e_diag * rng.uniform(-1, 1, diag.shape)
        off, err = polarise(
            p,
            d[:, iu],
            d[:, ju],
            a_i,
            a_j,
            errors=(e_pair, e_diag[:, iu], e_diag[:, ju]),
            eps=EPS,
        )
        assert err is not None
        assert np.all(np.abs(off[0] - A[iu, ju]) <= err[0])


def test_polarise_broadcasts_one_shared_direction():
    # the hvp form: every pair shares the second direction (a scalar d_j, a_j)
    rng = np.random.default_rng(3)
    pair, d_i = rng.standard_normal(4), rng.standard_normal(4)
    a_i, a_j = rng.uniform(0.5, 2.0, 4), 0.7
    err_args = (np.full(4, 1e-3), np.full(4, 2e-3), np.full(4, 3e-3))
    got = polarise(pair, d_i, 1.5, a_i, a_j, errors=err_args, eps=EPS)
    want = polarise(
        pair,
        d_i,
        np.full(4, 1.5),
        a_i,
        np.full(4, a_j),
        errors=err_args,
        eps=EPS,
    )
    assert np.array_equal(got[0], want[0])
    assert got[1] is not None and want[1] is not None
    assert np.array_equal(got[1], want[1])


def test_sparse_layout_matches_dense_on_structure():
    n = 5
    A = _quadratic_form(n, 11)
    S = sp.csr_array(np.eye(n) + np.eye(n, k=2) + np.eye(n, k=-2))
    S[0, 0] = 0
    S.eliminate_zeros()
    coo = sp.triu(S, k=1).tocoo()
    iu, ju = coo.row.astype(np.intp), coo.col.astype(np.intp)
    diag = np.diag(A)[None, :]
    off = A[iu, ju][None, :]
    (Hs,) = sparse_hessians(diag, off, iu, ju, S)
    dense = dense_hessian(
        diag, A[np.triu_indices(n, 1)][None, :], *np.triu_indices(n, 1), float
    )
    assert Hs.nnz == S.nnz
    assert np.array_equal(Hs.toarray(), np.where(S.toarray() != 0, dense[0], 0.0))


def test_dense_layout_casts_to_dtype():
    diag = np.array([[1.0, 2.0]])
    off = np.array([[np.float64(1) / 3]])
    H = dense_hessian(diag, off, np.array([0]), np.array([1]), np.float32)
    assert H.dtype == np.float32
    assert H[0, 0, 1] == H[0, 1, 0] == np.float32(1 / 3)


def _cubic(x):
    return np.exp(x[0] * x[1]) + np.sin(x).sum() + x[2] * x[3] ** 3 + 1e4 * x[0] ** 2


def test_sparse_hessian_on_full_structure_is_the_dense_one_bit_for_bit():
    # one polarisation for both: the same differences give the same entries
    # and errors (at this point an older sum order differed in the last bit)
    x = np.array([0.55, -0.92, -1.84, -1.93])
    H, info = nd.hessian(_cubic, x, full_output=True)
    Hs, info_s = nd.hessian(_cubic, x, sparsity=np.ones((4, 4)), full_output=True)
    assert np.array_equal(Hs.toarray(), H)
    assert np.array_equal(info_s.error.toarray(), info.error)


def test_hessian_and_hvp_of_quadratic_form():
    n = 5
    A = _quadratic_form(n, 21)
    x = np.linspace(-1.0, 1.0, n)
    v = np.arange(1.0, n + 1)

    def f(z):
        return z @ A @ z / 2

    H, info = nd.hessian(f, x, full_output=True)
    np.testing.assert_allclose(H, A, atol=1e-8)
    assert np.all(np.abs(H - A) <= info.error)
    hv, info_v = nd.hvp(f, x, v, full_output=True)
    np.testing.assert_allclose(hv, A @ v, atol=1e-7)
    assert np.all(np.abs(hv - A @ v) <= info_v.error)
