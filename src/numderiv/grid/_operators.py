"""Vector calculus on grids: ``laplacian``, ``divergence`` and ``curl``."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._arrays import foreign_namespace
from ._dask import backend_for
from ._derivative import check_points
from ._engine import AxisPlan, Term, execute, make_plan
from ._validate import (
    check_accuracy,
    check_boundary,
    check_one_sided,
    check_workers,
    data_array,
    spacing_for_axis,
)
from ._xp import data_array_xp, execute_xp, host_spacing

__all__ = ["curl", "divergence", "laplacian"]


def _plans(
    spacing: tuple[Any, ...],
    shape: tuple[int, ...],
    n: int,
    accuracy: int,
    boundary: str,
    workers: int | None,
) -> list[AxisPlan]:
    """One plan per grid axis from the spacing arguments (as in ``gradient``)."""
    spacing = host_spacing(spacing)
    ndim = len(shape)
    if len(spacing) == 0:
        per_axis: list[Any] = [1.0] * ndim
    elif len(spacing) == 1 and np.ndim(spacing[0]) == 0:
        per_axis = [spacing[0]] * ndim
    elif len(spacing) == ndim:
        per_axis = list(spacing)
    else:
        raise TypeError(
            f"spacing takes no value, one scalar, or one scalar or 1-D array per "
            f"grid axis ({ndim} here), got {len(spacing)} values"
        )
    periodic = boundary == "periodic"
    if not periodic:
        check_one_sided(n, accuracy)
    plans = []
    for ax, d in enumerate(per_axis):
        name = f"spacing[{ax}]" if len(spacing) > 1 else "spacing"
        info = spacing_for_axis(d, shape[ax], name=name, periodic=periodic)
        check_points(shape[ax], ax, n, accuracy, info, periodic)
        plans.append(
            make_plan(info, shape[ax], n, accuracy, accuracy, periodic=periodic)
        )
    return plans


def _data(y: Any, name: str) -> tuple[Any, NDArray[Any], Any]:
    """The namespace (``None`` for NumPy), the data and the dtype of the result."""
    xp = foreign_namespace(y, name)
    f, otype = data_array(y, name) if xp is None else data_array_xp(xp, y, name)
    return xp, f, otype


def _field(F: ArrayLike, name: str) -> tuple[Any, NDArray[Any], Any]:
    xp, f, otype = _data(F, name)
    if f.ndim < 2 or f.shape[0] != f.ndim - 1:
        raise ValueError(
            f"{name} must have shape (ndim, *grid_shape) with one component per "
            f"grid axis, got shape {tuple(f.shape)}"
        )
    return xp, f, otype


def laplacian(
    y: ArrayLike,
    *spacing: Any,
    accuracy: int = 2,
    boundary: str = "one-sided",
    workers: int | None = None,
    dim: Any = None,
) -> NDArray[Any]:
    """Laplacian ``sum_i d^2 y / dx_i^2`` of an N-dimensional array.

    Parameters
    ----------
    y : array_like
        Samples on a grid, at least 1-D; grid axis ``i`` is coordinate ``i``
        (``numpy.meshgrid(..., indexing="ij")``).  PyTorch, CuPy, JAX or array-api-strict arrays (any array-API array)
        are differentiated in their own namespace and give arrays of the same
        kind, on the same device (see the guide "Arrays and scale").
    *spacing : scalar or array_like, optional
        As in :func:`gradient`: nothing, one scalar for every axis, or one
        spacing or 1-D coordinate array per axis.
    accuracy : int, optional
        Even accuracy order of every stencil.
    boundary : {"one-sided", "periodic"}, optional
        Boundary treatment, on every axis.
    workers : int, optional
        Threads for large arrays, as in :func:`gradient`.
    dim : hashable or sequence of hashable, optional
        For an xarray ``DataArray`` `y` only: the dimensions to take the
        Laplacian over, by name (default: all); their coordinates are the
        default spacing.  A ``DataArray`` gives a ``DataArray``, a Dask
        array a lazy Dask array (see the guide "Arrays and scale").

    Returns
    -------
    lap : ndarray
        Same shape as `y`.

    Raises
    ------
    ValueError
        If `accuracy` or `boundary` is invalid, an axis has too few points or
        coordinates are bad.
    TypeError
        If the number of spacing values is wrong or `y` is not numeric.

    Notes
    -----
    Each term is the second derivative of :func:`derivative` (``n=2``); the
    terms are summed block by block, in cache, so the result is written once.
    At ``accuracy=2`` on a uniform grid the interior is the classic
    ``2 ndim + 1``-point stencil.

    Examples
    --------
    >>> import numpy as np
    >>> import numderiv as nd
    >>> x, y = np.meshgrid(np.arange(5.0), np.arange(4.0), indexing="ij")
    >>> nd.grid.laplacian(x**2 + 3 * y**2)
    array([[8., 8., 8., 8.],
           [8., 8., 8., 8.],
           [8., 8., 8., 8.],
           [8., 8., 8., 8.],
           [8., 8., 8., 8.]])
    """
    if (other := backend_for(y, dim)) is not None:  # xarray, Dask
        return other.laplacian(y, *spacing, accuracy=accuracy, boundary=boundary, workers=workers, dim=dim)  # fmt: skip
    accuracy = check_accuracy(accuracy)
    boundary = check_boundary(boundary)
    workers = check_workers(workers)
    xp, f, otype = _data(y, "y")
    if f.ndim == 0:
        raise ValueError("y must have at least one dimension, got a scalar")
    plans = _plans(spacing, tuple(f.shape), 2, accuracy, boundary, workers)
    terms = [Term(f, ax, p) for ax, p in enumerate(plans)]
    if xp is not None:
        return execute_xp(xp, terms, otype)
    out = np.empty(f.shape, dtype=otype)
    execute([(out, terms)], workers)
    return out


def divergence(
    F: ArrayLike,
    *spacing: Any,
    accuracy: int = 2,
    boundary: str = "one-sided",
    workers: int | None = None,
) -> NDArray[Any]:
    """Divergence ``sum_i dF_i / dx_i`` of a vector field.

    Parameters
    ----------
    F : array_like, shape ``(ndim, *grid_shape)``
        ``F[i]`` is the component along grid axis ``i``.  Array-API arrays
        (PyTorch, CuPy, JAX, ...) give arrays of their kind, as in
        :func:`laplacian`.
    *spacing : scalar or array_like, optional
        As in :func:`gradient`, one value per grid axis (or one for all).
    accuracy : int, optional
        Even accuracy order of every stencil.
    boundary : {"one-sided", "periodic"}, optional
        Boundary treatment, on every axis.
    workers : int, optional
        Threads for large arrays, as in :func:`gradient`.

    Returns
    -------
    div : ndarray, shape grid_shape

    Raises
    ------
    ValueError
        If `F` does not have shape ``(ndim, *grid_shape)``, or as
        :func:`laplacian`.

    Examples
    --------
    >>> import numpy as np
    >>> import numderiv as nd
    >>> x, y = np.meshgrid(np.arange(4.0), np.arange(3.0), indexing="ij")
    >>> nd.grid.divergence(np.stack([x * y, x + y**2]))
    array([[0., 3., 6.],
           [0., 3., 6.],
           [0., 3., 6.],
           [0., 3., 6.]])
    """
    if (other := backend_for(F)) is not None:  # xarray (refused), Dask
        return other.divergence(F, *spacing, accuracy=accuracy, boundary=boundary, workers=workers)  # fmt: skip
    accuracy = check_accuracy(accuracy)
    boundary = check_boundary(boundary)
    workers = check_workers(workers)
    xp, f, otype = _field(F, "F")
    plans = _plans(spacing, tuple(f.shape[1:]), 1, accuracy, boundary, workers)
    terms = [Term(f[i, ...], i, p) for i, p in enumerate(plans)]
    if xp is not None:
        return execute_xp(xp, terms, otype)
    out = np.empty(f.shape[1:], dtype=otype)
    execute([(out, terms)], workers)
    return out


def curl(
    F: ArrayLike,
    *spacing: Any,
    accuracy: int = 2,
    boundary: str = "one-sided",
    workers: int | None = None,
) -> NDArray[Any]:
    """Curl of a 3-D vector field, or the scalar curl of a 2-D one.

    Parameters
    ----------
    F : array_like, shape (3, nx, ny, nz) or (2, nx, ny)
        ``F[i]`` is the component along grid axis ``i``.  Array-API arrays
        (PyTorch, CuPy, JAX, ...) give arrays of their kind, as in
        :func:`laplacian`.
    *spacing : scalar or array_like, optional
        As in :func:`gradient`, one value per grid axis (or one for all).
    accuracy : int, optional
        Even accuracy order of every stencil.
    boundary : {"one-sided", "periodic"}, optional
        Boundary treatment, on every axis.
    workers : int, optional
        Threads for large arrays, as in :func:`gradient`.

    Returns
    -------
    c : ndarray
        Shape ``(3, nx, ny, nz)``: ``(dFz/dy - dFy/dz, dFx/dz - dFz/dx,
        dFy/dx - dFx/dy)``; or shape ``(nx, ny)``: ``dFy/dx - dFx/dy``.

    Raises
    ------
    ValueError
        If `F` is not a 2-D or 3-D vector field, or as :func:`laplacian`.

    Examples
    --------
    A rigid rotation has curl 2 everywhere:

    >>> import numpy as np
    >>> import numderiv as nd
    >>> x, y = np.meshgrid(np.arange(3.0), np.arange(3.0), indexing="ij")
    >>> nd.grid.curl(np.stack([-y, x]))
    array([[2., 2., 2.],
           [2., 2., 2.],
           [2., 2., 2.]])
    """
    if (other := backend_for(F)) is not None:  # xarray (refused), Dask
        return other.curl(F, *spacing, accuracy=accuracy, boundary=boundary, workers=workers)  # fmt: skip
    accuracy = check_accuracy(accuracy)
    boundary = check_boundary(boundary)
    workers = check_workers(workers)
    xp, f, otype = _field(F, "F")
    if f.shape[0] not in (2, 3):
        raise ValueError(
            f"curl needs a 2-D field of shape (2, nx, ny) or a 3-D field of shape "
            f"(3, nx, ny, nz), got F with shape {tuple(f.shape)}"
        )
    p = _plans(spacing, tuple(f.shape[1:]), 1, accuracy, boundary, workers)
    c = [f[i, ...] for i in range(f.shape[0])]
    if f.shape[0] == 2:
        terms = [Term(c[1], 0, p[0]), Term(c[0], 1, p[1], -1)]
        if xp is not None:
            return execute_xp(xp, terms, otype)
        out = np.empty(f.shape[1:], dtype=otype)
        execute([(out, terms)], workers)
        return out
    components = [
        [Term(c[2], 1, p[1]), Term(c[1], 2, p[2], -1)],
        [Term(c[0], 2, p[2]), Term(c[2], 0, p[0], -1)],
        [Term(c[1], 0, p[0]), Term(c[0], 1, p[1], -1)],
    ]
    if xp is not None:
        return xp.stack([execute_xp(xp, t, otype) for t in components], axis=0)
    out = np.empty(f.shape, dtype=otype)
    execute([(out[i], t) for i, t in enumerate(components)], workers)
    return out
