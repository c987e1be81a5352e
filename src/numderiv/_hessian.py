"""Hessian entries by polarisation of second derivatives along pair directions.

A second difference along ``d = a_i e_i + a_j e_j`` measures
``D2(d) = d^T H d = a_i^2 H_ii + 2 a_i a_j H_ij + a_j^2 H_jj``, so the mixed
entry follows from it and the two axis second derivatives.  This module is
the one place that writes that formula, its error propagation and the
rounding of the assembly; :func:`~numderiv.hessian` (dense and sparse) and
:func:`~numderiv.hvp` (with ``e_j`` replaced by ``u = v / |v|``) use it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import DTypeLike, NDArray

__all__ = ["dense_hessian", "polarise", "sparse_hessians"]


def polarise(
    pair: NDArray[Any],
    d_i: NDArray[Any],
    d_j: NDArray[Any],
    a_i: NDArray[Any] | float,
    a_j: NDArray[Any] | float,
    *,
    errors: tuple[NDArray[Any], NDArray[Any], NDArray[Any]] | None = None,
    eps: float,
) -> tuple[NDArray[Any], NDArray[Any] | None]:
    """Mixed second derivatives from second derivatives along pair directions.

    Parameters
    ----------
    pair : ndarray, shape (M, P)
        Second derivatives ``D2(a_i e_i + a_j e_j)`` along the pair directions.
    d_i, d_j : ndarray, broadcastable to (M, P)
        The second derivatives ``H_ii`` and ``H_jj`` along the two unit
        directions of each pair (already gathered per pair).
    a_i, a_j : ndarray, shape (P,), or float
        Non-zero coefficients of the pair direction; any scale, not only the
        steps of the axis differences, and either sign: at a corner of the
        bounds the pair direction ``h_i e_i - h_j e_j`` may be the one that
        points into the box, and the sign of ``2 a_i a_j`` undoes it.
    errors : tuple of three ndarrays, optional
        Error estimates ``(pair_err, err_i, err_j)`` of `pair`, `d_i` and
        `d_j`.  Without them no error is returned.
    eps : float
        Unit round-off of the arithmetic, for the rounding of the assembly.

    Returns
    -------
    off : ndarray, shape (M, P)
        ``H_ij = (pair - a_i^2 d_i - a_j^2 d_j) / (2 a_i a_j)``.
    error : ndarray, shape (M, P), or None
        Its error estimate, only with `errors`.

    Notes
    -----
    The three errors are independent, so they add with ``+`` signs, each
    scaled as its term.  The subtraction cancels when ``H_ij`` is small
    beside ``H_ii`` and ``H_jj``: its own rounding is about ``eps`` times
    the size of the terms, twice that for the operations that form them,
    ``2 eps (|pair| + a_i^2 |d_i| + a_j^2 |d_j|) / (2 a_i a_j)``, added to
    the propagated error.

    Examples
    --------
    >>> import numpy as np
    >>> H = np.array([[2.0, 0.5], [0.5, 4.0]])
    >>> d = np.array([0.3, 2.0])  # the direction 0.3 e_0 + 2 e_1
    >>> off, _ = polarise(np.array([[d @ H @ d]]), H[0, 0], H[1, 1], 0.3, 2.0, eps=0.0)
    >>> off
    array([[0.5]])
    """
    # the same denominator for the value, its error and its rounding
    den = 2 * a_i * a_j
    off = (pair - a_i**2 * d_i - a_j**2 * d_j) / den
    if errors is None:
        return off, None
    pair_err, err_i, err_j = errors
    aden = np.abs(den)
    err = (pair_err + a_i**2 * err_i + a_j**2 * err_j) / aden
    terms = np.abs(pair) + a_i**2 * np.abs(d_i) + a_j**2 * np.abs(d_j)
    return off, err + 2.0 * eps * terms / aden


def dense_hessian(
    diag: NDArray[Any],
    off: NDArray[Any],
    iu: NDArray[Any],
    ju: NDArray[Any],
    dtype: DTypeLike,
) -> NDArray[Any]:
    """Symmetric arrays (M, n, n) with `diag` on the diagonal, `off` at ``(iu, ju)``.

    `iu`, `ju` list every pair ``i < j`` once (``np.triu_indices(n, 1)``);
    `dtype` is that of the result, into which `diag` and `off` are cast.
    """
    M, n = diag.shape
    H = np.empty((M, n, n), dtype=dtype)
    ar = np.arange(n)
    H[:, ar, ar] = diag
    H[:, iu, ju] = off
    H[:, ju, iu] = off
    return H


def sparse_hessians(
    diag: NDArray[Any],
    off: NDArray[Any],
    iu: NDArray[Any],
    ju: NDArray[Any],
    S: Any,
) -> list[Any]:
    """One symmetric CSR array per row of `diag` on the structure `S`.

    Only the diagonal entries that `S` holds are stored; `off` (M, P) goes
    to the pairs ``(iu, ju)``, ``i < j``, of `S` and to their mirrors.
    """
    M, n = diag.shape
    dset = np.flatnonzero(S.diagonal())
    rows = np.concatenate([dset, iu, ju])
    cols = np.concatenate([dset, ju, iu])
    return [
        sp.csr_array(
            (np.concatenate([diag[k, dset], off[k], off[k]]), (rows, cols)),
            shape=(n, n),
        )
        for k in range(M)
    ]
