"""Scilab's ``numderivative``: the same call, numbers and shapes, in Python.

>>> import numpy as np
>>> from numderiv.compat.scilab import numderivative
>>> def f(x):
...     return np.array([np.sin(x[0] * x[1]) + np.exp(x[1] * x[2] + x[0]),
...                      np.sum(x**3)])
>>> J, H = numderivative(f, [1.0, 2.0, 3.0], hessian=True)
>>> J.shape, H.shape
((2, 3), (2, 9))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._evaluate import Evaluator
from ._plain import directions, plain_differences

__all__ = ["numderivative"]

_EPS = float(np.finfo(np.float64).eps)

# Scilab's default relative steps, by derivative (1: Jacobian, 2: Hessian) and
# order: each balances truncation ``h^p`` against round-off ``eps / h^d`` of
# the composed formula.
_HDEF = {
    1: {1: _EPS ** (1 / 2), 2: _EPS ** (1 / 3), 4: _EPS ** (1 / 5)},
    2: {1: _EPS ** (1 / 3), 2: _EPS ** (1 / 4), 4: _EPS ** (1 / 6)},
}
_H_FORMS = ("default", "blockmat", "hypermat")


def _default_step(x: NDArray[Any], order: int, deriv: int) -> NDArray[Any]:
    """``hdef |x|``, and ``hdef`` where ``x == 0`` (Scilab's ``numderivative_step``)."""
    hdef = _HDEF[deriv][order]
    return np.where(x == 0, hdef, hdef * np.abs(x))


def _split_f(f: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """``f`` or Scilab's ``list(fun, a1, a2, ...)`` as a tuple."""
    if isinstance(f, (tuple, list)):
        if len(f) < 2:
            raise ValueError(
                "f given as a tuple (fun, a1, a2, ...) needs at least 2 elements, "
                f"got {len(f)}"
            )
        fun, extra = f[0], tuple(f[1:])
        if not callable(fun):
            raise TypeError(
                f"the first element of the tuple f must be a function, got {fun!r}"
            )
        return fun, extra
    if not callable(f):
        raise TypeError(f"f must be a function or a tuple (fun, a1, ...), got {f!r}")
    return f, ()


def _check_x(x: Any) -> tuple[NDArray[np.float64], tuple[int, ...]]:
    """x as a float vector, and the shape in which f receives it."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"x must be a real vector, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim > 2 or (arr.ndim == 2 and 1 not in arr.shape):
        raise ValueError(
            f"x must be a vector (n-by-1 or 1-by-n), got shape {arr.shape}"
        )
    flat = arr.reshape(-1)
    if flat.size == 0:
        raise ValueError("x must have at least one component, got an empty array")
    # Scilab hands f a column vector; a 1-D (or scalar) x stays 1-D here
    shape = (flat.size, 1) if arr.ndim == 2 else (flat.size,)
    return flat, shape


def _real_matrix(value: Any, name: str) -> NDArray[np.float64]:
    """A real (boolean, integer or float) array, or a TypeError naming `name`.

    Scilab's "Wrong type for argument: Matrix expected" (e.g. for ``""``).
    """
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged nested sequences
        arr = np.asarray(None, dtype=object)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be a real scalar, vector or matrix (None for the "
            f"default), got {value!r}"
        )
    return arr.astype(np.float64)


def _check_h(h: Any, n: int) -> NDArray[np.float64] | None:
    if h is None:
        return None
    arr = _real_matrix(h, "h")
    if arr.size == 0:
        return None
    if arr.size != 1:
        if arr.ndim > 2 or (arr.ndim == 2 and 1 not in arr.shape):
            raise ValueError(f"h must be a scalar or a vector, got shape {arr.shape}")
        if arr.size != n:
            raise ValueError(
                f"h must be a scalar or have one step per component of x ({n}), "
                f"got {arr.size} values"
            )
    if np.any(arr < 0) or np.any(np.isnan(arr)):
        raise ValueError(f"h must be >= 0, got {h!r}")
    return np.broadcast_to(arr.reshape(-1), (n,)).astype(np.float64)


def _check_order(order: Any) -> int:
    if order is None:
        return 2
    if isinstance(order, bool) or np.ndim(order) != 0:
        raise ValueError(f"order must be 1, 2 or 4, got {order!r}")
    try:
        val = float(order)
    except (TypeError, ValueError):
        raise TypeError(f"order must be a number (1, 2 or 4), got {order!r}") from None
    if val not in (1.0, 2.0, 4.0):
        raise ValueError(f"order must be 1, 2 or 4, got {order!r}")
    return int(val)


def _check_q(Q: Any, n: int) -> NDArray[np.float64] | None:
    if Q is None:
        return None
    arr = _real_matrix(Q, "Q")
    if arr.size == 0:
        return None
    if arr.shape != (n, n):
        raise ValueError(f"Q must be a {n}-by-{n} matrix, got shape {arr.shape}")
    dev = arr @ arr.T - np.eye(n)
    # Scilab's test: norm(clean(Q*Q' - I)) > 0, clean() zeroing below 1e-10
    if np.any(np.abs(dev) >= 1e-10) or not np.all(np.isfinite(arr)):
        raise ValueError(
            f"Q must be orthogonal: max |Q Q^T - I| = {np.max(np.abs(dev)):.3g}"
        )
    return arr


class _Fun:
    """f with Scilab's calling convention: ``f(x, a1, ...)``, values as a vector."""

    def __init__(
        self, fun: Callable[..., Any], extra: tuple[Any, ...], shape: tuple[int, ...]
    ) -> None:
        self.fun, self.extra, self.shape = fun, extra, shape

    def __call__(self, x: NDArray[Any]) -> NDArray[Any]:
        return np.ravel(np.asarray(self.fun(x.reshape(self.shape), *self.extra)))


def _jacobian(
    fun: Callable[[NDArray[Any]], NDArray[Any]],
    x: NDArray[np.float64],
    h: NDArray[np.float64],
    order: int,
    Q: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """Scilab's Jacobian: one stencil per direction ``Q[:, i]`` with step ``h[i]``.

    Order 1 is the forward difference (``n + 1`` evaluations), order 2 the
    central one (``2n``), order 4 Richardson's ``(4 D(h) - D(2h)) / 3`` over
    central differences, which is the central five-point stencil (``4n``).
    """
    n = x.size
    method, kind = ("forward", "forward") if order == 1 else ("central", "central")
    dirs = directions(n, Q)
    with Evaluator(fun) as ev:
        if order == 4:
            # Scilab's own sequence of operations, not the five-point
            # stencil's weights (equal in exact arithmetic): the central
            # differences dFh = (f(x+h) - f(x-h)) / 2h and dF2h with 2h,
            # then (4 dFh - dF2h) / 3.  Its round-off is Scilab's: the
            # Hessian of x^2 at 1 to 9.4e-12, not 1.3e-11 (numderivative.tst
            # case 1.8 asks for 1e-11).
            dFh = plain_differences(ev, x, dirs, h, "central", "central", 2)
            dF2h = plain_differences(ev, x, dirs, 2 * h, "central", "central", 2)
            with np.errstate(all="ignore"):
                D = (4 * np.asarray(dFh) - np.asarray(dF2h)) / 3
        else:
            D = plain_differences(ev, x, dirs, h, kind, method, order)
        if ev.shape is not None and len(ev.shape) > 1:  # pragma: no cover - raveled
            raise ValueError(f"f must return a vector, got shape {ev.shape}")
    D = np.asarray(D, dtype=np.float64)
    return D if Q is None else D @ Q.T


class _Gradients:
    """``x -> vec(J(x)^T)``: the m gradients stacked, Scilab's inner function."""

    def __init__(
        self,
        fun: Callable[[NDArray[Any]], NDArray[Any]],
        h: NDArray[np.float64],
        order: int,
        Q: NDArray[np.float64] | None,
    ) -> None:
        self.fun, self.h, self.order, self.Q = fun, h, order, Q

    def __call__(self, x: NDArray[Any]) -> NDArray[Any]:
        return _jacobian(self.fun, x, self.h, self.order, self.Q).reshape(-1)


def numderivative(
    f: Any,
    x: ArrayLike,
    h: ArrayLike | None = None,
    order: int | None = None,
    H_form: str | None = None,
    Q: ArrayLike | None = None,
    *,
    hessian: bool = False,
) -> Any:
    """Scilab's ``numderivative``: Jacobian and Hessian by finite differences.

    The same arguments, defaults, formulas, steps and output shapes as
    Scilab's function; ``None`` stands for Scilab's ``[]``.

    Parameters
    ----------
    f : callable or tuple
        ``f(x)`` returning a scalar or a vector of ``m`` values, or a tuple
        ``(fun, a1, a2, ...)`` (Scilab's ``list``) for ``fun(x, a1, a2,
        ...)``.  ``x`` is passed as a 1-D array, or as an ``n``-by-1 column
        when the `x` given here is 2-D (Scilab always passes a column).
    x : array_like
        The point: a scalar, a 1-D array, or an ``n``-by-1 or ``1``-by-``n``
        matrix.
    h : float or array_like, optional
        Step, scalar or one per component (``>= 0``).  Default: Scilab's
        ``hdef * |x|`` (``hdef`` where ``x == 0``), with ``hdef`` equal to
        ``eps^(1/2)``, ``eps^(1/3)``, ``eps^(1/5)`` for the Jacobian and
        ``eps^(1/3)``, ``eps^(1/4)``, ``eps^(1/6)`` for the Hessian at orders
        1, 2, 4.
    order : {1, 2, 4}, optional
        Order of the formula (default 2).
    H_form : {"default", "blockmat", "hypermat"}, optional
        Shape of the Hessian; giving it also asks for the Hessian.
    Q : array_like, shape (n, n), optional
        Orthogonal matrix whose columns are the differencing directions.
    hessian : bool, optional
        Also return the Hessian (Scilab's ``[J, H] = numderivative(...)``).

    Returns
    -------
    J : ndarray, shape (m, n)
        ``J[k, :]`` approximates the gradient of ``f_k``.
    H : ndarray
        With ``hessian=True`` or `H_form`: ``"default"`` ``(m, n*n)`` with
        ``H[k, :] == Hk.ravel()``; ``"blockmat"`` ``(m*n, n)`` stacking the
        ``Hk``; ``"hypermat"`` ``(n, n)`` when ``m == 1``, else ``(n, n, m)``
        with ``H[:, :, k] == Hk.T`` (Scilab's column-major layout).

    Raises
    ------
    ValueError, TypeError
        For a bad argument, naming it and the value received.

    Notes
    -----
    The Jacobian costs ``n + 1``, ``2n`` and ``4n`` evaluations at orders 1,
    2, 4.  The Hessian is Scilab's: the finite-difference Jacobian (same
    order, steps and directions) of the finite-difference gradients, so it
    costs ``(n + 1)^2``, ``4 n^2`` and ``16 n^2`` more.  Without `Q` its
    upper triangle is copied from the lower one, as Scilab does.  Steps are
    used as given (not rounded to what ``x + h`` represents), again as in
    Scilab.  For more accuracy with fewer evaluations use
    :func:`numderiv.jacobian` and :func:`numderiv.hessian`.

    Examples
    --------
    >>> import numpy as np
    >>> from numderiv.compat.scilab import numderivative
    >>> def f(x):
    ...     return np.array([np.sin(x[0] * x[1]) + np.exp(x[1] * x[2] + x[0]),
    ...                      np.sum(x**3)])
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> numderivative(f, x)[1].round(6)
    array([ 3., 12., 27.])
    >>> J, H = numderivative(f, x, None, None, "hypermat")
    >>> H.shape
    (3, 3, 2)
    >>> H[:, :, 1].round(4)
    array([[ 6.,  0.,  0.],
           [ 0., 12.,  0.],
           [ 0.,  0., 18.]])
    >>> numderivative(np.sqrt, 1.0, 1e-1, 1)
    array([[0.48808848]])
    """
    fun, extra = _split_f(f)
    xv, xshape = _check_x(x)
    n = xv.size
    hv = _check_h(h, n)
    order_ = _check_order(order)
    if H_form is not None:
        if not isinstance(H_form, str) or H_form not in _H_FORMS:
            raise ValueError(f"H_form must be one of {_H_FORMS}, got {H_form!r}")
        hessian = True
    form = "default" if H_form is None else H_form
    Qm = _check_q(Q, n)
    if not isinstance(hessian, (bool, np.bool_)):
        raise TypeError(f"hessian must be True or False, got {hessian!r}")

    g = _Fun(fun, extra, xshape)
    hJ = _default_step(xv, order_, 1) if hv is None else hv
    J = _jacobian(g, xv, hJ, order_, Qm)
    if not hessian:
        return J
    m = J.shape[0]
    hH = _default_step(xv, order_, 2) if hv is None else hv
    # the Jacobian of the stacked gradients: Hb[k, r, c] = d(dfk/dx_r)/dx_c
    Hb = _jacobian(_Gradients(g, hH, order_, Qm), xv, hH, order_, Qm)
    Hb = Hb.reshape(m, n, n)
    if Qm is None:
        # Scilab computes the lower triangle and mirrors it
        low = np.tril(Hb)
        Hb = low + np.transpose(np.tril(Hb, -1), (0, 2, 1))
    if form == "blockmat":
        return J, Hb.reshape(m * n, n)
    if form == "hypermat":
        return J, (Hb[0] if m == 1 else np.transpose(Hb, (2, 1, 0)).copy())
    return J, Hb.reshape(m, n * n)
