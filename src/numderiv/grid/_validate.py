"""Argument checking shared by the grid entry points.

Every public function of :mod:`numderiv.grid` cleans its arguments here, up
front, and the numerical code downstream trusts what it receives.  Messages
name the argument, the value received and what was expected.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validate import _is_int
from .._validate import check_workers as _check_workers

try:  # NumPy >= 2.0
    from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.numeric import (  # type: ignore[attr-defined,no-redef,unused-ignore]
        normalize_axis_index,
        normalize_axis_tuple,
    )

__all__ = [
    "BOUNDARIES",
    "Axis",
    "check_accuracy",
    "check_boundary",
    "check_deriv",
    "check_one_sided",
    "check_workers",
    "data_array",
    "normalize_axis_index",
    "normalize_axis_tuple",
    "spacing_for_axis",
]

# the grid functions run their own threads: None, -1 or a positive int
check_workers = functools.partial(_check_workers, threads=True)

BOUNDARIES = ("one-sided", "periodic")


def check_accuracy(accuracy: Any) -> int:
    """An even accuracy order >= 2."""
    if not _is_int(accuracy) or accuracy < 2 or accuracy % 2:
        raise ValueError(
            f"accuracy must be a positive even integer (2, 4, 6, ...), got {accuracy!r}"
        )
    return int(accuracy)


# One-sided boundary stencils amplify the rounding of the data by the sum of
# the absolute values of their weights (with h = 1): the central stencils'
# gain stays below 4 at any order, but the one-sided ones grow about 3.7x per
# order step (first derivative: 78 at accuracy 8, 1.5e6 at 24, 5.4e6 at 26,
# 3.9e16 at 60).  Measured on 200-point uniform and non-uniform grids (exp,
# sin 5x, a cubic; relative to max |f'|), the boundary errors are 1e-13 at
# accuracy 8-10, at most 1e-8 up to 24 (uniform) or 26 (non-uniform), then
# 1e-8 to 1e-6 from 26 to 36, 1e-2 from 44, and 2e2 at 60, while the interior
# stays at 1e-13.  Above a gain of 2**21 (fewer than 32 of the 53 bits of the
# data survive in the boundary differences) an order is refused: the first
# derivative up to accuracy 24, the second up to 20, the third up to 16.
ROUNDOFF_GAIN_LIMIT = 2.0**21


@functools.lru_cache(maxsize=64)
def max_one_sided_accuracy(n: int) -> int:
    """The largest accuracy whose one-sided n-th derivative stencil's gain is within
    :data:`ROUNDOFF_GAIN_LIMIT`; 0 when not even accuracy 2 is (large `n`)."""
    from .._stencil import _exact_weights

    # the forward difference alone has gain 2**n, and more nodes only add
    if 2.0**n > ROUNDOFF_GAIN_LIMIT:
        return 0
    best = 0
    p = 2
    while True:
        w = _exact_weights(tuple(range(n + p)), n)[n]
        if float(sum(abs(c) for c in w)) > ROUNDOFF_GAIN_LIMIT:
            return best
        best = p
        p += 2


def check_one_sided(n: int, accuracy: int) -> None:
    """Refuse, up front, an order float64 cannot carry to one-sided boundaries."""
    if accuracy <= 2 and n == 1:
        return  # NumPy's own formulas (edge_order 1 or 2)
    top = max_one_sided_accuracy(n)
    if accuracy <= top:
        return
    most = (
        f"the most for n={n} is accuracy={top}"
        if top
        else f"no accuracy is within that for n={n} (its forward difference "
        f"alone amplifies rounding by 2**{n})"
    )
    raise ValueError(
        f"accuracy={accuracy} is more than float64 can carry to the one-sided "
        f"boundary stencils of the derivative n={n}: their weights would amplify "
        f"the rounding of the data by more than 2**21 (about 2.1e6; fewer than 10 "
        f"of its 16 digits would survive at the boundary); {most}. Periodic "
        f"boundaries (grid.derivative, laplacian, divergence, curl with "
        f"boundary='periodic') have no such limit"
    )


def check_deriv(n: Any, name: str = "n") -> int:
    """A derivative order >= 1."""
    if not _is_int(n) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def check_boundary(boundary: Any) -> str:
    if not isinstance(boundary, str) or boundary not in BOUNDARIES:
        raise ValueError(
            f"boundary must be 'one-sided' or 'periodic', got {boundary!r}"
        )
    return boundary


def data_array(y: Any, name: str = "y") -> tuple[NDArray[Any], np.dtype[Any]]:
    """The data as an ndarray and the dtype of the result.

    Floating and complex data keep their dtype; integers become float64
    (converted up front so that differences never wrap around); booleans are
    refused with the same exception type as NumPy's ``gradient`` (there is no
    boolean subtraction).
    """
    if isinstance(y, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array; the mask would be ignored (fill or compress "
            "the masked values first)"
        )
    arr = np.asarray(y)
    dt = arr.dtype
    if dt == np.bool_:
        raise TypeError(
            f"{name} has boolean dtype; differences of booleans are not defined "
            "(convert to a numeric dtype first)"
        )
    if dt.kind in "mM":
        # NumPy counts timedelta64 as an integer type; its differences keep
        # their unit, which a float result would silently drop
        raise TypeError(
            f"{name} has dtype {dt}; datetime and timedelta data are not "
            "differentiated here (numpy.gradient keeps their units)"
        )
    if np.issubdtype(dt, np.inexact):
        return arr, dt
    if np.issubdtype(dt, np.integer):
        return arr.astype(np.float64), np.dtype(np.float64)
    raise TypeError(
        f"{name} must have a numeric (integer, floating or complex) dtype, got {dt}"
    )


@dataclass(frozen=True)
class Axis:
    """The cleaned sampling of one axis.

    ``h`` is the spacing as the user gave it (kept as the same Python or
    NumPy scalar so that dtype promotion matches NumPy's), or ``None`` when
    the grid is not uniform; then ``x`` holds float coordinates and ``dx``
    their differences in the dtype NumPy would use.  ``period`` is the period
    for periodic boundaries (``None`` otherwise or when not given).
    """

    h: Any
    x: NDArray[Any] | None = None
    dx: NDArray[Any] | None = None
    period: float | None = None

    @property
    def uniform(self) -> bool:
        return self.x is None


def _check_coordinates(x: NDArray[Any], name: str, *, decreasing_ok: bool) -> None:
    if np.iscomplexobj(x):
        raise TypeError(f"{name} must be real coordinates, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        bad = x[~np.isfinite(x)][:3].tolist()
        raise ValueError(
            f"{name} must be finite coordinates, got non-finite values {bad}"
        )
    d = np.diff(x)
    if d.size == 0:
        return
    if np.all(d > 0) or (decreasing_ok and np.all(d < 0)):
        return
    k = (
        int(np.argmax(d <= 0))
        if (d[0] > 0 or not decreasing_ok)
        else int(np.argmax(d >= 0))
    )
    what = "strictly monotonic" if decreasing_ok else "strictly increasing"
    raise ValueError(
        f"{name} must be {what}, got {name}[{k}]={x[k]!r} and {name}[{k + 1}]={x[k + 1]!r}"
    )


def spacing_for_axis(
    spacing: Any,
    npts: int,
    *,
    name: str,
    periodic: bool = False,
    decreasing_ok: bool = False,
    check: bool = True,
) -> Axis:
    """Clean a scalar spacing or an array of coordinates for an axis of `npts` points.

    A coordinate array whose differences are all equal is reduced to its
    spacing (as NumPy's ``gradient`` does).  With ``periodic=True`` a
    coordinate array may have ``npts + 1`` entries, the last being the first
    point shifted by the period.
    """
    arr = np.asanyarray(spacing)
    if arr.ndim == 0:
        if check:
            try:
                hval = complex(arr)
            except TypeError:
                raise TypeError(f"{name} must be a number, got {spacing!r}") from None
            if hval.imag != 0 or not np.isfinite(hval.real) or hval.real == 0:
                raise ValueError(
                    f"{name} must be a finite non-zero real spacing, got {spacing!r}"
                )
        period = npts * float(arr) if periodic else None
        return Axis(h=spacing, period=period)
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a scalar spacing or 1-D coordinates, got shape {arr.shape}"
        )
    ok = (npts, npts + 1) if periodic else (npts,)
    if arr.shape[0] not in ok:
        want = (
            f"{npts} (or {npts + 1} with the periodic end point)"
            if periodic
            else f"{npts}"
        )
        raise ValueError(
            f"{name} has {arr.shape[0]} coordinates but the axis has {npts} points; "
            f"expected {want}"
        )
    if np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(np.float64)
    if check:
        _check_coordinates(arr, name, decreasing_ok=decreasing_ok)
    diffs = np.diff(arr)
    if diffs.size and (diffs == diffs[0]).all():
        h = diffs[0]
        period = npts * float(h) if periodic else None
        return Axis(h=h, period=period)
    period = None
    if periodic:
        if arr.shape[0] != npts + 1:
            raise ValueError(
                f"{name}: periodic derivatives on a non-uniform grid need {npts + 1} "
                f"coordinates (the last one is the first shifted by the period), "
                f"got {arr.shape[0]}"
            )
        period = float(arr[-1] - arr[0])
        arr = arr[:-1]
        diffs = diffs[:-1]
    return Axis(h=None, x=arr, dx=diffs, period=period)


def index(value: Any, name: str) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
