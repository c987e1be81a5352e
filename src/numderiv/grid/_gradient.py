"""``numderiv.grid.gradient``: NumPy's ``gradient``, faster and at any even order."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._arrays import foreign_namespace
from ._dask import backend_for
from ._engine import Term, execute, make_plan, min_points
from ._validate import (
    Axis,
    check_accuracy,
    check_one_sided,
    check_workers,
    data_array,
    normalize_axis_tuple,
    spacing_for_axis,
)
from ._xp import data_array_xp, execute_xp, host_spacing

__all__ = ["gradient"]


class TooFewCoordinatesError(ValueError, IndexError):
    """A coordinate array too short to form a difference.

    NumPy's ``gradient`` raises :class:`IndexError` here; this error is both
    that and the :class:`ValueError` numderiv raises for bad arguments.
    """


def _parse_spacing(
    spacing: tuple[Any, ...], shape: tuple[int, ...], axes: tuple[int, ...]
) -> list[Any]:
    """Per-axis spacing objects, checked in the order NumPy checks them."""
    n = len(spacing)
    if n == 0:
        return [1.0] * len(axes)
    if n == 1 and np.ndim(spacing[0]) == 0:
        return [spacing[0]] * len(axes)
    if n != len(axes):
        raise TypeError(
            f"invalid number of arguments: spacing takes no value, one scalar, or one "
            f"scalar or 1-D array per axis ({len(axes)} here), got {n}"
        )
    out = list(spacing)
    for i, d in enumerate(out):
        arr = np.asanyarray(d)
        if arr.ndim == 0:
            continue
        if arr.ndim != 1:
            raise ValueError(
                f"spacing[{i}] must be a scalar or 1-D coordinates (distances must be "
                f"either scalars or 1d), got shape {arr.shape}"
            )
        if arr.shape[0] != shape[axes[i]]:
            raise ValueError(
                f"spacing[{i}] has {arr.shape[0]} coordinates but axis {axes[i]} of y "
                f"has {shape[axes[i]]} points (when 1d, distances must match the "
                "length of the corresponding dimension)"
            )
        if arr.shape[0] < 2:
            raise TooFewCoordinatesError(
                f"spacing[{i}] has {arr.shape[0]} coordinate(s); at least 2 are needed"
            )
    return out


def gradient_axes(
    shape: tuple[int, ...],
    spacing: tuple[Any, ...],
    axis: Any,
    edge_order: Any,
    accuracy: int,
) -> tuple[tuple[int, ...], list[Axis], int]:
    """The checked axes, their spacings and the boundary order of a gradient.

    Shared by the in-memory and the Dask gradients, so that both accept and
    refuse the same arguments with the same messages.
    """
    ndim = len(shape)
    axes = tuple(range(ndim)) if axis is None else normalize_axis_tuple(axis, ndim)
    dx = _parse_spacing(spacing, shape, axes)
    if edge_order not in (1, 2) or isinstance(edge_order, bool):
        raise ValueError(
            f"edge_order must be 1 or 2, got {edge_order!r} ('edge_order' greater than "
            "2 not supported)"
        )
    edge = int(edge_order) if accuracy == 2 else accuracy
    infos: list[Axis] = []
    for i, (ax, d) in enumerate(zip(axes, dx, strict=True)):
        npts = shape[ax]
        name = f"spacing[{i}]" if len(spacing) > 1 else "spacing"
        info = spacing_for_axis(d, npts, name=name, decreasing_ok=True)
        need = min_points(1, accuracy, edge, uniform=info.uniform, periodic=False)
        if npts < need:
            raise ValueError(
                f"y has {npts} point(s) along axis {ax}, but the gradient with "
                f"accuracy={accuracy} and edge_order={edge_order} needs at least "
                f"{need} (shape of array too small to calculate a numerical gradient)"
            )
        infos.append(info)
    return axes, infos, edge


def gradient(
    y: ArrayLike,
    *spacing: Any,
    axis: int | tuple[int, ...] | None = None,
    edge_order: int = 1,
    accuracy: int = 2,
    workers: int | None = None,
    dim: Any = None,
) -> NDArray[Any] | tuple[NDArray[Any], ...]:
    """Gradient of an N-dimensional array, as :func:`numpy.gradient` and beyond.

    Central differences in the interior and one-sided differences at the
    boundaries, on uniform or non-uniform grids.  With the defaults this is
    :func:`numpy.gradient`: the same arguments, shapes, dtypes and (on uniform
    grids) the same numbers to the last bit, computed without array-sized
    temporaries.  ``accuracy`` raises the order of every stencil.

    Parameters
    ----------
    y : array_like
        Samples of a function on a grid.  Integer data becomes float64;
        float16, float32, float64 and complex data keep their dtype.
        PyTorch, CuPy, JAX or array-api-strict arrays (any array-API array)
        are differentiated in their own namespace and give arrays of the same
        kind, on the same device (see the guide "Arrays and scale").  Coordinates may
        be NumPy arrays or arrays of that library.
    *spacing : scalar or array_like, optional
        Either nothing (unit spacing), one scalar (the spacing of every axis),
        or one value per differentiated axis: a scalar spacing or a 1-D array
        of coordinates of the same length as that axis.  Coordinates must be
        finite and strictly monotonic; equally spaced coordinates are reduced
        to their spacing.
    axis : None or int or tuple of ints, optional
        The axes to differentiate along (default: all).  Negative values
        count from the end.
    edge_order : {1, 2}, optional
        Accuracy order of the boundary stencils when ``accuracy=2``.  With a
        higher `accuracy` the boundary stencils have that order and
        `edge_order` is ignored.
    accuracy : int, optional
        Even accuracy order ``p`` of the stencils (2, 4, ..., 24): the error
        is ``O(h**p)`` at every point.  Above 24 the one-sided boundary
        stencils amplify the rounding of the data by more than ``2**21`` and
        are refused (see :func:`numderiv.grid.derivative`).
    workers : int, optional
        Threads for large arrays: ``None`` (default) uses up to 8 cores for
        arrays of at least 2**20 elements and one thread below, ``-1`` all
        cores, ``1`` none.  The result does not depend on it.
    dim : hashable or sequence of hashable, optional
        For an xarray ``DataArray`` `y` only: the dimensions to differentiate
        along, by name (default: all), instead of `axis`; their coordinates are
        the default spacing.  A ``DataArray`` gives ``DataArray`` objects, a Dask
        array lazy Dask arrays (see the guide "Arrays and scale").

    Returns
    -------
    gradient : ndarray or tuple of ndarray
        One array per axis in `axis`, each the shape of `y`; a single array
        when one axis is differentiated, a tuple otherwise.  Arrays of the
        library of `y` (NumPy for array_like input), on its device.

    Raises
    ------
    ValueError
        If `accuracy` is not a positive even integer (or above 24, more than
        float64 can carry to the boundary), `edge_order` is not 1 or 2, an axis has fewer points than the stencils need, or a
        coordinate array has the wrong length or is not finite and strictly
        monotonic (or a spacing is zero or not finite).
    TypeError
        If the number of spacing arguments is wrong, or `y` is boolean or
        not numeric.
    numpy.exceptions.AxisError
        If an axis is out of range.

    See Also
    --------
    derivative : higher derivatives along one axis, periodic boundaries.
    numpy.gradient : the original.

    Notes
    -----
    With ``accuracy=p`` the interior uses the centred stencil of ``p + 1``
    points on a uniform grid, and the ``p + 1`` nearest points (a symmetric
    window) on a non-uniform grid; the first and last ``p/2`` points use
    one-sided stencils on ``p + 1`` points, of the same order ``p``.  Weights
    come from Fornberg's algorithm, as exact rationals on uniform grids.
    Higher orders reduce the truncation error ``C h**p y^(p+1)`` but amplify
    round-off by the sum of the absolute weights, which grows slowly with
    ``p``.

    On uniform grids the interior and boundary formulas for ``accuracy=2``
    are evaluated exactly as NumPy evaluates them, so the results agree
    bit for bit.  On non-uniform grids the weights come from Fornberg's
    recursion rather than NumPy's closed form; they agree to a few units in
    the last place.  Unlike NumPy, repeated, unordered or non-finite
    coordinates, a zero, infinite or complex spacing, ``edge_order`` other
    than 1 or 2, masked arrays and boolean data are refused instead of
    producing infinities or NaNs, or silently changing the formula.  Object,
    datetime and timedelta arrays are refused with :class:`TypeError`.

    The work is done in cache-sized blocks, so each output element is
    written once and no array-sized temporary is made; this gives several
    times NumPy's throughput on large arrays.

    References
    ----------
    .. [1] B. Fornberg, "Generation of finite difference formulas on
       arbitrarily spaced grids", Math. Comp. 51 (1988), 699-706.

    Examples
    --------
    >>> import numpy as np
    >>> import numderiv as nd
    >>> y = np.array([1, 2, 4, 7, 11, 16])
    >>> nd.grid.gradient(y)
    array([1. , 1.5, 2.5, 3.5, 4.5, 5. ])
    >>> nd.grid.gradient(y, 2.0, edge_order=2)
    array([0.25, 0.75, 1.25, 1.75, 2.25, 2.75])

    Coordinates instead of a spacing, and several axes at once:

    >>> x = np.array([0.0, 1.0, 1.5, 3.5, 4.0, 6.0])
    >>> nd.grid.gradient(x**2, x, edge_order=2)
    array([ 0.,  2.,  3.,  7.,  8., 12.])
    >>> dy0, dy1 = nd.grid.gradient(np.array([[1, 2, 6], [3, 4, 5]]))
    >>> dy1
    array([[1. , 2.5, 4. ],
           [1. , 1. , 1. ]])

    Higher accuracy: fourth-order stencils differentiate quartics exactly,
    boundaries included.

    >>> t = np.arange(8.0)
    >>> nd.grid.gradient(t**4, accuracy=4)
    array([  0.,   4.,  32., 108., 256., 500., 864., 1372.])
    """
    if (other := backend_for(y, dim)) is not None:  # xarray, Dask
        return other.gradient(y, *spacing, axis=axis, edge_order=edge_order, accuracy=accuracy, workers=workers, dim=dim)  # fmt: skip
    accuracy = check_accuracy(accuracy)
    check_one_sided(1, accuracy)
    workers = check_workers(workers)
    xp = foreign_namespace(y)
    f, otype = data_array(y) if xp is None else data_array_xp(xp, y)
    spacing = host_spacing(spacing)
    axes, infos, edge = gradient_axes(f.shape, spacing, axis, edge_order, accuracy)
    outs: list[NDArray[Any]] = []
    jobs = []
    for ax, info in zip(axes, infos, strict=True):
        plan = make_plan(
            info, f.shape[ax], 1, accuracy, edge, periodic=False, workers=workers
        )
        if xp is not None:
            outs.append(execute_xp(xp, [Term(f, ax, plan)], otype))
            continue
        out = np.empty(f.shape, dtype=otype)
        outs.append(out)
        jobs.append((out, [Term(f, ax, plan)]))
    execute(jobs, workers)
    if len(axes) == 1:
        return outs[0]
    return tuple(outs)
