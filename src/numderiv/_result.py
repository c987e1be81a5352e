"""The information returned with ``full_output=True``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["STATUS_MESSAGES", "Info", "worst_status"]

#: Status codes of :class:`Info`: the one table (see docs/accuracy.md).
#: ``>= 0``: every entry is within its error estimate; ``< 0``: some entries
#: are not to be trusted to it (and are NaN when no ``info`` is asked for).
STATUS_MESSAGES = {
    0: "success",
    1: "success; f was non-finite on one side of some entries, which were "
    "computed with one-sided stencils on the finite side",
    2: "success; the accuracy of some entries is limited by the noise (or "
    "round-off) of f, which the error estimate includes",
    -1: "the step is outside the asymptotic range for some entries: the "
    "differences at successive steps disagree more than the truncation-error "
    "model allows, so the error estimate cannot be trusted",
    -2: "no convergence: for some entries the extrapolation did not settle "
    "within maxiter levels",
    -3: "f was non-finite on both sides of some entries; they are NaN",
}


def worst_status(codes: list[int]) -> int:
    """The status of a whole result: the most severe of its parts.

    A negative code outranks every non-negative one (the most negative
    first); among successes the largest note wins.
    """
    neg = [c for c in codes if c < 0]
    if neg:
        return min(neg)
    return max(codes, default=0)


@dataclass(frozen=True)
class Info:
    """Details of a computation, returned with ``full_output=True``.

    Attributes
    ----------
    nfev : int
        Number of points at which ``f`` was evaluated (a batch of ``k``
        points in one vectorized call counts ``k``).
    ncalls : int
        Number of Python calls of ``f``.
    error : ndarray
        Estimated absolute error of each entry, same shape as the value.
        It adds a truncation estimate (the same stencil at half the step,
        extrapolated) and a round-off bound; on smooth functions the true
        error is below it.
    step : ndarray
        The steps actually taken (``(x + h) - x``), one per component (per
        element for :func:`~numderiv.derivative`).
    method : str
        The method used.
    order : int
        The accuracy order of the stencils.
    status : int
        ``0`` success; ``> 0`` success with a note; ``< 0`` some entries
        are not to be trusted to their error estimate.  The codes are those
        of :data:`STATUS_MESSAGES`:

        ====  ==========================================================
        code  meaning
        ====  ==========================================================
         0    success
         1    success; one-sided stencils where ``f`` was non-finite on
              one side of a point (a domain edge)
         2    success; the accuracy is limited by noise (or round-off)
              in ``f``, and the error estimate includes it
        -1    the step is outside the asymptotic range: differences at
              successive steps disagree more than the truncation model
              allows
        -2    no convergence (``method="adaptive"``): the extrapolation
              did not settle within ``maxiter`` levels
        -3    ``f`` was non-finite on both sides; those entries are NaN
        ====  ==========================================================
    message : str
        The status in words.
    """

    nfev: int
    ncalls: int
    error: NDArray[Any]
    step: NDArray[Any]
    method: str
    order: int
    status: int = 0
    message: str = STATUS_MESSAGES[0]
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        errs = self.error if isinstance(self.error, list) else [self.error]
        parts: list[Any] = [
            e.data if hasattr(e, "tocsr") else np.asarray(e)
            for e in errs
            if e is not None
        ]
        err = np.concatenate([np.ravel(p) for p in parts]) if parts else np.zeros(0)
        err = err.astype(float)
        emax = (
            float(np.nanmax(err))
            if err.size and not np.all(np.isnan(err))
            else float("nan")
        )
        return (
            f"Info(nfev={self.nfev}, ncalls={self.ncalls}, method={self.method!r}, "
            f"order={self.order}, status={self.status}, max_error={emax:.3g}, "
            f"message={self.message!r})"
        )
