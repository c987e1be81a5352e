"""Checking a user's analytic derivative against a numerical one."""

from __future__ import annotations

import contextlib
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
        No suspects. Never true where either side is not finite (a NaN or
        infinite analytic entry, or ``f`` not finite near `x`, outside its
        domain): nothing was compared there.
    nfev : int
        Evaluations of ``f`` spent.
    reason : str
        Why the check is not ok, in words ("" when it is).
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
    reason: str = ""

    def __str__(self) -> str:
        head = (
            "analytic derivative agrees" if self.ok else "analytic derivative DISAGREES"
        )
        lines = [
            f"{head} with the numerical one (nfev={self.nfev})",
            f"  max abs error {self.max_abs_error:.3g}, max rel error {self.max_rel_error:.3g}",
        ]
        if self.reason:
            lines.append(f"  {self.reason}")
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

    Notes
    -----
    An entry is a suspect when ``|analytic - numerical|`` exceeds the
    tolerance: the numerical error estimate, plus ``rtol * |numerical|``,
    plus an absolute floor ``tiny / h`` (``tiny`` the smallest normal
    float64, ``h`` the step of the column). Near underflow the values of
    ``f`` are resolved only to about ``tiny``, so their differences resolve
    derivatives only to ``tiny / h``: smaller differences are not evidence
    of a wrong derivative (subnormal Jacobian entries do not false-alarm).

    An entry where either side is not finite is a suspect too: a NaN or
    infinite analytic entry, or a numerical one that could not be computed
    (``x`` outside the domain of ``f``). ``reason`` says which. When the
    complex step is tried and its error estimate exceeds the value itself
    (``f`` is not real-analytic at ``x``, e.g. ``log`` of a negative
    number), central differences are used instead.

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
        J = None
        # f may take no complex input, or be complex-valued: then central
        with contextlib.suppress(TypeError, ValueError, np.exceptions.ComplexWarning):
            J, info = jacobian(f, x, method="complex", full_output=True, **opts)
        # the engine's own verdict: non-finite values, or a step that does
        # not fit (f not real-analytic at x, e.g. log(-1)): not to be trusted
        if J is None or info.status < 0 or not np.all(np.isfinite(J)):
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
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(A - J)
        scale = np.maximum(np.abs(A), np.abs(J))
    err = np.asarray(info.error)
    bad_a = ~np.isfinite(A)
    bad_j = ~(np.isfinite(J) & np.isfinite(err))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, diff / scale, 0.0)
    rel[bad_a | bad_j] = np.nan
    tol = err + rtol * np.abs(J) + _floor(J, info.step)
    with np.errstate(divide="ignore", invalid="ignore"):
        badness = np.where(tol > 0, diff / tol, np.where(diff > 0, np.inf, 0.0))
    badness = np.nan_to_num(badness, nan=np.inf)
    # Nothing was compared where either side is not finite.
    badness[bad_a | bad_j] = np.inf
    reasons = []
    if bad_a.any():
        reasons.append(
            f"the analytic derivative is not finite at {int(bad_a.sum())} "
            f"entr{'y' if bad_a.sum() == 1 else 'ies'}, e.g. {_first(bad_a)}"
        )
    if bad_j.any():
        reasons.append(
            f"the numerical derivative could not be computed (f not finite "
            f"near x: outside its domain?) at {int(bad_j.sum())} "
            f"entr{'y' if bad_j.sum() == 1 else 'ies'}, e.g. {_first(bad_j)}"
        )
    if not reasons and badness.max(initial=0.0) > 1:
        reasons.append("some entries differ by more than the tolerance")
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
        reason="; ".join(reasons),
    )


def _first(mask: NDArray[Any]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def _floor(J: NDArray[Any], step: Any) -> NDArray[Any]:
    """The absolute floor ``tiny / h`` of the numerical Jacobian, per column."""
    tiny = float(np.finfo(np.float64).tiny)
    h = np.abs(np.asarray(step, dtype=float)).reshape(-1)
    if h.size not in (1, J.shape[-1]) or not np.all(np.isfinite(h) & (h > 0)):
        h = np.full(J.shape[-1], float(np.sqrt(np.finfo(np.float64).eps)))
    with np.errstate(over="ignore"):
        return np.broadcast_to(tiny / np.minimum(h, 1.0), J.shape)
