"""The compatibility layers' use of the engine.

The originals (SciPy, Scilab) apply one fixed scheme per component with the
step they chose and return whatever comes out: no error estimate, no
fallback to a one-sided stencil where ``f`` is not finite.  The engine's
documented entries for that are :func:`numderiv._core.plain_differences`
(along directions) and :func:`numderiv._core.group_differences` (columns
moved together, for a known sparsity); a layer only decides steps and
kinds, never difference formulas.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core import Directions, group_differences, plain_differences

__all__ = ["directions", "group_differences", "plain_differences"]


def directions(n: int, Q: NDArray[Any] | None = None) -> Directions:
    """The coordinate axes, or the columns of an orthogonal ``Q``."""
    if Q is None:
        return Directions.axes(n)
    return Directions(n, np.arange(n) + n, np.ones(n), extra=Q)
