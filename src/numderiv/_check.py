"""Checking a user's analytic derivative against a numerical one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ._functions import jacobian
from ._validate import check_callable

__all__ = ["DerivativeCheck", "check_derivative"]


@dataclass(frozen=True)
class DerivativeCheck:
    """The report of :func:`check_derivative`.

    Attributes
    ----------
    max_abs_error : float
        Largest ``|analytic - numerical|``.
    max_rel_error : float
        Largest ``|analytic - numerical| / max(|analytic|, |numerical|)``
        (0 where both are 0).
    worst : tuple of int
        Index ``(i, j)`` of the entry least explained by the numerical error:
        the largest ``|analytic - numerical| / tolerance``.
    analytic, numerical : ndarray, shape (m, n)
        The two Jacobians, dense.
    abs_error, rel_error : ndarray, shape (m, n)
        The per-entry view of the differences.
    tolerance : ndarray, shape (m, n)
        What the numerical estimate can vouch for: its error estimate plus
        ``rtol * |numerical|``.
    suspects : list of tuple of int
        Entries whose difference exceeds the tolerance, worst first.
    ok : bool
        No suspects.
    nfev : int
        Evaluations of ``f`` spent.
    """

    max_abs_error: float
    max_rel_error: float
    worst: tuple[int, ...]
    analytic: NDArray[Any]
    numerical: NDArray[Any]
    abs_error: NDArray[Any]
    rel_error: NDArray[Any]
    tolerance: NDArray[Any]
    suspects: list[tuple[int, ...]]
    ok: bool
    nfev: int

    def __str__(self) -> str:
        head = (
            "analytic derivative agrees" if self.ok else "analytic derivative DISAGREES"
        )
        lines = [
            f"{head} with the numerical one (nfev={self.nfev})",
            f"  max abs error {self.max_abs_error:.3g}, max rel error {self.max_rel_error:.3g}",
        ]
        for idx in self.suspects[:10]:
            lines.append(
                f"  entry {idx}: analytic {self.analytic[idx]:.10g}, numerical "
                f"{self.numerical[idx]:.10g} (+- {self.tolerance[idx]:.2g})"
            )
        if len(self.suspects) > 10:
            lines.append(f"  ... and {len(self.suspects) - 10} more")
        return "\n".join(lines)


def check_derivative(
    f: Callable[..., Any],
    jac: Any,
    x: ArrayLike,
    *,
    rtol: float = 1e-8,
    method: str = "complex_if_possible",
    **opts: Any,
) -> DerivativeCheck:
    """Compare an analytic Jacobian (or gradient) with a numerical one.

    Parameters
    ----------
    f : callable
        ``f(x, *args, **kwargs)``, scalar or vector valued.
    jac : callable, array_like or SciPy sparse
        The analytic derivative: ``jac(x, *args, **kwargs)`` or its value at
        `x`; shape ``(m, n)``, or ``(n,)`` for a gradient.
    x : array_like, shape (n,)
        The point.
    rtol : float, optional
        Relative tolerance added to the numerical error estimate (default
        1e-8: the complex step is accurate to rounding, so larger
        differences are errors of the analytic derivative).
    method : str, optional
        As for :func:`~numderiv.jacobian`; the default tries the complex
        step (accurate to rounding) and falls back to central differences
        of order 4 when ``f`` does not take complex input.
    **opts
        Other options of :func:`~numderiv.jacobian` (``args``, ``kwargs``,
        ``bounds``, ``rel_step``, ``vectorized``, ``workers``, ...).

    Returns
    -------
    DerivativeCheck
        ``max_abs_error``, ``max_rel_error``, ``worst``, the per-entry view
        and the list of suspect entries.

    Raises
    ------
    ValueError
        If `jac` does not have the shape of the Jacobian.

    Examples
    --------
    >>> import numpy as np
    >>> import numderiv as nd
    >>> from scipy.optimize import rosen, rosen_der
    >>> x = np.array([0.3, -0.5, 1.2])
    >>> r = nd.check_derivative(rosen, rosen_der, x)
    >>> r.ok, bool(r.max_rel_error < 1e-12)
    (True, True)
    >>> def bad(x):
    ...     g = rosen_der(x)
    ...     g[1] *= 1.001
    ...     return g
    >>> r = nd.check_derivative(rosen, bad, x)
    >>> r.ok, r.worst
    (False, (0, 1))
    """
    check_callable(f)
    if not (isinstance(rtol, (int, float)) and rtol >= 0):
        raise ValueError(f"rtol must be a non-negative number, got {rtol!r}")
    opts = dict(opts)
    for bad in ("full_output", "as_linear_operator", "sparsity"):
        if opts.get(bad):
            raise ValueError(
                f"check_derivative() computes a dense Jacobian; {bad} is not accepted"
            )
        opts.pop(bad, None)
    args = tuple(opts.get("args", ()))
    kwargs = dict(opts.get("kwargs") or {})
    if method == "complex_if_possible":
        try:
            J, info = jacobian(f, x, method="complex", full_output=True, **opts)
            if np.any(np.isnan(J)):
                raise TypeError("non-finite complex step")
        except (TypeError, ValueError, np.exceptions.ComplexWarning):
            J, info = jacobian(
                f, x, method="central", order=4, full_output=True, **opts
            )
    else:
        J, info = jacobian(f, x, method=method, full_output=True, **opts)
    A = jac(np.asarray(x, dtype=float), *args, **kwargs) if callable(jac) else jac
    A = A.toarray() if sp.issparse(A) else np.asarray(A)
    given = A.shape
    if A.ndim == 1 and J.shape[0] == 1:
        A = A[None, :]
    if A.shape != J.shape:
        raise ValueError(
            f"jac has shape {given}, but the Jacobian of f at x has shape {J.shape}"
        )
    diff = np.abs(A - J)
    scale = np.maximum(np.abs(A), np.abs(J))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, diff / scale, 0.0)
    tol = np.asarray(info.error) + rtol * np.abs(J)
    with np.errstate(divide="ignore", invalid="ignore"):
        badness = np.where(tol > 0, diff / tol, np.where(diff > 0, np.inf, 0.0))
    badness = np.nan_to_num(badness, nan=np.inf)
    worst = tuple(
        int(i) for i in np.unravel_index(int(np.argmax(badness)), badness.shape)
    )
    order = np.argsort(-badness, axis=None)
    suspects = [
        tuple(int(i) for i in np.unravel_index(k, badness.shape))
        for k in order.tolist()
        if badness.flat[k] > 1
    ]
    return DerivativeCheck(
        max_abs_error=float(diff.max(initial=0.0)),
        max_rel_error=float(rel.max(initial=0.0)),
        worst=worst,
        analytic=A,
        numerical=J,
        abs_error=diff,
        rel_error=rel,
        tolerance=tol,
        suspects=suspects,
        ok=not suspects,
        nfev=info.nfev,
    )
