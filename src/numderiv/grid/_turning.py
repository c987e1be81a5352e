"""``numderiv.grid.turning_points``: where the first derivative changes sign."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._arrays import foreign_namespace, refuse
from ._dask import refuse_labelled_or_lazy
from ._derivative import derivative
from ._validate import spacing_for_axis

__all__ = ["turning_points"]


def turning_points(y: ArrayLike, x: ArrayLike | None = None) -> NDArray[Any]:
    """Turning points (local extrema) of 1-D samples.

    Parameters
    ----------
    y : array_like, shape (N,)
        Real samples.
    x : array_like, shape (N,), optional
        Strictly increasing coordinates of the samples (or a scalar spacing).

    Returns
    -------
    tp : ndarray
        Without `x`: the integer indices of the samples at the turning
        points (the largest sample of each maximum, the smallest of each
        minimum).  With `x`: the interpolated locations, as floats.  In
        increasing order.

    Raises
    ------
    ValueError
        If `y` is not 1-D or `x` is bad.
    TypeError
        If `y` is complex, boolean or not numeric, or an array of another
        library than NumPy (PyTorch, CuPy, ...: the search runs on NumPy
        arrays, and the data is not converted silently).

    Notes
    -----
    The first derivative is estimated with second-order differences
    (:func:`derivative`, exact for quadratics on any grid).  A turning point
    lies between consecutive samples where it changes sign; its location is
    the zero of the linear interpolant of the derivative there, which is
    exact for a parabola.  A run of exactly zero derivatives between opposite
    signs (a flat top) counts once, at the middle of the run; a sign change
    into and out of zero without reversal (a plateau on a slope) is not a
    turning point.

    Examples
    --------
    >>> import numpy as np
    >>> import numderiv as nd
    >>> y = np.array([0.0, 3.0, 4.0, 3.0, 0.0, -1.0, 0.0])
    >>> nd.grid.turning_points(y)
    array([2, 5])
    >>> x = np.linspace(0, 2, 9)
    >>> nd.grid.turning_points(-((x - 0.7) ** 2), x)
    array([0.7])
    """
    refuse_labelled_or_lazy(y, "turning_points", "it returns positions of samples")
    if (xp := foreign_namespace(y)) is not None:
        raise refuse(
            xp,
            y,
            "turning_points",
            "its result is a short list of NumPy indices "
            "or locations, found by searching the samples",
        )
    f = np.asarray(y)
    if f.dtype == np.bool_ or not np.issubdtype(f.dtype, np.number):
        raise TypeError(f"y must be real and numeric, got dtype {f.dtype}")
    if np.iscomplexobj(f):
        raise TypeError(
            "y must be real: turning points of complex data are not defined"
        )
    if f.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {f.shape}")
    f = f.astype(np.float64)
    npts = f.shape[0]
    if x is None:
        coords = None
        info = spacing_for_axis(1.0, npts, name="x")
    else:
        info = spacing_for_axis(x, npts, name="x")
        if np.ndim(x) == 1:
            coords = np.asarray(x, dtype=np.float64)
        else:
            coords = float(info.h) * np.arange(npts, dtype=float)
        if coords is not None and npts > 1 and coords[-1] < coords[0]:
            raise ValueError(f"x must be increasing, got spacing {x!r}")
    empty = np.empty(0, dtype=np.intp if coords is None else np.float64)
    if npts < 3:
        return empty
    d = derivative(f, 1.0 if info.uniform else info.x, accuracy=2)
    nz = np.flatnonzero(d != 0)
    if nz.size < 2:
        return empty
    sgn = np.sign(d[nz])
    change = np.flatnonzero(sgn[:-1] * sgn[1:] < 0)
    a = nz[change]
    b = nz[change + 1]
    adjacent = b == a + 1
    if coords is None:
        # adjacent samples: the more extreme of the two; a zero run: its middle
        is_max = sgn[change] > 0
        pick_b = np.where(is_max, f[b] > f[a], f[b] < f[a])
        idx = np.where(adjacent, np.where(pick_b, b, a), (a + b) // 2)
        return np.asarray(idx, dtype=np.intp)
    t = d[a] / (d[a] - d[b])
    loc_adj = coords[a] + t * (coords[b] - coords[a])
    loc_run = 0.5 * (coords[a + 1] + coords[b - 1])
    return np.asarray(np.where(adjacent, loc_adj, loc_run), dtype=np.float64)
