"""Derivatives of callables: derivative, gradient, jacobian, hessian, jvp, hvp."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._adaptive import AdaptiveOutcome, run_directions, sensitivity_gain
from ._adaptive import steps as _steps_for
from ._arrays import on_device
from ._core import (
    Directions,
    Elements,
    KnownF0Evaluator,
    Outcome,
    Points,
    orient_pairs,
    refuse_no_room,
    safe_norm,
)
from ._evaluate import Evaluator
from ._hessian import dense_hessian, polarise, sparse_hessians
from ._result import STATUS_MESSAGES, Info
from ._structured import (
    hessian_structure,
    linear_operator,
    parse_sparsity,
    sparse_hessian_parts,
    sparse_jacobian,
)
from ._validate import (
    Common,
    check_callable,
    check_common,
    check_directions,
    check_flag,
    check_vector_v,
)

__all__ = ["derivative", "gradient", "hessian", "hvp", "jacobian", "jvp"]


def _evaluator(f: Callable[..., Any], c: Common, name: str) -> Evaluator:
    if c.f0 is not None:
        return KnownF0Evaluator.for_options(f, c, name)
    return Evaluator.for_options(f, c, name)


def _info(ev: Evaluator, c: Common, out: Outcome, error: Any, step: Any) -> Info:
    extra: dict[str, Any] = {}
    if isinstance(out, AdaptiveOutcome):
        # levels of the ladder per direction and the noise of f assumed
        extra["levels"] = out.levels
        extra["noise"] = out.noise
    return Info(
        nfev=ev.nfev,
        ncalls=ev.ncalls,
        error=error,
        step=step,
        method=c.method,
        order=c.order,
        status=out.status,
        message=STATUS_MESSAGES[out.status],
        extra=extra,
    )


def _learn_f0(ev: Evaluator, c: Common) -> None:
    if c.f0 is not None and isinstance(ev, KnownF0Evaluator):
        ev.learn_f0(c.f0)


def _along(x: NDArray[Any], Q: NDArray[Any] | None) -> NDArray[Any]:
    """The size of ``x`` along each differencing direction, for the steps.

    ``x`` itself for the coordinate axes; along the columns ``q_j`` of
    ``directions``, ``sum_k |q_kj| |x_k|``, which is ``|x_j|`` when ``Q = I``.
    """
    if Q is None:
        return x
    return (np.abs(Q).T @ np.abs(x)).astype(x.dtype)


def _vector_output(ev: Evaluator, name: str) -> None:
    assert ev.shape is not None
    if len(ev.shape) > 1:
        raise ValueError(
            f"{name}() needs f to return a scalar or a 1-D array, got shape {ev.shape}"
        )


_OPTIONS = (
    "method",
    "order",
    "rel_step",
    "abs_step",
    "bounds",
    "f0",
    "args",
    "kwargs",
    "vectorized",
    "workers",
    "chunk_size",
    "progress",
    "timeout",
    "full_output",
    "tolerances",
    "maxiter",
    "initial_step",
    "step_factor",
    "noise",
)


def _common(
    x: Any, deriv: int, given: dict[str, Any], *, vector: bool = True
) -> Common:
    """Check the options shared by every entry point (taken from its locals)."""
    return check_common(
        x, deriv=deriv, vector=vector, **{k: given[k] for k in _OPTIONS}
    )


_DOC_OPTIONS = """
    method : {"central", "forward", "backward", "complex", "adaptive"}, optional
        Difference scheme.  ``"complex"`` is the complex step: `f` must accept
        complex input and be real for real input.  ``"adaptive"`` is
        Richardson extrapolation over a geometric ladder of steps that
        searches, per component, for the steps that fit `f` and stops per
        entry at its tolerances: the most accurate, at about 10–16
        evaluations per component (see the Accuracy guide).
    order : int, optional
        Accuracy order: even for ``"central"``/``"complex"`` (default 2), any
        positive for ``"forward"``/``"backward"`` (default 1).  Not used by
        ``"adaptive"``, which raises the order by extrapolation.
    rel_step, abs_step : float or array_like, optional
        Step per component: ``rel_step * max(1, |x|)`` or ``abs_step``.  The
        default balances truncation and round-off error (see Notes).
    bounds : (lb, ub), optional
        ``f`` is never evaluated outside; near a bound the stencil turns
        one-sided with the same accuracy order.
    f0 : array_like, optional
        ``f(x)`` if already known; saves an evaluation where a stencil uses it.
    args, kwargs : tuple and dict, optional
        Extra arguments: ``f(x, *args, **kwargs)``.
    workers : None, int, map-like callable, Executor or dask Client, optional
        Spread the evaluations: an int starts a process pool for this call
        (``-1`` = all cores); ``workers(func, iterable)``-style callables,
        :class:`concurrent.futures.Executor` and ``dask.distributed.Client``
        are used as given.  Results equal the serial ones.
    chunk_size : int, optional
        Most points per vectorized call (or per task for workers).
    progress : bool, optional
        Show a progress bar (needs ``tqdm``).
    timeout : float, optional
        With `workers` an int, an Executor or a dask Client: the most seconds
        to wait for the next result from the workers.  On expiry a
        :class:`TimeoutError` names the points not evaluated; a process pool
        started for the call is stopped, tasks not started are cancelled
        (a thread cannot be stopped: a running ``f`` finishes in the
        background).  Not accepted without such workers: a serial or
        map-like call cannot be interrupted cleanly.
    full_output : bool, optional
        Also return an :class:`~numderiv.Info` with ``nfev``, ``ncalls``,
        ``error``, ``step``, ``status``.  For the fixed stencils the error
        estimate costs the same stencil again at half the step; for
        ``"adaptive"`` it comes from the extrapolation table at no cost.
        Without it, entries that cannot be trusted (``status < 0``) are NaN.
    tolerances : dict, optional
        ``"adaptive"`` only: ``{"atol": a, "rtol": r}``; an entry is done when
        its error estimate is below ``a + r |value|`` (defaults ``a = 0``,
        ``r = eps**0.75``, about ``1.8e-12`` in float64).
    maxiter : int, optional
        ``"adaptive"`` only: the most levels of the ladder per component
        (default 30; each costs two evaluations, one when one-sided).
    initial_step : float, optional
        ``"adaptive"`` only: the first step, relative to ``max(1, |x|)``
        (default 0.5 for first derivatives, 1 for second, 2 above).
    step_factor : float, optional
        ``"adaptive"`` only: the ratio of successive steps (default 2 for
        first derivatives, 1.5 for higher ones).
    noise : float or array_like, optional
        ``"adaptive"`` only: the absolute noise of the values of `f` (per
        output), when known, e.g. from :func:`~numderiv.noise_level`; it
        enters the round-off part of the error, so the ladder stops before
        the noise dominates.  Default: a few ulps of ``|f|``."""


@on_device
def jacobian(
    f: Callable[..., Any],
    x: ArrayLike,
    *,
    method: str = "central",
    order: int | None = None,
    rel_step: ArrayLike | None = None,
    abs_step: ArrayLike | None = None,
    bounds: tuple[ArrayLike, ArrayLike] | None = None,
    directions: ArrayLike | None = None,
    f0: ArrayLike | None = None,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    vectorized: bool = False,
    workers: Any = None,
    chunk_size: int | None = None,
    progress: bool = False,
    timeout: float | None = None,
    full_output: bool = False,
    tolerances: dict[str, float] | None = None,
    maxiter: int | None = None,
    initial_step: float | None = None,
    step_factor: float | None = None,
    noise: ArrayLike | None = None,
    sparsity: Any = None,
    as_linear_operator: bool = False,
) -> Any:
    """Jacobian of ``f: R^n -> R^m`` by finite differences.

    Parameters
    ----------
    f : callable
        ``f(x, *args, **kwargs)`` with ``x`` of shape ``(n,)``, returning a
        scalar or shape ``(m,)``.  With ``vectorized=True``, ``x`` has shape
        ``(n, k)`` (one point per column) and ``f`` returns ``(m, k)`` or
        ``(k,)``.
    x : array_like, shape (n,) or scalar
        The point.
    directions : array_like, shape (n, n), optional
        Orthogonal matrix ``Q`` whose columns are the differencing directions;
        the Jacobian is still returned in the canonical basis (``J = D Q^T``).
        Steps along column ``q_j`` scale with ``sum_k |q_kj| |x_k|`` (which is
        ``|x_j|`` for ``Q = I``).
    vectorized : bool, optional
        Whether ``f`` takes many points at once (the fast path: all points of
        a stencil go in one call, at most `chunk_size` at a time).
    {options}
    sparsity : array_like, SciPy sparse or (structure, groups), optional
        Structure of the Jacobian, shape ``(m, n)`` (non-zero where ``J`` may
        be non-zero), optionally with column groups (see
        :func:`~numderiv.color_columns`, which is used when they are not
        given).  Columns of a group share one evaluation per stencil point;
        the result is a :class:`scipy.sparse.csr_array` holding exactly the
        structure's non-zeros.  Nothing of size ``n x n`` is formed.
    as_linear_operator : bool, optional
        Return a :class:`scipy.sparse.linalg.LinearOperator` whose ``matvec``
        is :func:`~numderiv.jvp`; it counts its evaluations in ``nfev``.

    Returns
    -------
    J : ndarray, shape (m, n), csr_array, or LinearOperator
        Always 2-D; a scalar ``f`` gives ``(1, n)``.  A CSR array with
        `sparsity`, an operator with `as_linear_operator`.
    info : Info
        Only with ``full_output=True``.

    Raises
    ------
    ValueError, TypeError
        For a bad argument, naming it and the value received; or when ``f``
        returns a different shape at different points.

    Notes
    -----
    The central difference of order ``p`` costs ``p n`` evaluations, the
    forward one ``p n + 1`` (``p n`` with `f0`); ``f(x)`` is evaluated only
    where a stencil uses it.  The default step is ``c * max(1, |x_j|)``, with
    ``c`` minimising the truncation error ``|C K| h^p`` plus the round-off
    error ``eps G / h`` (``C`` the stencil's error constant, ``G = sum |w_k|``,
    ``K`` a model of the size of the derivative in the error term; see
    :func:`numderiv._steps.default_rel_step`), rounded to a power of two so
    that ``x + k h`` is exact: ``2^-18 = 3.8e-6`` for central order 2 and
    ``2^-26 = 1.5e-8`` for forward order 1 (float64).  ``eps`` is that of the dtype of `x`
    (float32 keeps float32).  Where ``f`` is NaN or infinite on one side of ``x_j``, the
    column is recomputed with a one-sided stencil on the other side.

    Examples
    --------
    Scilab's example, ``f(x) = [sin(x1 x2) + exp(x2 x3 + x1), sum(x^3)]``:

    >>> import numpy as np
    >>> import numderiv as nd
    >>> def f(x):
    ...     return np.array([np.sin(x[0] * x[1]) + np.exp(x[1] * x[2] + x[0]),
    ...                      np.sum(x**3)])
    >>> J = nd.jacobian(f, [1.0, 2.0, 3.0])
    >>> J.shape
    (2, 3)
    >>> J[1].round(8)
    array([ 3., 12., 27.])
    >>> round(float(J[0, 0]), 4)  # exact: 2 cos(2) + exp(7) = 1095.80087...
    1095.8009
    >>> J, info = nd.jacobian(f, [1.0, 2.0, 3.0], method="complex", full_output=True)
    >>> info.nfev, bool(np.all(info.error < 1e-9 * abs(J).max()))
    (7, True)
    """
    check_callable(f)
    c = _common(x, 1, locals())
    Q = check_directions(directions, c.x.size, c.x.dtype)
    if check_flag(as_linear_operator, "as_linear_operator"):
        _refuse_with_operator(
            sparsity=sparsity, directions=directions, full_output=full_output
        )
        for name, st in (("rel_step", rel_step), ("abs_step", abs_step)):
            if st is not None and np.ndim(st) != 0:
                raise ValueError(
                    f"as_linear_operator=True takes a scalar {name} (the step along v), got {st!r}"
                )
        return linear_operator(f, c, _jvp_core, hessian=False)
    if sparsity is not None:
        if Q is not None:
            raise ValueError("sparsity and directions cannot be combined")
        S, groups = parse_sparsity(sparsity, c.x.size)
        with _evaluator(f, c, "jacobian") as ev:
            _learn_f0(ev, c)
            Js, out, err, h, ngroups = sparse_jacobian(ev, c, S, groups)
        if c.full_output:
            info = _info(ev, c, out, err, h)
            info.extra["ngroups"] = ngroups
            return Js, info
        return Js
    J, info = _jacobian(f, c, Q, "jacobian")
    return (J, info) if c.full_output else J


def _jacobian(
    f: Callable[..., Any], c: Common, Q: NDArray[Any] | None, name: str
) -> tuple[NDArray[Any], Info]:
    x = c.x
    n = x.size
    with _evaluator(f, c, name) as ev:
        _learn_f0(ev, c)
        if Q is None:
            dirs = Directions.axes(n)
        else:
            dirs = Directions(n, np.arange(n) + n, np.ones(n), extra=Q)
        h = _steps_for(c, _along(x, Q), 1)
        tr = dirs.trange(x, c.lb, c.ub) if c.bounded else None  # type: ignore[arg-type]
        if tr is not None and Q is not None:
            refuse_no_room(tr, "directions column", x, c.lb, c.ub)
        out = run_directions(Points(ev, x, dirs, c.f0), h, c, 1, trange=tr)
        _vector_output(ev, "jacobian")
    J = out.value
    err = out.error
    if Q is not None:
        J = J @ Q.T
        if err is not None:
            err = err @ np.abs(Q).T
    if err is not None:
        sens = np.abs(J) @ np.abs(x)
        gain = sensitivity_gain(c, 1)
        err = err + np.divide.outer(gain * sens, out.step)
    return J, _info(ev, c, out, err, out.step)


@on_device
def gradient(
    f: Callable[..., Any],
    x: ArrayLike,
    *,
    method: str = "central",
    order: int | None = None,
    rel_step: ArrayLike | None = None,
    abs_step: ArrayLike | None = None,
    bounds: tuple[ArrayLike, ArrayLike] | None = None,
    directions: ArrayLike | None = None,
    f0: ArrayLike | None = None,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    vectorized: bool = False,
    workers: Any = None,
    chunk_size: int | None = None,
    progress: bool = False,
    timeout: float | None = None,
    full_output: bool = False,
    tolerances: dict[str, float] | None = None,
    maxiter: int | None = None,
    initial_step: float | None = None,
    step_factor: float | None = None,
    noise: ArrayLike | None = None,
) -> Any:
    """Gradient of a scalar function ``f: R^n -> R``.

    Same options and costs as :func:`jacobian`, of which it is the single
    row.

    Parameters
    ----------
    f : callable
        ``f(x, *args, **kwargs)`` returning a scalar (or shape ``(1,)``).
    x : array_like, shape (n,)
        The point.
    directions : array_like, shape (n, n), optional
        Orthogonal matrix of differencing directions (see :func:`jacobian`).
    vectorized : bool, optional
        ``f`` takes ``(n, k)`` and returns ``(k,)``.
    {options}

    Returns
    -------
    g : ndarray, shape (n,)
    info : Info
        Only with ``full_output=True``.

    Examples
    --------
    >>> import numpy as np
    >>> import numderiv as nd
    >>> from scipy.optimize import rosen, rosen_der
    >>> x = np.array([0.5, 1.5, -0.3])
    >>> g = nd.gradient(rosen, x)
    >>> bool(np.allclose(g, rosen_der(x), rtol=1e-8))
    True
    """
    check_callable(f)
    c = _common(x, 1, locals())
    Q = check_directions(directions, c.x.size, c.x.dtype)
    J, info = _jacobian(f, c, Q, "gradient")
    if J.shape[0] != 1:
        raise ValueError(
            f"gradient() needs a scalar f, but f returned {J.shape[0]} values; use jacobian()"
        )
    if c.full_output:
        err = None if info.error is None else info.error[0]
        return J[0], Info(**{**info.__dict__, "error": err})
    return J[0]


@on_device
def hessian(
    f: Callable[..., Any],
    x: ArrayLike,
    *,
    method: str = "central",
    order: int | None = None,
    rel_step: ArrayLike | None = None,
    abs_step: ArrayLike | None = None,
    bounds: tuple[ArrayLike, ArrayLike] | None = None,
    directions: ArrayLike | None = None,
    f0: ArrayLike | None = None,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    vectorized: bool = False,
    workers: Any = None,
    chunk_size: int | None = None,
    progress: bool = False,
    timeout: float | None = None,
    full_output: bool = False,
    tolerances: dict[str, float] | None = None,
    maxiter: int | None = None,
    initial_step: float | None = None,
    step_factor: float | None = None,
    noise: ArrayLike | None = None,
    sparsity: Any = None,
    as_linear_operator: bool = False,
) -> Any:
    """Hessian by dedicated second-difference formulas (symmetric by construction).

    Parameters
    ----------
    f : callable
        ``f(x, *args, **kwargs)`` returning a scalar or shape ``(m,)``.
    x : array_like, shape (n,)
        The point.
    directions : array_like, shape (n, n), optional
        Orthogonal matrix ``Q`` of differencing directions; the Hessian is
        returned in the canonical basis (``H = Q H_Q Q^T``).
    vectorized : bool, optional
        ``f`` takes ``(n, k)`` and returns ``(m, k)`` or ``(k,)``.
    {options}
    sparsity : array_like or SciPy sparse, shape (n, n), optional
        Symmetric structure of the Hessian.  Only its non-zeros are
        differenced: ``2 (n + p) + 1`` evaluations for central order 2 with
        ``p`` off-diagonal non-zeros above the diagonal, instead of
        ``n^2 + n + 1``.  Returns a :class:`scipy.sparse.csr_array` (a list
        of them for a vector `f`).
    as_linear_operator : bool, optional
        Return a symmetric :class:`scipy.sparse.linalg.LinearOperator` whose
        ``matvec`` is :func:`~numderiv.hvp` (scalar `f`).

    Returns
    -------
    H : ndarray, shape (n, n), or (m, n, n) for a vector `f`
    info : Info
        Only with ``full_output=True``.

    Notes
    -----
    Never a Jacobian of a Jacobian.  The diagonal is the second derivative
    along each axis; the entry ``(i, j)`` comes from the second derivative
    along ``h_i e_i + h_j e_j``::

        H_ij = (D2(h_i e_i + h_j e_j) - h_i^2 H_ii - h_j^2 H_jj) / (2 h_i h_j)

    with the same one-dimensional second-difference stencil.  For central
    order 2 the diagonal takes ``2n`` points plus ``f(x)`` and each pair two
    more, ``n^2 + n + 1`` evaluations in all (the four-point cross formula
    takes ``2n^2 + 1``); each pair is computed once, so ``H`` is exactly
    symmetric.  The complex step uses ``Im f(x + (k + i) h u)`` along the
    same directions, ``n^2 + n`` evaluations and ``f(x)``, which must be real.

    With `sparsity`, only the pairs of the structure are differenced.  One
    evaluation of a scalar ``f`` gives one number, so no grouping of columns
    can take fewer evaluations than there are unknown entries; the
    symmetric colourings of the literature (star colouring, substitution)
    compress differences of *gradients*: with an analytic gradient ``g``,
    ``nd.jacobian(g, x, sparsity=S)`` takes one evaluation of ``g`` per
    colour and point.  The truncation error is
    ``O(h^order)``; the default step balances it with round-off as for
    :func:`jacobian`, for a second derivative (``2^-13 = 1.2e-4`` relative for
    central order 2).  With ``full_output=True`` the same directions are
    differenced again at half the step for the error estimate, about twice
    the evaluations.

    Examples
    --------
    >>> import numpy as np
    >>> import numderiv as nd
    >>> from scipy.optimize import rosen, rosen_hess
    >>> x = np.array([0.5, 1.5, -0.3])
    >>> H, info = nd.hessian(rosen, x, full_output=True)
    >>> bool(np.allclose(H, rosen_hess(x), rtol=1e-6)), info.nfev
    (True, 25)
    >>> H = nd.hessian(rosen, x, f0=rosen(x))  # n^2 + n points: 12 here
    """
    check_callable(f)
    c = _common(x, 2, locals())
    Q = check_directions(directions, c.x.size, c.x.dtype)
    x = c.x
    n = x.size
    if check_flag(as_linear_operator, "as_linear_operator"):
        _refuse_with_operator(
            sparsity=sparsity, directions=directions, full_output=full_output
        )
        return linear_operator(f, c, _hvp_core, hessian=True)
    S = None
    if sparsity is not None:
        if Q is not None:
            raise ValueError("sparsity and directions cannot be combined")
        S = hessian_structure(sparsity, n)
        iu, ju = sparse_hessian_parts(S)
    else:
        iu, ju = np.triu_indices(n, 1)
    h = _steps_for(c, _along(x, Q), 2)
    P = iu.size
    idx = np.empty((n + P, 2), dtype=np.intp)
    val = np.empty((n + P, 2), dtype=h.dtype)
    idx[:n, 0] = idx[:n, 1] = np.arange(n)
    val[:n, 0], val[:n, 1] = 1, 0
    idx[n:, 0], idx[n:, 1] = iu, ju
    val[n:, 0], val[n:, 1] = h[iu], h[ju]
    if Q is not None:
        idx += n
    dirs = Directions(n, idx, val, extra=Q)
    tr = None
    if c.bounded:  # pairs turned into the box at a corner
        dirs, tr = orient_pairs(x, c.lb, c.ub, idx, val, Q, np.arange(n, n + P))  # type: ignore[arg-type]
        if Q is not None:
            refuse_no_room((tr[0][:n], tr[1][:n]), "directions column", x, c.lb, c.ub)
    hdir = np.concatenate([h, np.ones(P, dtype=h.dtype)])
    with _evaluator(f, c, "hessian") as ev:
        _learn_f0(ev, c)
        out = run_directions(Points(ev, x, dirs, c.f0), hdir, c, 2, trange=tr)
        _vector_output(ev, "hessian")
        scalar = ev.shape == ()
    D, E = out.value, out.error
    # H_ij from the second derivatives along e_i, e_j and h_i e_i + h_j e_j
    off, off_err = polarise(
        D[:, n:],
        D[:, iu],
        D[:, ju],
        h[iu],
        val[n:, 1],
        errors=None if E is None else (E[:, n:], E[:, iu], E[:, ju]),
        eps=c.eps,
    )
    if S is not None:
        Hs = sparse_hessians(D[:, :n], off, iu, ju, S)
        errs = (
            None
            if E is None or off_err is None
            else sparse_hessians(E[:, :n], off_err, iu, ju, S)
        )
        Hout: Any = Hs[0] if scalar else Hs
        eout: Any = None if errs is None else (errs[0] if scalar else errs)
        if c.full_output:
            return Hout, _info(ev, c, out, eout, out.step[:n])
        return Hout
    H = dense_hessian(D[:, :n], off, iu, ju, D.dtype)
    err = None
    if E is not None and off_err is not None:
        err = dense_hessian(E[:, :n], off_err, iu, ju, np.float64)
    if Q is not None:
        # Q H_Q Q^T is symmetric only up to rounding: symmetrised, so that the
        # Hessian is exactly symmetric with directions too
        H = Q @ H @ Q.T
        H = 0.5 * (H + np.swapaxes(H, -1, -2))
        if err is not None:
            aq = np.abs(Q)
            err = aq @ err @ aq.T
            err = 0.5 * (err + np.swapaxes(err, -1, -2))
    if scalar:
        H = H[0]
        err = None if err is None else err[0]
    if c.full_output:
        return H, _info(ev, c, out, err, out.step[:n])
    return H


def _refuse_with_operator(**opts: Any) -> None:
    """Options a linear operator cannot honour: a clear error naming them."""
    for name, val in opts.items():
        if val is not None and val is not False:
            raise ValueError(
                f"as_linear_operator=True cannot be combined with {name}={val!r}: the "
                "operator computes products J @ v (or H @ v) one at a time"
            )


@on_device
def derivative(
    f: Callable[..., Any],
    x: ArrayLike,
    *,
    n: int = 1,
    method: str = "central",
    order: int | None = None,
    rel_step: ArrayLike | None = None,
    abs_step: ArrayLike | None = None,
    bounds: tuple[ArrayLike, ArrayLike] | None = None,
    f0: ArrayLike | None = None,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    vectorized: bool = True,
    workers: Any = None,
    chunk_size: int | None = None,
    progress: bool = False,
    timeout: float | None = None,
    full_output: bool = False,
    tolerances: dict[str, float] | None = None,
    maxiter: int | None = None,
    initial_step: float | None = None,
    step_factor: float | None = None,
    noise: ArrayLike | None = None,
) -> Any:
    """The `n`-th derivative of a scalar function, elementwise over `x`.

    Parameters
    ----------
    f : callable
        An elementwise function: ``f(x, *args, **kwargs)`` returns an array of
        the shape of ``x``.  With ``vectorized=False``, ``f`` is called once
        per point on a NumPy scalar and returns a scalar.
    x : array_like
        Points, any shape.  Complex `x` (a holomorphic `f`) works with the
        real-step methods.
    n : int, optional
        Derivative order, ``n >= 1``.
    vectorized : bool, optional
        Whether ``f`` broadcasts over arrays (default True).
    {options}

    Returns
    -------
    d : ndarray or scalar
        Same shape as `x`.
    info : Info
        Only with ``full_output=True``.

    Notes
    -----
    Each offset of the stencil is one call of ``f`` on the whole array.  The
    central stencil of derivative ``n`` and order ``p`` has
    ``2 floor((n + 1) / 2) - 1 + p`` points (minus the centre for odd
    ``n``).  The complex step for ``n >= 2`` uses a real stencil of
    derivative ``n - 1`` beside the imaginary offset.

    Examples
    --------
    >>> import numpy as np
    >>> import numderiv as nd
    >>> x = np.linspace(0, 1, 5)
    >>> bool(np.allclose(nd.derivative(np.exp, x), np.exp(x), rtol=1e-10))
    True
    >>> d3, info = nd.derivative(np.sin, 0.5, n=3, order=4, full_output=True)
    >>> bool(abs(d3 + np.cos(0.5)) <= info.error), info.nfev
    (True, 10)
    """
    check_callable(f)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer (derivative order), got {n!r}")
    c = _common(x, int(n), locals(), vector=False)
    xa = c.x
    if c.f0 is not None and c.f0.shape != xa.shape:
        raise ValueError(f"f0 must have the shape of x {xa.shape}, got {c.f0.shape}")
    if xa.size == 0:  # nothing to differentiate: an empty result, like NumPy's
        d0 = np.empty(xa.shape, dtype=xa.dtype)
        if c.full_output:
            # error and step are real, as for a non-empty complex x
            e0 = np.empty(xa.shape, dtype=xa.real.dtype)
            info = Info(0, 0, e0, e0.copy(), c.method, c.order)
            return d0, info
        return d0
    xf = xa.reshape(-1)
    h = _steps_for(
        dataclasses.replace(
            c,
            rel_step=None if c.rel_step is None else c.rel_step.reshape(-1),
            abs_step=None if c.abs_step is None else c.abs_step.reshape(-1),
        ),
        xf,
        int(n),
    )
    tr = None
    if c.bounded:
        assert c.lb is not None and c.ub is not None
        tr = (c.lb.reshape(-1) - xf.real, c.ub.reshape(-1) - xf.real)
    with _evaluator(f, c, "derivative") as ev:
        out = run_directions(
            Elements(ev, xa, c.vectorized, c.f0), h, c, int(n), trange=tr
        )
    d = out.value[0].reshape(xa.shape)[()]
    if c.full_output:
        err = None
        if out.error is not None:
            err = out.error[0]
            if n == 1:
                # each point's own sensitivity |f'(x) x|, over its own step
                sens = np.abs(out.value[0] * xf)
                err = err + sensitivity_gain(c, 1) * sens / out.step
            err = np.asarray(err).reshape(xa.shape)[()]
        return d, _info(ev, c, out, err, out.step.reshape(xa.shape)[()])
    return d


def _norm_scale(x: NDArray[Any]) -> NDArray[Any]:
    return np.array([max(1.0, float(np.max(np.abs(x))))], dtype=x.dtype)


@on_device
def jvp(
    f: Callable[..., Any],
    x: ArrayLike,
    v: ArrayLike,
    *,
    method: str = "central",
    order: int | None = None,
    rel_step: float | None = None,
    abs_step: float | None = None,
    bounds: tuple[ArrayLike, ArrayLike] | None = None,
    f0: ArrayLike | None = None,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    vectorized: bool = False,
    workers: Any = None,
    chunk_size: int | None = None,
    progress: bool = False,
    timeout: float | None = None,
    full_output: bool = False,
    tolerances: dict[str, float] | None = None,
    maxiter: int | None = None,
    initial_step: float | None = None,
    step_factor: float | None = None,
    noise: ArrayLike | None = None,
) -> Any:
    """Directional derivative ``J(x) @ v`` without forming ``J``.

    Parameters
    ----------
    f : callable
        ``f(x, *args, **kwargs)`` returning a scalar or shape ``(m,)``.
    x, v : array_like, shape (n,)
        The point and the direction.
    rel_step, abs_step : float, optional
        Step along ``v / |v|``: ``rel_step * max(1, max|x|)`` or ``abs_step``.
    {options}

    Returns
    -------
    jv : ndarray, shape (m,)
    info : Info
        Only with ``full_output=True``.

    Notes
    -----
    One difference along the unit vector ``u = v / |v|``, scaled back by
    ``|v|``: the central order-2 stencil costs two evaluations, whatever ``n``.

    Examples
    --------
    >>> import numpy as np
    >>> import numderiv as nd
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> nd.jvp(lambda x: np.tanh(A @ x), np.zeros(2), [1.0, -1.0]).round(10)
    array([-1., -1., -1.])
    """
    check_callable(f)
    for name, s in (("rel_step", rel_step), ("abs_step", abs_step)):
        if s is not None and np.ndim(s) != 0:
            raise ValueError(f"{name} must be a scalar for jvp(), got {s!r}")
    c = _common(x, 1, locals())
    va = check_vector_v(v, c.x.size, c.x.dtype)
    with _evaluator(f, c, "jvp") as ev:
        _learn_f0(ev, c)
        jv, err, out = _jvp_core(ev, c, va)
        _vector_output(ev, "jvp")
    if c.full_output:
        return jv, _info(ev, c, out, err, out.step)
    return jv


def _jvp_core(
    ev: Evaluator, c: Common, va: NDArray[Any]
) -> tuple[NDArray[Any], NDArray[Any] | None, Outcome]:
    """``J v`` by one difference along ``v / |v|``; shared with the linear operator."""
    xa = c.x
    vn = safe_norm(va)
    if vn == 0:
        # f(x) for the shape of the result (checked like every value of f)
        f0v = Points(ev, xa, Directions.axes(xa.size), c.f0).center(np.arange(1))
        z = np.zeros((np.size(f0v), 1), dtype=xa.dtype)
        out = Outcome(z, z, np.zeros(1, dtype=xa.dtype), 0)
    else:
        u = (va / vn).astype(xa.dtype)
        dirs = Directions(xa.size, np.array([xa.size]), np.ones(1), extra=u[:, None])
        h = _steps_for(
            dataclasses.replace(
                c,
                rel_step=None if c.rel_step is None else c.rel_step.reshape(-1)[:1],
                abs_step=None if c.abs_step is None else c.abs_step.reshape(-1)[:1],
            ),
            _norm_scale(xa),
            1,
        )
        tr = dirs.trange(xa, c.lb, c.ub) if c.bounded else None  # type: ignore[arg-type]
        if tr is not None:
            refuse_no_room(tr, "v", xa, c.lb, c.ub)
        out = run_directions(Points(ev, xa, dirs, c.f0), h, c, 1, trange=tr)
    jv = out.value[:, 0] * vn
    err = None if out.error is None else out.error[:, 0] * vn
    return jv, err, out


@on_device
def hvp(
    f: Callable[..., Any],
    x: ArrayLike,
    v: ArrayLike,
    *,
    method: str = "central",
    order: int | None = None,
    rel_step: ArrayLike | None = None,
    abs_step: ArrayLike | None = None,
    bounds: tuple[ArrayLike, ArrayLike] | None = None,
    f0: ArrayLike | None = None,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    vectorized: bool = False,
    workers: Any = None,
    chunk_size: int | None = None,
    progress: bool = False,
    timeout: float | None = None,
    full_output: bool = False,
    tolerances: dict[str, float] | None = None,
    maxiter: int | None = None,
    initial_step: float | None = None,
    step_factor: float | None = None,
    noise: ArrayLike | None = None,
) -> Any:
    """Hessian-vector product ``H(x) @ v`` of a scalar `f`, without forming ``H``.

    Parameters
    ----------
    f : callable
        ``f(x, *args, **kwargs)`` returning a scalar.
    x, v : array_like, shape (n,)
        The point and the vector.
    {options}

    Returns
    -------
    hv : ndarray, shape (n,)
    info : Info
        Only with ``full_output=True``.

    Notes
    -----
    With ``u = v / |v|`` and second derivatives ``D2(d)`` along directions
    ``d``, ``(H u)_i = (D2(h_i e_i + h_u u) - h_i^2 H_ii - h_u^2 u^T H u) /
    (2 h_i h_u)``: the same second-difference formulas as :func:`hessian`,
    ``4n + 3`` evaluations for central order 2 instead of ``n^2 + n + 1``.

    Examples
    --------
    >>> import numpy as np
    >>> import numderiv as nd
    >>> from scipy.optimize import rosen, rosen_hess_prod
    >>> x, v = np.array([0.5, 1.5, -0.3]), np.array([1.0, 2.0, 3.0])
    >>> bool(np.allclose(nd.hvp(rosen, x, v), rosen_hess_prod(x, v), rtol=1e-6))
    True
    """
    check_callable(f)
    c = _common(x, 2, locals())
    va = check_vector_v(v, c.x.size, c.x.dtype)
    with _evaluator(f, c, "hvp") as ev:
        _learn_f0(ev, c)
        hv, err, out = _hvp_core(ev, c, va)
    if c.full_output:
        return hv, _info(ev, c, out, err, out.step[: c.x.size])
    return hv


def _hvp_core(
    ev: Evaluator, c: Common, va: NDArray[Any]
) -> tuple[NDArray[Any], NDArray[Any] | None, Outcome]:
    """``H v`` from second differences; shared with the linear operator."""
    xa = c.x
    n = xa.size
    vn = safe_norm(va)
    h = _steps_for(c, xa, 2)
    hu = _steps_for(
        dataclasses.replace(c, rel_step=None, abs_step=None), _norm_scale(xa), 2
    )
    if vn == 0:
        f0v = Points(ev, xa, Directions.axes(n), c.f0).center(np.arange(1))
        if np.size(f0v) != 1:
            raise ValueError(f"hvp() needs a scalar f, got {np.size(f0v)} values")
        hv = np.zeros(n, dtype=xa.dtype)
        return hv, (hv if c.full_output else None), Outcome(hv[None], None, h, 0)
    u = (va / vn).astype(xa.dtype)
    ar = np.arange(n)
    idx = np.empty((2 * n + 1, 2), dtype=np.intp)
    val = np.zeros((2 * n + 1, 2), dtype=h.dtype)
    idx[:n, 0] = idx[:n, 1] = ar
    val[:n, 0] = 1
    idx[n] = n
    val[n, 0] = 1
    idx[n + 1 :, 0] = ar
    idx[n + 1 :, 1] = n
    val[n + 1 :, 0] = h
    val[n + 1 :, 1] = hu[0]
    dirs = Directions(n, idx, val, extra=u[:, None])
    hdir = np.concatenate([h, hu, np.ones(n, dtype=h.dtype)])
    tr = None
    if c.bounded:  # pairs turned into the box at a corner
        dirs, tr = orient_pairs(xa, c.lb, c.ub, idx, val, u[:, None], ar + n + 1)  # type: ignore[arg-type]
        refuse_no_room((tr[0][n : n + 1], tr[1][n : n + 1]), "v", xa, c.lb, c.ub)
    out = run_directions(Points(ev, xa, dirs, c.f0), hdir, c, 2, trange=tr)
    if ev.shape not in ((), (1,)):
        raise ValueError(f"hvp() needs a scalar f, but f returned shape {ev.shape}")
    D = out.value[0]
    # (H u)_i by polarisation along h_i e_i + h_u u, then scaled back to v
    E = None if out.error is None else out.error[0]
    hu_, err = polarise(
        D[n + 1 :],
        D[:n],
        D[n],
        h,
        val[n + 1 :, 1],
        errors=None if E is None else (E[n + 1 :], E[:n], E[n]),
        eps=c.eps,
    )
    hv = hu_ * vn
    if err is not None:
        err = err * vn
    return hv, err, out


for _fn in (jacobian, gradient, hessian, derivative, jvp, hvp):
    if _fn.__doc__:
        _fn.__doc__ = _fn.__doc__.replace("    {options}", _DOC_OPTIONS.strip("\n"))
