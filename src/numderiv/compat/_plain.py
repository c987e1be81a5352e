"""Plain finite differences on the engine, for the compatibility layers.

The originals (SciPy, Scilab) apply one fixed scheme per component with the
step they chose and return whatever comes out: no error estimate, no
fallback to a one-sided stencil where ``f`` is not finite.  These helpers
run the engine's stencils (:func:`numderiv._steps.scheme`) through its
point builder and evaluator (:class:`numderiv._core.Points`) exactly that
way, so a layer only decides steps and kinds, never difference formulas.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core import Directions, Points, _block_group
from .._evaluate import Evaluator
from .._steps import scheme

__all__ = ["directions", "plain_differences"]


def directions(n: int, Q: NDArray[Any] | None = None) -> Directions:
    """The coordinate axes, or the columns of an orthogonal ``Q``."""
    if Q is None:
        return Directions.axes(n)
    return Directions(n, np.arange(n) + n, np.ones(n), extra=Q)


def plain_differences(
    ev: Evaluator,
    x: NDArray[Any],
    dirs: Directions,
    h: NDArray[Any],
    kinds: NDArray[Any] | str,
    method: str,
    order: int,
    f0: NDArray[Any] | None = None,
) -> NDArray[Any]:
    """First derivatives along every direction, shape ``(M, ndir)``.

    Direction ``d`` uses the stencil ``scheme(method, kinds[d], 1, order)``
    with step ``h[d]`` exactly as given: a negative step mirrors a one-sided
    stencil (SciPy's backward differences), and the points are
    ``x + z_k h[d] u_d``.  Non-finite values are returned as they come.
    """
    ndir = h.size
    kind_arr = (
        np.full(ndir, kinds, dtype=object)
        if isinstance(kinds, str)
        else np.asarray(kinds, dtype=object)
    )
    prov = Points(ev, x, dirs, f0)
    out: NDArray[Any] | None = None
    with np.errstate(all="ignore"):
        for kind in dict.fromkeys(kind_arr.tolist()):
            idx = np.flatnonzero(kind_arr == kind)
            g = _block_group(prov, scheme(method, kind, 1, order), idx, h[idx], False)
            if out is None:
                if idx.size == ndir:
                    return g.value
                out = np.empty((g.value.shape[0], ndir), dtype=g.value.dtype)
            out[:, idx] = g.value
    assert out is not None
    return out
